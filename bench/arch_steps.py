"""Seconds per 100 training iterations of each architecture at its recipe's batch size and step ratio.

Runs the real trainer update on random data of the arch's shape (no data loading), prints a table.
Usage: python bench/arch_steps.py [--iters 20]
"""

import argparse
import time

import torch

from genzoo.config import resolve
from genzoo.registry import default_registry
from genzoo.trainer import build_model, make_optimizers, step_ratio, update

RECIPES = {"toy_mlp": "svae-r-toy", "mnist_conv": "svae-r-mnist", "cifar_dcgan": "svae-r-cifar", "celeba_dcgan": "svae-r-celeba"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iters", type=int, default=20)
    args = parser.parse_args()
    registry = default_registry()
    print(f"device cpu, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"{'arch':<14} {'recipe':<15} {'batch':>5} {'D:G':>5} {'s / 100 it':>11}")
    for arch_name, recipe in RECIPES.items():
        config = resolve(recipe, [], registry)
        objective = registry.get("objectives", config.objective.name).cls(config.objective.options)
        arch = registry.get("archs", arch_name).cls(config.arch.options)
        torch.manual_seed(0)
        model = build_model(arch, objective.needs)
        ratio = step_ratio(config, objective)
        optimizers = make_optimizers(model, config.optim, with_critic=ratio.critic > 0)
        x = torch.rand(config.train.batch_size, *arch.data_shape) * 2 - 1

        def iteration():
            for _ in range(ratio.critic):
                update(model, objective, optimizers, "critic", x)
            for _ in range(ratio.generator):
                update(model, objective, optimizers, "generator", x)

        for _ in range(3):
            iteration()
        began = time.perf_counter()
        for _ in range(args.iters):
            iteration()
        per_100 = (time.perf_counter() - began) / args.iters * 100
        print(f"{arch_name:<14} {recipe:<15} {config.train.batch_size:>5} {ratio.critic}:{ratio.generator:<3} {per_100:>11.1f}")


if __name__ == "__main__":
    main()
