"""The run folder and its resume policy: where a run writes, when an existing folder may be
reused, and which settings a resumed run may change."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from genzoo import checkpoint
from genzoo.config import build, dump
from genzoo.errors import GenzooError
from genzoo.settings import RunConfig

# Keys that may differ between a run and its resumption: bookkeeping that cannot change the weights.
RESUMABLE_CHANGES = (
    "resume", "overwrite", "out", "eval", "hub", "train.steps", "train.max_minutes", "train.progress", "train.tensorboard", "train.device",
    "train.log_every", "train.checkpoint_every", "train.keep_checkpoints", "train.picture_every",
    "train.divergence_retries", "train.retry_lr_factor", "train.compile", "train.channels_last", "train.threads",
)


def run_dir_for(config: RunConfig) -> Path:
    """The run folder: refuse to reuse one unless resuming or told to overwrite. A folder of a run
    that stopped before its first checkpoint holds nothing to lose and is started afresh."""
    if config.out:
        run_dir = Path(config.out)
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir = Path("runs") / f"{config.objective.name}-{config.arch.name}-{config.data.name}-{stamp}"
    if run_dir.exists() and not run_dir.is_dir():
        raise GenzooError(f"out={run_dir} is a file, not a folder; choose another out=")
    if config.resume.enabled:
        if not (run_dir / "config.yaml").is_file():
            raise GenzooError(f"resume=true but {run_dir} is not a genzoo run folder; set out= to the run to resume")
    elif run_dir.exists() and any(run_dir.iterdir()) and not never_started(run_dir):
        if not config.overwrite:
            raise GenzooError(f"{run_dir} already exists; pass resume=true to continue it, overwrite=true to replace it, or another out=")
        if not (run_dir / "config.yaml").exists():
            raise GenzooError(f"overwrite=true refuses to delete {run_dir}: it is not a genzoo run folder (no config.yaml)")
    return run_dir


def never_started(run_dir: Path) -> bool:
    """A run folder with a config but no checkpoint and no results: it stopped before saving anything."""
    return ((run_dir / "config.yaml").is_file() and not checkpoint.list_checkpoints(run_dir / "checkpoints")
            and not (run_dir / "metrics.json").exists() and not (run_dir / "export").exists())


def fresh_run_folder(run_dir: Path, config: RunConfig) -> None:
    """Empty `run_dir` (or make it) and write the config the run trains with."""
    try:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)
        (run_dir / "config.yaml").write_text(dump(config))
    except OSError as exc:
        raise GenzooError(f"cannot create the run folder {run_dir}: {exc.strerror}; choose a writable out=") from None


def resume_point(run_dir: Path, config: RunConfig, registry) -> tuple[dict, dict]:
    """(tensors, meta) of the newest readable checkpoint in `run_dir`, refusing changed settings."""
    found = checkpoint.list_checkpoints(run_dir / "checkpoints")
    if not found:
        raise GenzooError(f"resume=true but {run_dir / 'checkpoints'} holds no checkpoint; drop resume=true to start afresh")
    errors = []
    for path in reversed(found):
        try:
            tensors, meta = checkpoint.load(path)
        except GenzooError as exc:
            errors.append(str(exc))
            continue
        if errors:
            print(f"warning: newest checkpoint unreadable, resuming from {path.name} instead")
        allowed = RESUMABLE_CHANGES + tuple(config.resume.allow_changes)
        changed = {k for k in _changed_keys(_as_current(meta["config"], registry), config.as_raw()) if not _covered(k, allowed)}
        if changed:
            raise GenzooError(
                f"cannot resume {run_dir}: changed settings {', '.join(sorted(changed))}; "
                f"use the run's own config.yaml, or allow them with resume.allow_changes=[{','.join(sorted(changed))}]"
            )
        return tensors, meta
    raise GenzooError(f"no readable checkpoint in {run_dir / 'checkpoints'}: {errors[0]}")


def _as_current(saved: dict, registry) -> dict:
    """A saved config with this version's defaults filled in, so new options don't count as changes."""
    try:
        return build(saved, registry).as_raw()
    except GenzooError:
        return saved


def _covered(key: str, allowed) -> bool:
    return any(key == a or key.startswith(a + ".") for a in allowed)


def _changed_keys(old: dict, new: dict, prefix: str = "") -> set[str]:
    keys = set(old) | set(new)
    changed = set()
    for key in keys:
        a, b = old.get(key), new.get(key)
        name = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            changed |= _changed_keys(a, b, name + ".")
        elif a != b:
            changed.add(name)
    return changed
