"""Training throughput (images/s) per architecture x {eager, compile} x {fp32, bf16} on this device.

Each arch runs its svae-r recipe's batch size and step ratio on random data of its shape (no data
loading), through the trainer's own iteration (`genzoo.step`), channels-last as the
trainer's default picks it. Compile time is reported separately (first iterations), not in the rate.
Usage: python bench/throughput.py [--iters 5] [--archs toy_mlp,mnist_conv,cifar_dcgan,celeba_dcgan]
       [--modes eager,compile] [--precisions fp32,bf16]
"""

import argparse
import time

import torch

from genzoo import factory
from genzoo.assembly import make_optimizers, step_ratio
from genzoo.config import resolve
from genzoo.devices import resolve_device
from genzoo.precision import Precision, compile_nets, use_channels_last
from genzoo.registry import default_registry
from genzoo.step import SideLoss, alternate, take_step

RECIPES = {"toy_mlp": "svae-r-toy", "mnist_conv": "svae-r-mnist", "cifar_dcgan": "svae-r-cifar", "celeba_dcgan": "svae-r-celeba"}


def images_per_second(recipe: str, mode: str, precision: str, iters: int, registry, device) -> tuple[float, float]:
    """(images/s, seconds spent in the first two iterations, which include any compilation)."""
    config = resolve(recipe, [], registry)
    objective = factory.build("objectives", config.objective.name, config.objective.options, registry)
    arch = factory.build("archs", config.arch.name, config.arch.options, registry)
    torch.manual_seed(0)
    model = factory.build_model(arch, objective.needs).to(device)
    if use_channels_last(config.train.channels_last, model):
        model.to(memory_format=torch.channels_last)
    ratio = step_ratio(config, objective)
    optimizers = make_optimizers(model, config.optim, with_critic=ratio.critic > 0)
    sides = {side: SideLoss(objective, model, side) for side in optimizers}
    if mode == "compile":
        torch._dynamo.reset()
        compile_nets(model)
    amp = Precision(precision, device, sides)
    x = torch.rand(config.train.batch_size, *arch.data_shape, device=device).round()

    weights = objective.loss_weights()

    def iteration():
        logs = alternate(ratio, lambda side: take_step(model, sides[side], optimizers[side], amp, side, x, weights).logs)
        float(next(iter(logs.values())))

    began = time.perf_counter()
    iteration(), iteration()
    warmup = time.perf_counter() - began
    began = time.perf_counter()
    for _ in range(iters):
        iteration()
    return iters * config.train.batch_size / (time.perf_counter() - began), warmup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--archs", default=",".join(RECIPES))
    parser.add_argument("--modes", default="eager,compile")
    parser.add_argument("--precisions", default="fp32,bf16")
    args = parser.parse_args()
    registry = default_registry()
    device = resolve_device("auto")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"device {name}, torch {torch.__version__}, {args.iters} timed iterations after 2 warm-up")
    print(f"{'arch':<13} {'mode':<8} {'precision':<9} {'images/s':>10} {'warm-up s':>10}")
    for arch in args.archs.split(","):
        for mode in args.modes.split(","):
            for precision in args.precisions.split(","):
                rate, warmup = images_per_second(RECIPES[arch], mode, precision, args.iters, registry, device)
                print(f"{arch:<13} {mode:<8} {precision:<9} {rate:10.1f} {warmup:10.1f}", flush=True)


if __name__ == "__main__":
    main()
