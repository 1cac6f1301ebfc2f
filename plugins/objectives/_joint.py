"""The one code path of the built-in ALI, ALICE, sVAE and sVAE-r (spec 2.1-2.4).

Critic (eq. 10): sigmoid(f) is the probability that a pair came from the decoder joint, so
    L_D = mean softplus(-f(x~, z)) + mean softplus(f(x, z^)).
Generator/encoder, with the critic frozen:
    L_G = mean link(-f(x, z^)) + mean link(f(x~, z)) + lam * (R_x + R_z)
where link is identity for sVAE (eq. 14, the logit before the sigmoid), softplus for ALI's
non-saturating loss, or sigmoid (the sVAE authors' released code). R_x and R_z are the
reconstruction surrogates of eq. 29 (ALICE's explicit cycle terms), each with fresh noise.

The link enters as one-hot loss weights (`link_identity`, ...) and lam as a weight that is 0 for
ALI and sVAE, so the four objectives form one stacking family: a sweep trains ALICE and sVAE-r
runs in one stack.
"""

from __future__ import annotations

import functools
import operator
from typing import ClassVar, Literal

import attrs
import torch
import torch.nn.functional as F

from genzoo.interfaces import LossOut, Needs, Objective
from genzoo.likelihood import ReconKind
from genzoo.losses import critic_statistics, cycle_terms, joint_critic_loss, joint_pairs

LINKS = {
    "identity": lambda u: u,
    "softplus": F.softplus,
    "sigmoid": torch.sigmoid,
}

Link = Literal["identity", "softplus", "sigmoid"]


@attrs.frozen(kw_only=True)
class CycleOptions:
    """Options of the lambda-weighted cycle terms shared by ALICE and sVAE-r; an objective with
    them lists "lam" in `stackable`."""

    lam: float = attrs.field(default=0.1, validator=attrs.validators.ge(0.0))
    recon: ReconKind = "auto"
    cycles: Literal["xz", "x"] = "xz"


class JointAdversarial(Objective):
    """Base of the joint (x, z) adversarial objectives; subclasses pick the link and options."""

    needs: ClassVar[Needs] = Needs(encoder=True, critic="joint")
    family = "joint-adversarial"
    link: ClassVar[Link] = "identity"

    def loss_weights(self) -> dict:
        link = getattr(self.config, "link", self.link)
        return {"lam": getattr(self.config, "lam", 0.0), **{f"link_{name}": float(name == link) for name in LINKS}}

    def critic_loss(self, model, x, weights):
        pairs = joint_pairs(model, x)
        loss = joint_critic_loss(pairs)
        return LossOut(loss, {"critic": loss.detach(), **critic_statistics(pairs.f_q, pairs.f_p)})

    def generator_loss(self, model, x, weights):
        pairs = joint_pairs(model, x)
        adversarial = functools.reduce(operator.add, [
            weights[f"link_{name}"] * (link(-pairs.f_q).mean() + link(pairs.f_p).mean())
            for name, link in LINKS.items() if self.computes(f"link_{name}")
        ])
        logs = {"adversarial": adversarial.detach()}
        loss = adversarial
        if self.computes("lam"):
            terms = cycle_terms(model, x, pairs, self.config.recon, self.config.cycles)
            logs.update({name: term.detach() for name, term in terms.items()})
            loss = loss + weights["lam"] * functools.reduce(operator.add, terms.values())
        logs["generator"] = loss.detach()
        return LossOut(loss, logs)
