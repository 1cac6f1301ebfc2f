"""Sweeps: stacked runs reproduce single runs, the CLI resumes, the report summarises correctly."""

import csv
import json
import subprocess
import sys

import pytest
import torch

from genzoo.batched import StackedRuns, stack_key
from genzoo.config import resolve
from genzoo.registry import default_registry
from genzoo.report import report, summarize
from genzoo.sweep import load_sweep, plan_units
from genzoo.trainer import Trainer

REGISTRY = default_registry()
SMALL = ["arch.width=16", "arch.depth=1", "batch_size=32", "train.generator_steps=2"]


def _trained_alone(overrides, steps, tmp_path):
    trainer = Trainer(resolve(None, SMALL + overrides, REGISTRY), REGISTRY, tmp_path)
    for _ in range(steps):
        trainer.train_iteration(next(trainer.stream))
    return trainer.model.state_dict()


@pytest.mark.parametrize("shared,varied", [
    *[([f"objective={name}", "lambda=0.2"], ["lr=0.001", "lr=0.005"]) for name in ("alice", "svae_r")],
    *[([f"objective={name}", "lr=0.002"], ["lambda=0.1", "lambda=2"]) for name in ("alice", "svae_r")],
    (["lr=0.002"], ["objective=alice lambda=0.3", "objective=svae_r lambda=0.1"]),  # one family: the link differs
    (["lr=0.002"], ["objective=ali", "objective=svae", "objective=svae objective.link=sigmoid"]),
])
def test_a_stack_reproduces_the_single_runs_it_stacks(shared, varied, tmp_path):
    """Same seeds and shared noise draws: each stacked run must land where `genzoo train` lands,
    whether the stack varies learning rates, the loss weight lambda, or the objective within one
    family (ALICE with sVAE-r, ALI with sVAE: the link function as a per-run weight)."""
    varied = [v.split() for v in varied]
    configs = [resolve(None, SMALL + shared + v, REGISTRY) for v in varied]
    stack = StackedRuns(configs, REGISTRY, torch.device("cpu"), randomness="same")
    for param in stack.params.values():
        param.requires_grad_(True)
    for _ in range(15):
        stack.iteration()
    for r, override in enumerate(varied):
        alone = _trained_alone(shared + override, 15, tmp_path / str(r))
        stacked = stack.run_weights(r)
        assert alone.keys() == stacked.keys()
        for name in alone:
            torch.testing.assert_close(stacked[name], alone[name], rtol=1e-4, atol=1e-5, msg=f"run {r}: {name}")


def test_runs_that_differ_in_shape_or_objective_family_do_not_stack():
    base = resolve(None, ["objective=alice"], REGISTRY)
    assert stack_key(base, REGISTRY) == stack_key(resolve(None, ["objective=alice", "lr=0.005", "seed=3", "lambda=10"], REGISTRY), REGISTRY)
    assert stack_key(base, REGISTRY) == stack_key(resolve(None, ["objective=svae_r", "objective.link=sigmoid"], REGISTRY), REGISTRY)
    assert stack_key(base, REGISTRY) != stack_key(resolve(None, ["objective=svae_r", "objective.cycles=x"], REGISTRY), REGISTRY)
    assert stack_key(base, REGISTRY) != stack_key(resolve(None, ["objective=ali"], REGISTRY), REGISTRY)  # no cycle options
    assert stack_key(base, REGISTRY) != stack_key(resolve(None, ["objective=gan"], REGISTRY), REGISTRY)
    assert stack_key(base, REGISTRY) != stack_key(resolve(None, ["objective=alice", "arch.width=64"], REGISTRY), REGISTRY)
    assert stack_key(base, REGISTRY) != stack_key(resolve(None, ["objective=alice", "generator_steps=1"], REGISTRY), REGISTRY)


def test_the_paper_grid_expands_to_576_cells_per_method_and_lambda():
    sweep = load_sweep("toy-fig3", [], REGISTRY)
    assert len(sweep.runs) == 576 * 2 * 5
    assert len({run.id for run in sweep.runs}) == len(sweep.runs)
    units = plan_units(sweep.runs, REGISTRY, sweep.options)
    assert sum(len(u) for u in units) == len(sweep.runs)
    assert {len(u) for u in units} == {40}  # 2 objectives (one family) x 4 learning rates x 5 lambdas share each shape
    reduced = load_sweep("toy-fig3-reduced", [], REGISTRY)
    assert len(reduced.runs) == 360 and reduced.runs[0].raw["train"]["steps"] == 800


def _genzoo(*args, cwd):
    return subprocess.run([sys.executable, "-m", "genzoo", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_sweep_cli_trains_every_run_then_resumes_only_missing_ones(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        "base: [steps=20, arch.width=16, arch.depth=1, batch_size=32]\n"
        "grid:\n  objective: [alice, svae_r]\n  objective.lam: [0, 0.5]\nseeds: [0, 1]\nsweep: {workers: 2}\n"
    )
    out = tmp_path / "sweep"
    done = _genzoo("sweep", str(spec), f"out={out}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert set(rows[0]) >= {"objective", "objective.lam", "seed", "is", "mse", "diverged", "wall_time_s"}
    assert {row["stack"] for row in rows} == {"8"}  # ALICE and sVAE-r are one family: one stack
    assert all(1.0 <= float(row["is"]) <= 5.0 for row in rows)
    kept = sorted((out / "runs").glob("*.json"))
    stamps = {p: p.stat().st_mtime_ns for p in kept}
    kept[0].unlink()
    again = _genzoo("sweep", str(spec), f"out={out}", "engine=trainer", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert kept[0].is_file() and json.loads(kept[0].read_text())["engine"] == "trainer"
    assert all(p.stat().st_mtime_ns == stamps[p] for p in kept[1:])
    with open(out / "results.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 8


def test_sweep_and_train_refuse_each_others_files_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("grid:\n  arch.widht: [16]\n")
    result = _genzoo("sweep", str(bad), cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "widht" in result.stderr
    result = _genzoo("train", "toy-fig3", cwd=tmp_path)
    assert result.returncode == 2 and "genzoo sweep toy-fig3" in result.stderr
    result = _genzoo("report", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "genzoo sweep" in result.stderr
    result = _genzoo("sweep", "toy-reference", "train.max_minutes=5", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "drop train.max_minutes" in result.stderr


def test_report_summarises_means_and_diverged_share_and_draws(tmp_path):
    rows = [
        {"id": "a", "objective": "alice", "objective.lam": "0.1", "is": "4.0", "mse": "0.1", "diverged": "False"},
        {"id": "b", "objective": "alice", "objective.lam": "0.1", "is": "5.0", "mse": "0.3", "diverged": "False"},
        {"id": "c", "objective": "alice", "objective.lam": "0", "is": "1.0", "mse": "10.0", "diverged": "True"},
        {"id": "d", "objective": "svae_r", "objective.lam": "0", "is": "2.0", "mse": "1.0", "diverged": "False"},
    ]
    with open(tmp_path / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary = {(s["series"], s["panel"]): s for s in summarize(rows, "objective", "objective.lam")}
    assert summary[("alice", "0.1")]["is_mean"] == pytest.approx(4.5)
    assert summary[("alice", "0.1")]["is_std"] == pytest.approx(0.5)
    assert summary[("alice", "0.1")]["mse_mean"] == pytest.approx(0.2)
    assert summary[("alice", "0")]["diverged_share"] == 1.0
    assert summary[("svae_r", "0")]["diverged_share"] == 0.0
    paths = report(tmp_path)
    for path in paths:
        assert path.is_file() and path.stat().st_size > 0
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
