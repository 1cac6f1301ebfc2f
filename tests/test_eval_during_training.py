"""`eval.every`: cheap protocols during training, logged apart from full-protocol numbers,
without changing what the run trains."""

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from genzoo.cli import main

QUIET = ["train.progress=false", "train.tensorboard=false"]


def rows(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_cheap_evaluations_leave_the_weights_as_they_were():
    assert main(["train", "steps=60", "eval.every=30", "out=with", *QUIET]) == 0
    assert main(["train", "steps=60", "out=without", *QUIET]) == 0
    a, b = load_file("with/export/model.safetensors"), load_file("without/export/model.safetensors")
    assert all((a[k] == b[k]).all() for k in a)
    curve = rows("with/eval-curve.jsonl")
    assert [r["step"] for r in curve] == [0, 30, 60] and all(r["protocol"] == "cheap" for r in curve)
    assert curve[-1]["protocols"]["is"]["samples"] == 2000 and curve[-1]["protocols"]["mse"]["items"] == 1000
    assert curve[1]["epoch"] == pytest.approx(30 * 128 / 2048)
    logged = [r for r in rows("with/metrics.jsonl") if "cheap/is" in r]
    assert [r["step"] for r in logged] == [0, 30, 60]
    full = json.loads(Path("with/metrics.json").read_text())
    assert full["details"]["is"]["protocol"]["samples"] == 10_000  # the final numbers keep the full protocol
    coverage = curve[-1]["extras"]["is"]  # which modes the samples fall in, at each point of the curve
    assert len(coverage["class_shares"]) == 5 and sum(coverage["class_shares"]) == pytest.approx(1.0, abs=1e-3)
    assert curve[-1]["is"] == pytest.approx(coverage["classes_effective"] / coverage["classes_per_sample"], rel=0.1)


def test_resume_drops_curve_rows_after_the_checkpoint_and_survives_a_cut_line():
    assert main(["train", "steps=40", "eval.every=10", "train.checkpoint_every=20", "out=run", *QUIET]) == 0
    for name in ("metrics.jsonl", "eval-curve.jsonl"):
        with open(f"run/{name}", "a") as fh:
            fh.write('{"step": 41, "cri')  # a kill in the middle of a write
    assert main(["train", "--resume", "run", "steps=60", *QUIET]) == 0
    steps = [r["step"] for r in rows("run/eval-curve.jsonl")]
    assert steps == [0, 10, 20, 30, 40, 50, 60]


def test_a_metric_without_a_cheap_protocol_is_refused_up_front(capsys):
    assert main(["train", "objective=vae", "steps=5", "eval.every=5", "eval.during=[ais]", "out=run", *QUIET]) == 2
    assert "no cheap protocol" in capsys.readouterr().err
