"""`genzoo sweep SPEC`: a grid of training runs in parallel worker processes, resumable, one table.

A sweep file holds `base` (settings every run shares, as `genzoo train` key=value pairs or a
nested mapping), `grid` (setting -> list of values; every combination is one cell), `seeds` (each
cell runs once per seed) and optional `sweep` options. A finished run writes
SWEEP_DIR/runs/<id>.json, where the id hashes the run's whole config; results.csv is rebuilt
from those files, so an interrupted sweep resumes by skipping them, and a changed setting makes
new ids instead of reusing stale results.

Engines: `stacked` trains same-shape runs as one stacked model (genzoo.batched); `trainer` runs
each through the ordinary single-run trainer, in its own folder, for archs that cannot stack.
"""

from __future__ import annotations

from concurrent import futures
import csv
import hashlib
import io
import itertools
import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Literal

import attrs

from genzoo.checkpoint import write_text_atomically
from genzoo.config import build, default_raw, load_yaml, merge, parse_overrides, patch_from_pairs
from genzoo.options import structure
from genzoo.errors import GenzooError, Interrupted

METRIC_COLUMNS = ("is", "is_std", "mse", "diverged", "wall_time_s", "steps", "stack", "engine", "device")


@attrs.frozen(kw_only=True)
class SweepOptions:
    """How a sweep is executed; none of these change a run's result."""

    engine: Literal["stacked", "trainer"] = "stacked"
    max_stack: int = attrs.field(default=64, validator=attrs.validators.gt(0))
    workers: int = attrs.field(default=0, validator=attrs.validators.ge(0))  # 0: one per CPU core, or per GPU
    out: str | None = None
    launcher: Literal["local", "submitit"] = "local"  # submitit: one job per unit (genzoo.submitit_launcher)
    cluster: Literal["auto", "slurm", "local", "debug"] = "auto"  # submitit's executor; auto: Slurm where sbatch exists
    partition: str | None = None
    timeout_min: int = attrs.field(default=60, validator=attrs.validators.gt(0))
    gpus_per_task: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    cpus_per_task: int = attrs.field(default=1, validator=attrs.validators.gt(0))
    mem_gb: int | None = attrs.field(default=None, validator=attrs.validators.optional(attrs.validators.gt(0)))
    array_parallelism: int = attrs.field(default=64, validator=attrs.validators.gt(0))


@attrs.frozen
class SweepRun:
    id: str
    factors: dict
    raw: dict


@attrs.frozen
class Sweep:
    name: str
    runs: list
    grid_keys: tuple
    options: SweepOptions


def load_sweep(path: str, overrides: list[str], registry) -> Sweep:
    """Read a sweep file (or a sweep named in the recipe folders) and expand its grid."""
    file = Path(path)
    if file.suffix not in (".yaml", ".yml"):
        file = registry.sweeps().get(path)
        if file is None:
            raise GenzooError(f"unknown sweep {path!r}: give a sweep file or one of {', '.join(registry.sweeps()) or '(none)'}")
    spec = load_yaml(file)
    unknown = sorted(set(spec) - {"base", "grid", "seeds", "sweep"})
    if unknown:
        raise GenzooError(f"{file}: unknown sweep key {unknown[0]!r}; a sweep file holds base, grid, seeds and sweep")
    grid = spec.get("grid") or {}
    if not isinstance(grid, dict) or not grid or not all(isinstance(v, list) and v for v in grid.values()):
        raise GenzooError(f"{file}: grid must map each setting to a non-empty list of values")
    seeds = spec.get("seeds", [0])
    if not isinstance(seeds, list) or not all(isinstance(s, int) for s in seeds):
        raise GenzooError(f"{file}: seeds must be a list of integers")
    option_keys = {f.name for f in attrs.fields(SweepOptions)}
    option_patch = {k.partition("=")[0]: k for k in overrides if k.partition("=")[0] in option_keys}
    options = structure(SweepOptions, {**(spec.get("sweep") or {}), **parse_overrides(list(option_patch.values()))}, "sweep")
    base = spec.get("base") or {}
    base = parse_overrides(base) if isinstance(base, list) else patch_from_pairs(base.items())
    base = merge(base, parse_overrides([o for o in overrides if o.partition("=")[0] not in option_keys]))
    base = merge(default_raw(registry), base)
    runs = []
    for values in itertools.product(*grid.values()):
        for seed in seeds:
            factors = {**dict(zip(grid, values)), "seed": seed}
            raw = merge(base, patch_from_pairs(factors.items()))
            raw = build(raw, registry).as_raw()  # every run is validated before any starts
            if raw["train"]["max_minutes"]:
                raise GenzooError("train.max_minutes bounds one `genzoo train`; a sweep stops with Ctrl-C (or timeout) and resumes "
                                  "its unfinished runs when run again: drop train.max_minutes")
            digest = hashlib.sha1(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:12]
            runs.append(SweepRun(digest, factors, raw))
    return Sweep(file.stem, runs, tuple(grid) + ("seed",), options)


def sweep_dir_for(sweep: Sweep) -> Path:
    return Path(sweep.options.out or Path("sweeps") / sweep.name)


def plan_units(runs: list, registry, options: SweepOptions) -> list[list]:
    """Work units: stacks of runs that can train together (or single runs for `trainer`)."""
    if options.engine == "trainer":
        return [[run] for run in runs]
    from genzoo.batched import stack_key

    stacks: dict[str, list] = {}
    for run in runs:
        stacks.setdefault(stack_key(build(run.raw, registry), registry), []).append(run)
    units = []
    for members in stacks.values():
        units += [members[i : i + options.max_stack] for i in range(0, len(members), options.max_stack)]
    return units


def run_sweep(sweep: Sweep, registry, progress: bool = True) -> Path:
    """Train every unfinished run of `sweep`; returns the path of the results table."""
    from tqdm.auto import tqdm

    out = sweep_dir_for(sweep)
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenzooError(f"cannot create the sweep folder {out}: {exc.strerror}; choose a writable out=") from None
    todo = [run for run in sweep.runs if not (out / "runs" / f"{run.id}.json").is_file()]
    steps_of = {run.id: run.raw["train"]["steps"] for run in sweep.runs}
    units = plan_units(todo, registry, sweep.options)
    if sweep.options.launcher == "submitit":
        from genzoo.submitit_launcher import run_jobs

        run_jobs(sweep, [[(r.id, r.factors, r.raw) for r in unit] for unit in units], out, train_unit, progress)
        return write_table(sweep, out)
    workers, threads, device = _worker_layout(sweep.options.workers, len(units), sweep.runs[0].raw)
    total = sum(steps_of.values())
    bar = tqdm(total=total, initial=total - sum(steps_of[r.id] for r in todo), unit="run-it", disable=not progress, dynamic_ncols=True, mininterval=0.5)
    finished = len(sweep.runs) - len(todo)
    bar.set_postfix(runs=f"{finished}/{len(sweep.runs)}", workers=workers)
    began = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    gpus = manager.Queue()
    for index in range(workers):
        gpus.put(index)
    pool = futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_claim_gpu, initargs=(gpus, device))
    try:
        queue = manager.Queue()
        pending = {pool.submit(train_unit, [(r.id, r.factors, r.raw) for r in unit], str(out), sweep.options.engine, threads, device, queue): unit for unit in units}
        while pending:
            done, _ = futures.wait(pending, timeout=0.5, return_when=futures.FIRST_COMPLETED)
            while not queue.empty():
                bar.update(queue.get())
            for future in done:
                unit = pending.pop(future)
                future.result()
                finished += len(unit)
                bar.set_postfix(runs=f"{finished}/{len(sweep.runs)}", workers=workers)
                write_table(sweep, out)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        write_table(sweep, out)
        raise Interrupted(f"interrupted: {finished} of {len(sweep.runs)} runs are saved in {out}; run the same command again to resume") from None
    finally:
        bar.close()
        pool.shutdown(wait=True, cancel_futures=True)
        manager.shutdown()
        _log_invocation(out, sweep, len(todo), len(sweep.runs) - finished, workers, threads, device, time.perf_counter() - began)
    return write_table(sweep, out)


def _log_invocation(out: Path, sweep: Sweep, todo: int, left: int, workers: int, threads: int, device: str, seconds: float) -> None:
    """One line per `genzoo sweep` call in invocations.jsonl: the compute a sweep's table cost."""
    entry = {
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "wall_time_s": round(seconds, 1), "runs_trained": todo - left,
        "runs_left": left, "workers": workers, "threads_per_worker": threads, "device": device, "engine": sweep.options.engine,
    }
    with open(out / "invocations.jsonl", "a") as fh:
        fh.write(json.dumps(entry) + "\n")


def _worker_layout(requested: int, units: int, raw: dict) -> tuple[int, int, str]:
    """(worker processes, threads each, device): one worker per GPU, else one per CPU core."""
    import torch

    from genzoo.devices import resolve_device

    device = resolve_device(raw["train"]["device"])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    default = torch.cuda.device_count() if device.type == "cuda" else cores
    workers = max(1, min(requested or default, units or 1))
    return workers, max(1, cores // workers), str(device)


def _claim_gpu(gpus, device: str) -> None:
    """Worker start-up: with CUDA, each worker takes its own GPU ("cuda" then means that one)."""
    index = gpus.get()
    if device.startswith("cuda"):
        import torch

        torch.cuda.set_device(index % torch.cuda.device_count())


def train_unit(members: list, out: str, engine: str, threads: int, device: str, queue=None) -> None:
    """Worker or cluster job: train one unit and write each run's result file; `queue` (if any)
    receives iterations done, for the progress bar."""
    import torch

    from genzoo.devices import resolve_device
    from genzoo.registry import default_registry

    report = queue.put if queue is not None else (lambda n: None)
    device = str(resolve_device(device))
    torch.set_num_threads(threads)
    registry = default_registry()
    configs = [build(raw, registry) for _, _, raw in members]
    began = time.perf_counter()
    if engine == "stacked":
        from genzoo.batched import StackedRuns

        stack = StackedRuns(configs, registry, torch.device(device))
        results = stack.fit(configs[0].train.steps, progress=lambda n: report(n * len(members)))
        seconds = [(time.perf_counter() - began) / len(members)] * len(members)
    else:
        results, seconds = [], []
        for (run_id, _, raw), config in zip(members, configs):
            started = time.perf_counter()
            results.append(_train_alone(raw, Path(out) / "runs" / run_id, registry))
            seconds.append(time.perf_counter() - started)
            report(config.train.steps)
    for (run_id, factors, raw), metrics, wall in zip(members, results, seconds):
        record = {
            "id": run_id, "factors": factors, "metrics": metrics, "wall_time_s": round(wall, 3),
            "steps": raw["train"]["steps"], "stack": len(members) if engine == "stacked" else 1, "engine": engine,
            "device": device, "config": raw,
        }
        write_text_atomically(Path(out) / "runs" / f"{run_id}.json", json.dumps(record, default=str) + "\n")


def _train_alone(raw: dict, run_dir: Path, registry) -> dict:
    """One run through the ordinary trainer, quietly, in its own folder (resumable on its own)."""
    from genzoo.errors import TrainingDiverged
    from genzoo.trainer import train

    quiet = {"out": str(run_dir), "train": {"progress": False, "tensorboard": False, "picture_every": 0}}
    resume = {"resume": {"enabled": (run_dir / "config.yaml").is_file() and any((run_dir / "checkpoints").glob("*"))}, "overwrite": True}
    config = build(merge(merge(raw, quiet), resume), registry)
    try:
        return train(config, registry)[1]["metrics"]
    except TrainingDiverged as exc:
        return {"diverged": True, "error": str(exc)}


def write_table(sweep: Sweep, out: Path) -> Path:
    """results.csv: one row per finished run, in grid order, with every factor and metric."""
    path = out / "results.csv"
    rows = []
    for run in sweep.runs:
        file = out / "runs" / f"{run.id}.json"
        if not file.is_file():
            continue
        record = json.loads(file.read_text())
        metrics = record["metrics"]
        rows.append({
            "id": run.id, **run.factors,
            "is": metrics.get("is"), "is_std": (metrics.get("details", {}).get("is") or {}).get("std"),
            "mse": metrics.get("mse"), "diverged": bool(metrics.get("diverged")),
            **{k: record[k] for k in ("wall_time_s", "steps", "stack", "engine", "device")},
        })
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["id", *sweep.grid_keys, *METRIC_COLUMNS])
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomically(path, text.getvalue())
    return path
