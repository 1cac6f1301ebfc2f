"""The stacked sweep engine and the single-run trainer give the same distribution of results: a
short version of bench/engine_equivalence.py (4 seeds, 300 iterations instead of 10 and 1,600).

Runs of the two engines draw different noise, so single values differ; their means must agree
within three standard errors of the difference (a 3-sigma band, about a 0.3% false alarm rate for
equal distributions, estimated from the runs themselves)."""

import csv
import math
import statistics

import pytest

from genzoo.sweep import load_sweep, run_sweep

SEEDS, STEPS = 4, 300


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    from genzoo.registry import Registry

    registry = Registry()
    folder = tmp_path_factory.mktemp("equivalence")
    spec = folder / "equivalence.yaml"
    spec.write_text(f"base: [steps={STEPS}, objective.lam=0.1]\ngrid:\n  objective: [svae_r, alice]\nseeds: {list(range(SEEDS))}\n")
    rows = {}
    for engine in ("stacked", "trainer"):
        sweep = load_sweep(str(spec), [f"engine={engine}", "workers=1", f"out={folder / engine}"], registry)
        with open(run_sweep(sweep, registry, progress=False), newline="") as fh:
            rows[engine] = list(csv.DictReader(fh))
    return rows


@pytest.mark.parametrize("metric", ["is", "mse"])
@pytest.mark.parametrize("objective", ["svae_r", "alice"])
def test_stacked_and_single_runs_agree_in_mean(tables, objective, metric):
    values = {engine: [float(r[metric]) for r in rows if r["objective"] == objective] for engine, rows in tables.items()}
    assert all(len(v) == SEEDS for v in values.values())
    stacked, trainer = values["stacked"], values["trainer"]
    error = math.sqrt(statistics.variance(stacked) / SEEDS + statistics.variance(trainer) / SEEDS)
    gap = abs(statistics.mean(stacked) - statistics.mean(trainer))
    assert gap <= 3 * error + 1e-3, f"{objective} {metric}: stacked {stacked} vs trainer {trainer}"
