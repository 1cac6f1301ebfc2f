"""GAN (Goodfellow et al.) with the non-saturating generator loss: the x-only case of [sVAE] 4.2."""

import torch
import torch.nn.functional as F

from genzoo.interfaces import LossOut, Needs, Objective


class GAN(Objective):
    """d(x) is the logit that x is real: L_D = softplus(-d(x)) + softplus(d(G(z))), L_G = softplus(-d(G(z)))."""

    needs = Needs(encoder=False, critic="x")

    def critic_loss(self, model, x, weights):
        d = model.critic_logit(torch.cat([x, model.sample(x.shape[0])]))
        d_real, d_fake = d.split(x.shape[0])
        loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        return LossOut(loss, {"critic": loss.detach(), "d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()})

    def generator_loss(self, model, x, weights):
        loss = F.softplus(-model.critic_logit(model.sample(x.shape[0]))).mean()
        return LossOut(loss, {"generator": loss.detach()})
