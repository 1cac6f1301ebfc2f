"""Building blocks for objective authors, used by the built-in objectives themselves: the pairs of
a joint critic and its loss, the critic-logit statistics worth logging, and the cycle
(reconstruction) terms of ALICE and sVAE-r.

Label convention (the paper's): sigmoid(f) is the probability that a pair came from the decoder
joint p(z)p(x|z), so a trained joint critic scores decoder pairs above encoder pairs (f_p > f_q),
and the optimal critic is log p(x, z) - log q(x, z).
"""

from __future__ import annotations

import attrs
import torch
import torch.nn.functional as F

from genzoo.likelihood import ReconKind, reconstruction_error


@attrs.frozen
class JointPairs:
    """Critic logits of encoder pairs (x, z^) and decoder pairs (x~, z), and the pairs' parts."""

    f_q: torch.Tensor
    f_p: torch.Tensor
    z_hat: torch.Tensor
    x_tilde: torch.Tensor
    z: torch.Tensor


def joint_pairs(model, x: torch.Tensor) -> JointPairs:
    """z^ ~ q(z|x) and x~ ~ p(x|z) with z ~ p(z), scored by one critic pass on the concatenation
    [encoder pairs; decoder pairs], so that batch-norm statistics cover both (spec 3.5)."""
    z_hat = model.encode(x)
    z = model.sample_prior(x.shape[0])
    x_tilde = model.decode(z)
    f = model.critic(torch.cat([x, x_tilde]), torch.cat([z_hat, z]))
    f_q, f_p = f.split(x.shape[0])
    return JointPairs(f_q, f_p, z_hat, x_tilde, z)


def joint_critic_loss(pairs: JointPairs) -> torch.Tensor:
    """The joint critic's cross-entropy under the label convention above (eq. 10)."""
    return F.softplus(pairs.f_q).mean() + F.softplus(-pairs.f_p).mean()


def critic_statistics(f_q: torch.Tensor, f_p: torch.Tensor) -> dict[str, torch.Tensor]:
    """Detached scalars to log: mean logit on encoder (f_q) and decoder (f_p) pairs, mean and max |f|.
    A critic that wins outright shows |f| growing without bound."""
    abs_f = torch.cat([f_q, f_p]).detach().abs()
    return {"f_q": f_q.detach().mean(), "f_p": f_p.detach().mean(), "f_abs_mean": abs_f.mean(), "f_abs_max": abs_f.max()}


def cycle_terms(model, x: torch.Tensor, pairs: JointPairs, recon: ReconKind = "auto", cycles: str = "xz") -> dict[str, torch.Tensor]:
    """The reconstruction terms of ALICE and sVAE-r (eq. 29), each with fresh noise: `rec_x`, the
    error of G(z^) against x on the decoder's own scale (binary cross-entropy for a Bernoulli
    decoder, squared error for a Gaussian one), and for cycles="xz" `rec_z`, the squared error of
    E(x~) against z. A λ that weighs their sum is comparable across objectives that use them."""
    terms = {"rec_x": reconstruction_error(model.decoder, x, pairs.z_hat, recon)}
    if cycles == "xz":
        terms["rec_z"] = (model.encode(pairs.x_tilde) - pairs.z).pow(2).mean()
    return terms
