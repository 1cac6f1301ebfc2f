"""WGAN-GP (Gulrajani et al. 2017): Wasserstein critic with a gradient penalty (spec 2.2)."""

import attrs
import torch

from genzoo.interfaces import LossOut, Needs, Objective, StepRatio


class WGANGP(Objective):
    """L_D = E d(x~) - E d(x) + gp * E (|grad d(x^)| - 1)^2 on random interpolates; L_G = -E d(x~)."""

    @attrs.frozen(kw_only=True)
    class Config:
        gp: float = attrs.field(default=10.0, validator=attrs.validators.ge(0.0))

    needs = Needs(encoder=False, critic="x")
    steps = StepRatio(critic=5, generator=1)

    def critic_loss(self, model, x, weights):
        fake = model.sample(x.shape[0])
        d = model.critic_logit(torch.cat([x, fake]))
        d_real, d_fake = d.split(x.shape[0])
        alpha = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device)
        # The penalty's own gradient pass runs in full precision: under fp16 autocast it would
        # underflow, and the gradient scaler only scales the final loss.
        with torch.autocast(x.device.type, enabled=False):
            between = (x + alpha * (fake.to(x.dtype) - x)).requires_grad_(True)
            (grad,) = torch.autograd.grad(model.critic_logit(between).sum(), between, create_graph=True)
            penalty = (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
        wasserstein = d_real.mean() - d_fake.mean()
        loss = -wasserstein + self.config.gp * penalty
        return LossOut(loss, {"critic": loss.detach(), "wasserstein": wasserstein.detach(), "gp": penalty.detach()})

    def generator_loss(self, model, x, weights):
        loss = -model.critic_logit(model.sample(x.shape[0])).mean()
        return LossOut(loss, {"generator": loss.detach()})
