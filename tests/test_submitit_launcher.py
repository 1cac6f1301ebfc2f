"""`genzoo sweep ... launcher=submitit` on submitit's local executor (real job processes, no
cluster): the same results.csv as the local launcher, and a rerun resubmits only missing runs."""

import csv
import subprocess
import sys

SPEC = (
    "base: [steps=20, arch.depth=1, batch_size=32]\n"
    "grid:\n  objective: [alice, svae_r]\n  arch.width: [8, 16]\nseeds: [0]\n"
)


def genzoo(*args, cwd):
    return subprocess.run([sys.executable, "-m", "genzoo", *args], capture_output=True, text=True, cwd=cwd, timeout=900)


def table(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_submitit_jobs_give_the_local_launchers_table_and_resume(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    local = genzoo("sweep", str(spec), f"out={tmp_path / 'local'}", "workers=1", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    jobs = genzoo("sweep", str(spec), f"out={tmp_path / 'jobs'}", "launcher=submitit", "cluster=local", cwd=tmp_path)
    assert jobs.returncode == 0, jobs.stderr
    assert "submitted 2 jobs (4 runs) to local" in jobs.stdout  # one job per stack: one per width
    assert any((tmp_path / "jobs" / "submitit").glob("*_log.out"))

    by_local, by_jobs = table(tmp_path / "local" / "results.csv"), table(tmp_path / "jobs" / "results.csv")
    assert list(by_jobs[0]) == list(by_local[0]) and len(by_jobs) == 4
    varying = {"wall_time_s"}  # everything else, metrics included, is the same computation
    assert [{k: v for k, v in row.items() if k not in varying} for row in by_jobs] == [{k: v for k, v in row.items() if k not in varying} for row in by_local]

    missing = sorted((tmp_path / "jobs" / "runs").glob("*.json"))[0]
    missing.unlink()
    again = genzoo("sweep", str(spec), f"out={tmp_path / 'jobs'}", "launcher=submitit", "cluster=local", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "submitted 1 jobs (1 runs)" in again.stdout and missing.is_file()
    assert len(table(tmp_path / "jobs" / "results.csv")) == 4
