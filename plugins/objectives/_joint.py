"""The one code path of the built-in ALI, ALICE, sVAE and sVAE-r (spec 2.1-2.4).

Critic (eq. 10): sigmoid(f) is the probability that a pair came from the decoder joint, so
    L_D = mean softplus(-f(x~, z)) + mean softplus(f(x, z^)).
Generator/encoder, with the critic frozen:
    L_G = mean link(-f(x, z^)) + mean link(f(x~, z)) + lam * (R_x + R_z)
where link is identity for sVAE (eq. 14, the logit before the sigmoid), softplus for ALI's
non-saturating loss, or sigmoid (the sVAE authors' released code). R_x and R_z are the
reconstruction surrogates of eq. 29 (ALICE's explicit cycle terms), each with fresh noise.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import attrs
import torch
import torch.nn.functional as F

from genzoo.interfaces import LossOut, Needs, Objective
from genzoo.likelihood import ReconKind, reconstruction_error

LINKS = {
    "identity": lambda u: u,
    "softplus": F.softplus,
    "sigmoid": torch.sigmoid,
}

Link = Literal["identity", "softplus", "sigmoid"]


@attrs.frozen(kw_only=True)
class CycleOptions:
    """Options of the lambda-weighted cycle terms shared by ALICE and sVAE-r; an objective with
    them declares `stackable = ("lam",)`."""

    lam: float = attrs.field(default=0.1, validator=attrs.validators.ge(0.0))
    recon: ReconKind = "auto"
    cycles: Literal["xz", "x"] = "xz"


class JointAdversarial(Objective):
    """Base of the joint (x, z) adversarial objectives; subclasses pick the link and options."""

    needs: ClassVar[Needs] = Needs(encoder=True, critic="joint")
    link: ClassVar[Link] = "identity"

    def _link(self) -> Link:
        return getattr(self.config, "link", self.link)

    def _pair_logits(self, model, x):
        """One critic pass on [q-pairs; p-pairs] so batch-norm sees both (spec 3.5)."""
        z_hat = model.encode(x)
        z = model.sample_prior(x.shape[0])
        x_tilde = model.decode(z)
        f = model.critic(torch.cat([x, x_tilde]), torch.cat([z_hat, z]))
        f_q, f_p = f.split(x.shape[0])
        return f_q, f_p, z_hat, x_tilde, z

    def critic_loss(self, model, x, weights):
        f_q, f_p, *_ = self._pair_logits(model, x)
        loss = F.softplus(f_q).mean() + F.softplus(-f_p).mean()
        abs_f = torch.cat([f_q, f_p]).detach().abs()
        return LossOut(loss, {
            "critic": loss.detach(),
            "f_q": f_q.detach().mean(),
            "f_p": f_p.detach().mean(),
            "f_abs_mean": abs_f.mean(),
            "f_abs_max": abs_f.max(),
        })

    def generator_loss(self, model, x, weights):
        f_q, f_p, z_hat, x_tilde, z = self._pair_logits(model, x)
        link = LINKS[self._link()]
        adversarial = link(-f_q).mean() + link(f_p).mean()
        logs = {"adversarial": adversarial.detach()}
        loss = adversarial
        if "lam" in self.stackable and self.computes("lam"):
            rec_x = reconstruction_error(model.decoder, x, z_hat, self.config.recon)
            logs["rec_x"] = rec_x.detach()
            cycle = rec_x
            if self.config.cycles == "xz":
                rec_z = (model.encode(x_tilde) - z).pow(2).mean()
                logs["rec_z"] = rec_z.detach()
                cycle = cycle + rec_z
            loss = loss + weights["lam"] * cycle
        logs["generator"] = loss.detach()
        return LossOut(loss, logs)
