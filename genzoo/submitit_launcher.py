"""`genzoo sweep SPEC launcher=submitit`: a sweep's units (stacks of runs, as the local launcher
groups them) as the jobs of a job array, through submitit, on Slurm or on submitit's local and
debug executors. Each job writes its runs' result files; the table is rebuilt from them as with
the local launcher, so a rerun submits only the runs that have no result yet.

Needs the optional extra: pip install 'genzoo[slurm]'. Job logs go to SWEEP_DIR/submitit/.
"""

from __future__ import annotations

from pathlib import Path

from genzoo.errors import GenzooError, Interrupted


def run_jobs(sweep, units: list[list], out: Path, train_unit, progress: bool = True) -> None:
    """Submit `train_unit(unit, out, engine, threads, device)` as one job per unit, wait for them
    all, and say which failed (their logs name why)."""
    try:
        import submitit
    except ImportError:
        raise GenzooError("launcher=submitit needs submitit: pip install 'genzoo[slurm]'") from None
    from tqdm.auto import tqdm

    options = sweep.options
    if not units:
        return
    folder = out / "submitit"
    executor = submitit.AutoExecutor(folder=folder, cluster=None if options.cluster == "auto" else options.cluster)
    parameters = {"timeout_min": options.timeout_min, "cpus_per_task": options.cpus_per_task, "name": f"genzoo-{sweep.name}",
                  "slurm_array_parallelism": options.array_parallelism}
    if options.gpus_per_task:
        parameters["gpus_per_node"] = options.gpus_per_task
    if options.partition:
        parameters["slurm_partition"] = options.partition
    if options.mem_gb:
        parameters["mem_gb"] = options.mem_gb
    executor.update_parameters(**parameters)
    device = sweep.runs[0].raw["train"]["device"]  # resolved on the node that runs the job
    with executor.batch():
        jobs = [executor.submit(train_unit, unit, str(out), options.engine, options.cpus_per_task, device) for unit in units]
    print(f"submitted {len(jobs)} jobs ({sum(map(len, units))} runs) to {executor.cluster}; logs in {folder}")
    failed = []
    try:
        for job in tqdm(jobs, unit="job", disable=not progress, dynamic_ncols=True):
            try:
                job.result()
            except Exception as exc:  # a failed job: the others' runs are kept
                failed.append(f"{job.job_id} ({type(exc).__name__})")
    except KeyboardInterrupt:
        raise Interrupted(f"stopped waiting; submitted jobs keep running and write into {out}: run the same command once they end") from None
    if failed:
        raise GenzooError(f"{len(failed)} of {len(jobs)} jobs failed: {', '.join(failed[:5])}; see their logs in {folder}, then rerun to retry them")
