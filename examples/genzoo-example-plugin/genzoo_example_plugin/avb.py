"""Adversarial Variational Bayes (Mescheder, Nowozin & Geiger 2017), cited by [sVAE] section 4.

An implicit encoder q(z|x) trained through the ELBO, whose intractable log q(z|x) - log p(z) is
estimated by a critic T(x, z) that tells (x, z ~ q(z|x)) from (x, z ~ p(z)):
    critic:            softplus(-T(x, z^)) + softplus(T(x, z)),   z^ = E(x, eps), z ~ p(z)
    encoder/decoder:   T(x, z^) - log p(x | z^)                   (the negative ELBO, T ~ log q/p)
"""

import torch
import torch.nn.functional as F

from genzoo.interfaces import LossOut, Needs, Objective
from genzoo.likelihood import log_likelihood


class AVB(Objective):
    """Adversarial Variational Bayes: an ELBO with an implicit encoder and a critic for its KL term."""

    needs = Needs(encoder=True, critic="joint", explicit_decoder=True)

    def critic_loss(self, model, x, weights):
        z_hat, z = model.encode(x), model.sample_prior(x.shape[0])
        t_q, t_p = model.critic(torch.cat([x, x]), torch.cat([z_hat, z])).split(x.shape[0])
        loss = F.softplus(-t_q).mean() + F.softplus(t_p).mean()
        return LossOut(loss, {"critic": loss.detach(), "kl_estimate": t_q.detach().mean()})

    def generator_loss(self, model, x, weights):
        z_hat = model.encode(x)
        nll = -log_likelihood(model.decoder, x, z_hat).mean()
        loss = model.critic(x, z_hat).mean() + nll
        return LossOut(loss, {"generator": loss.detach(), "nll": nll.detach()})
