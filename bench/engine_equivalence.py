"""Do stacked runs match single runs in distribution? The same configuration, the same seeds,
trained by the stacked sweep engine (one vmap'd model, each run drawing its own noise) and by the
ordinary trainer (one `genzoo train` per run), compared per objective with a two-sided
Mann-Whitney U test on IS and on MSE. Exactly equal draws are not expected: a stack draws its
noise per run inside vmap, a single run from the global generator; the question is whether the
resulting distributions differ.
Usage: python bench/engine_equivalence.py [--seeds 10] [--steps 1600] [--objectives svae_r,alice] [--lam 0.1]
       (the default recipe otherwise: the toy reference setup of spec 4.2). Needs scipy (pip install scipy).
"""

import argparse
import csv
import statistics
import tempfile
from pathlib import Path

from scipy.stats import mannwhitneyu

from genzoo.registry import default_registry
from genzoo.sweep import load_sweep, run_sweep


def results(spec: Path, engine: str, out: Path, registry) -> list[dict]:
    sweep = load_sweep(str(spec), [f"engine={engine}", "workers=1", f"out={out}"], registry)
    with open(run_sweep(sweep, registry, progress=False), newline="") as fh:
        return list(csv.DictReader(fh))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=1600)
    parser.add_argument("--objectives", default="svae_r,alice")
    parser.add_argument("--lam", type=float, default=0.1)
    args = parser.parse_args()
    registry = default_registry()
    objectives = args.objectives.split(",")
    print(f"{args.seeds} seeds x {objectives}, lambda {args.lam}, {args.steps} iterations, toy reference setup")
    print(f"{'objective':<10} {'metric':<5} {'stacked mean +- sd':>22} {'trainer mean +- sd':>22} {'Mann-Whitney p':>15}")
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "equivalence.yaml"
        spec.write_text(f"base: [steps={args.steps}, objective.lam={args.lam}]\ngrid:\n  objective: [{', '.join(objectives)}]\n"
                        f"seeds: [{', '.join(str(s) for s in range(args.seeds))}]\n")
        rows = {engine: results(spec, engine, Path(tmp) / engine, registry) for engine in ("stacked", "trainer")}
    for objective in objectives:
        for metric in ("is", "mse"):
            values = {e: [float(r[metric]) for r in rows[e] if r["objective"] == objective] for e in rows}
            p = mannwhitneyu(values["stacked"], values["trainer"], alternative="two-sided").pvalue
            shown = {e: f"{statistics.mean(v):.4f} +- {statistics.stdev(v):.4f}" for e, v in values.items()}
            print(f"{objective:<10} {metric:<5} {shown['stacked']:>22} {shown['trainer']:>22} {p:15.3f}")
            print(f"{'':<10} {'':<5} stacked: {' '.join(f'{v:.3f}' for v in values['stacked'])}")
            print(f"{'':<10} {'':<5} trainer: {' '.join(f'{v:.3f}' for v in values['trainer'])}")


if __name__ == "__main__":
    main()
