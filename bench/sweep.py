"""Sweep throughput: stacked runs against one run per process, on the same runs, side by side.

Both engines train the same slice of a sweep (default: the depth-2 cells of
zoo_configs/toy-fig3-reduced.yaml for ALICE and sVAE-r at all five lambdas, 120 runs in four stacks
of 30, fewer iterations) in fresh folders with the same worker layout. The trainer engine's time includes what `genzoo train` does
per run besides training (checkpoint, export, toy picture), as one run per process would.
Prints runs/hour for each and their ratio, the arithmetic done (FLOPs of one training iteration per
run, counted by torch's FlopCounterMode, times iterations) as FLOP/s, and that as a fraction of this
device's measured float32 matrix-multiply peak. Evaluation is included in the wall time of both.
Usage: python bench/sweep.py [--sweep zoo_configs/toy-fig3-reduced.yaml] [--where arch.depth=2
       --where objective=alice] [--steps 100] [--engines stacked,trainer]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import attrs
import torch
from torch.utils.flop_counter import FlopCounterMode

from genzoo import factory
from genzoo.assembly import build_parts, make_optimizers, step_ratio
from genzoo.config import build, parse_value
from genzoo.registry import default_registry
from genzoo.step import alternate, update
from genzoo.sweep import load_sweep, plan_units, run_sweep


def iteration_flops(config, registry) -> int:
    """FLOPs of one training iteration (all critic and generator steps) of one run."""
    objective, arch, dataset = build_parts(config, registry)
    model = factory.build_model(arch, objective.needs)
    ratio = step_ratio(config, objective)
    optimizers = make_optimizers(model, config.optim, with_critic=ratio.critic > 0)
    x = dataset.raw("train")[: config.train.batch_size]
    with FlopCounterMode(display=False) as counter:
        alternate(ratio, lambda side: update(model, objective, optimizers, side, x).logs)
    return counter.get_total_flops()


def matmul_peak(threads: int, size: int = 1024, repeats: int = 20) -> float:
    """Best float32 matmul FLOP/s over a few timed repeats, with `threads` threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * size**3 / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sweep", default="zoo_configs/toy-fig3-reduced.yaml")
    parser.add_argument("--where", action="append", metavar="FACTOR=VALUE", help="keep runs with this factor value")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--engines", default="stacked,trainer")
    args = parser.parse_args()
    registry = default_registry()
    where = {k: parse_value(v) for k, _, v in (w.partition("=") for w in args.where or ["arch.depth=2"])}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in args.engines.split(","):
            sweep = load_sweep(args.sweep, [f"steps={args.steps}", f"engine={engine}", f"out={Path(tmp) / engine}"], registry)
            runs = [r for r in sweep.runs if all(r.factors.get(k) == v for k, v in where.items())]
            sweep = attrs.evolve(sweep, runs=runs)
            start = time.perf_counter()
            run_sweep(sweep, registry, progress=False)
            results[engine] = time.perf_counter() - start
    flops = sum(iteration_flops(build(r.raw, registry), registry) for r in runs) * args.steps
    cores = len(os.sched_getaffinity(0))
    peak = matmul_peak(cores)
    print(f"{len(runs)} runs ({', '.join(f'{k}={v}' for k, v in where.items())}; {args.steps} iterations each) from {args.sweep}; "
          f"{flops / 1e12:.3f} TFLOP of training arithmetic; matmul peak {peak / 1e9:.1f} GFLOP/s on {cores} cores")
    stacks = [len(unit) for unit in plan_units(runs, registry, attrs.evolve(sweep.options, engine="stacked"))]
    print(f"stacked engine: {len(stacks)} stacks of {', '.join(map(str, sorted(set(stacks))))} runs")
    print(f"{'engine':<10} {'wall s':>8} {'runs/hour':>10} {'GFLOP/s':>8} {'of peak':>8}")
    for engine, seconds in results.items():
        print(f"{engine:<10} {seconds:8.1f} {len(runs) * 3600 / seconds:10.0f} {flops / seconds / 1e9:8.2f} {flops / seconds / peak:8.1%}")
    if {"stacked", "trainer"} <= set(results):
        print(f"stacked / trainer throughput ratio: {results['trainer'] / results['stacked']:.2f}x")


if __name__ == "__main__":
    main()
