"""AIS cost against its limit: the decoder's own forward+backward throughput, measured side by side.

(a) decoder forward + backward w.r.t. z on a batch of images x chains, timed alone;
(b) AIS at small settings on the same batch, counted in decoder passes (T x (L + 2) per chain).
Prints passes/s for both, their ratio (goal >= 0.8), and the projected wall time of the paper-scale
protocol (1,000 images x 16 chains x 10,000 steps, L = 10) on this device.
Usage: python bench/ais.py [--arch mnist_conv] [--images 10] [--chains 16] [--steps 100]
"""

import argparse
import time

import torch

from genzoo.ais import AISConfig, ais
from genzoo.likelihood import log_likelihood
from genzoo import factory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="mnist_conv")
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--chains", type=int, default=16)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--leapfrog", type=int, default=10)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    objective = factory.build("objectives", "vae")
    arch = factory.build("archs", args.arch)
    model = factory.build_model(arch, objective.needs).to(device).eval()
    model.decoder.requires_grad_(False)
    rows = args.images * args.chains
    x = torch.bernoulli(torch.full((rows, *arch.data_shape), 0.13, device=device))

    def log_lik(z):
        return log_likelihood(model.decoder, x, z.float()).double()

    z = torch.randn(rows, arch.prior.dim, device=device, dtype=torch.float64, requires_grad=True)
    for _ in range(3):  # warm-up
        torch.autograd.grad(log_lik(z).sum(), z)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    began, reps = time.perf_counter(), 20
    for _ in range(reps):
        torch.autograd.grad(log_lik(z).sum(), z)
    sync()
    limit = reps * rows / (time.perf_counter() - began)

    config = AISConfig(steps=args.steps, chains=args.chains, leapfrog=args.leapfrog)
    began = time.perf_counter()
    ais(log_lik, arch.prior, args.images, config, device=device)
    sync()
    seconds = time.perf_counter() - began
    passes = rows * (args.steps - 1) * (args.leapfrog + 2)
    achieved = passes / seconds
    paper = 1000 * 16 * 10_000 * 12
    print(f"device {device}, arch {args.arch}, batch {rows} (= {args.images} images x {args.chains} chains)")
    print(f"decoder forward+backward alone: {limit:,.0f} image-passes/s")
    print(f"AIS T={args.steps} L={args.leapfrog}:          {achieved:,.0f} image-passes/s ({seconds:.1f} s)")
    print(f"ratio AIS / decoder limit: {achieved / limit:.2f}")
    print(f"projected paper-scale AIS (1,000 x 16 x 10,000, L=10 = {paper:.2e} passes): {paper / achieved / 3600:,.1f} h on this device")


if __name__ == "__main__":
    main()
