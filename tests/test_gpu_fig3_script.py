"""bench/gpu_fig3.sh, the prepared GPU job for the Fig. 3 grid, rehearsed on the CPU with a tiny grid:
it calibrates, trains the grid, brings back at most 8 files, and a second slot resumes from the first."""

import csv
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = "base: {steps: 10, arch: {width: 8, depth: 1}}\ngrid:\n  objective: [alice, svae_r]\n  objective.lam: [0, 1]\nseeds: [0]\n"


def _slot(tmp_path, out, **extra):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DEVICE": "cpu",
           "SWEEP": str(tmp_path / "tiny.yaml"), "CAL_STEPS": "2", "CAL": "20", "TIME": "60", "WORKERS": "2",
           "OUT": str(tmp_path / out), "OMP_NUM_THREADS": "1", **extra}
    done = subprocess.run(["bash", str(ROOT / "bench" / "gpu_fig3.sh")], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_the_grid_job_calibrates_trains_reports_and_resumes(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    log = _slot(tmp_path, "first")
    assert "workers=2: 4 runs of 2 iterations" in log and "projected whole grid" in log
    assert "grid: 4 of 4 runs finished (0 before this slot)" in log
    brought_back = sorted(p.name for p in (tmp_path / "first").iterdir())
    assert brought_back == ["fig3-runs.tgz", "fig3.png", "grid.log", "results.csv", "summary.csv", "table.png"]
    rows = list(csv.DictReader((tmp_path / "first" / "results.csv").open()))
    assert sorted(r["objective"] for r in rows) == ["alice", "alice", "svae_r", "svae_r"]
    assert {r["stack"] for r in rows} == {"4"}  # ALICE and sVAE-r runs share one stack
    again = _slot(tmp_path, "second", RESUME=str(tmp_path / "first" / "fig3-runs.tgz"), CAL="1")
    assert "grid: 4 of 4 runs finished (4 before this slot)" in again
