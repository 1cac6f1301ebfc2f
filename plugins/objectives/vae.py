"""VAE (Kingma & Welling): maximise the ELBO with a Gaussian encoder and an explicit decoder."""

import torch

from genzoo.interfaces import LossOut, Needs, Objective, StepRatio
from genzoo.likelihood import log_likelihood


class VAE(Objective):
    """Loss = -E_q log p(x|z) + KL(q(z|x) || p(z)), summed over coordinates, mean over the batch."""

    needs = Needs(encoder=True, critic=None, explicit_encoder=True, explicit_decoder=True)
    steps = StepRatio(critic=0, generator=1)

    def generator_loss(self, model, x, weights):
        if model.prior.kind != "normal":
            raise TypeError("the VAE objective needs a standard normal prior")
        q = model.encoder.posterior(x)
        z = q.rsample()
        nll = -log_likelihood(model.decoder, x, z).mean()
        prior = torch.distributions.Normal(torch.zeros_like(z), torch.ones_like(z))
        kl = torch.distributions.kl_divergence(q, prior).sum(-1).mean()
        loss = nll + kl
        return LossOut(loss, {"generator": loss.detach(), "nll": nll.detach(), "kl": kl.detach()})
