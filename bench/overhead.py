"""What genzoo's trainer costs: its steps/s against a minimal hand-written PyTorch loop doing the same
math (sVAE-r: critic eq. 10, generator eq. 14 + lambda-weighted cycles) with the same nets, the
same batch and step ratio, interleaved round by round in one process. Goal: trainer >= 0.97x.

The trainer side is `Trainer.fit` itself (progress bar, logging every 50 steps, one checkpoint at
the end) and reports its own loop time; evaluation and export after the loop are not counted.
Usage: python bench/overhead.py [--steps 200] [--rounds 3] [--archs toy_mlp,mnist_conv] [--data-root ../shared/data]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from genzoo.config import resolve
from genzoo.registry import default_registry
from genzoo.trainer import Trainer

RECIPES = {"toy_mlp": None, "mnist_conv": "svae-r-mnist"}


def hand_loop(trainer: Trainer, steps: int) -> float:
    """The same iterations written out by hand on the trainer's own nets, optimizers and data."""
    model, lam = trainer.model, trainer.config.objective.options.lam
    enc, dec, critic = model.encoder, model.decoder, model.critic
    opt_g, opt_c = trainer.optimizers["generator"], trainer.optimizers["critic"]
    data = trainer.dataset.raw("train").to(trainer.device)
    batch, to_model = trainer.config.train.batch_size, trainer.dataset.to_model
    bernoulli = getattr(dec, "observation", "gaussian") == "bernoulli"

    def pair_logits(x):
        z_hat = enc(x, enc.sample_noise(x.shape[0], x.device))
        z = model.sample_prior(x.shape[0])
        x_tilde = dec(z, dec.sample_noise(z.shape[0], z.device))
        f = critic(torch.cat([x, x_tilde]), torch.cat([z_hat, z]))
        return *f.split(x.shape[0]), z_hat, x_tilde, z

    start = time.perf_counter()
    for _ in range(steps):
        x = to_model(data[torch.randint(len(data), (batch,), device=data.device)])
        for _ in range(trainer.ratio.critic):
            enc.requires_grad_(False), dec.requires_grad_(False), critic.requires_grad_(True)
            f_q, f_p, *_ = pair_logits(x)
            loss = F.softplus(f_q).mean() + F.softplus(-f_p).mean()
            opt_c.zero_grad(set_to_none=True)
            loss.backward()
            opt_c.step()
        for _ in range(trainer.ratio.generator):
            enc.requires_grad_(True), dec.requires_grad_(True), critic.requires_grad_(False)
            f_q, f_p, z_hat, x_tilde, z = pair_logits(x)
            noise = dec.sample_noise(x.shape[0], x.device)
            if bernoulli:
                rec_x = F.binary_cross_entropy_with_logits(dec.logits(z_hat, noise), x)
            else:
                rec_x = (dec(z_hat, noise) - x).pow(2).mean()
            rec_z = (enc(x_tilde, enc.sample_noise(x.shape[0], x.device)) - z).pow(2).mean()
            loss = -f_q.mean() + f_p.mean() + lam * (rec_x + rec_z)
            opt_g.zero_grad(set_to_none=True)
            loss.backward()
            opt_g.step()
    float(loss.detach())  # wait for the device, as the trainer's logging does
    return time.perf_counter() - start


def trainer_loop(recipe, overrides, steps: int, out: Path, registry) -> float:
    config = resolve(recipe, [*overrides, f"steps={steps}", f"out={out}", "overwrite=true", "train.tensorboard=false",
                              "train.picture_every=0", f"train.checkpoint_every={steps}"], registry)
    trainer = Trainer(config, registry, out)
    out.mkdir(parents=True, exist_ok=True)
    trainer.fit()
    return trainer.elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--archs", default="toy_mlp,mnist_conv")
    parser.add_argument("--data-root", default="../shared/data", help="holds MNIST/ for mnist_conv")
    args = parser.parse_args()
    registry = default_registry()
    print(f"device {'cuda' if torch.cuda.is_available() else 'cpu'}, {torch.get_num_threads()} threads, {args.steps} iterations per timing")
    print(f"{'arch':<11} {'hand it/s':>10} {'genzoo it/s':>12} {'ratio':>7}  (median of {args.rounds} interleaved rounds)")
    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.archs.split(","):
            recipe = RECIPES[arch]
            overrides = [f"data.root={args.data_root}", "eval.every=0", "eval.metrics=[mse]"] if recipe else []
            hand, ours = [], []
            config = resolve(recipe, [*overrides, "train.tensorboard=false"], registry)
            reference = Trainer(config, registry, Path(tmp) / "hand")
            hand_loop(reference, 5)  # warm-up
            for round_ in range(args.rounds):
                hand.append(args.steps / hand_loop(reference, args.steps))
                ours.append(args.steps / trainer_loop(recipe, overrides, args.steps, Path(tmp) / f"{arch}-{round_}", registry))
            h, o = statistics.median(hand), statistics.median(ours)
            print(f"{arch:<11} {h:10.2f} {o:12.2f} {o / h:7.3f}")


if __name__ == "__main__":
    main()
