"""Where a run's scalars go: metrics.jsonl (always), eval-curve.jsonl (cheap evaluations during
training), TensorBoard (optional), the progress bar."""

from __future__ import annotations

import json
from pathlib import Path

CURVE_FILE = "eval-curve.jsonl"


class RunLog:
    def __init__(self, run_dir: Path, tensorboard: bool, resume_step: int | None = None, enabled: bool = True):
        self.path = Path(run_dir) / "metrics.jsonl"
        self.curve_path = Path(run_dir) / CURVE_FILE
        self.enabled = enabled  # False on every process but the first of a multi-process run
        if resume_step is not None and enabled:
            for path in (self.path, self.curve_path):
                _drop_rows_after(path, resume_step)
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(Path(run_dir) / "tensorboard"), purge_step=resume_step)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        _append(self.path, {"step": step, **values})
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(key, value, step)

    def evaluation(self, step: int, epoch: float, results: dict) -> None:
        """One cheap evaluation (`evaluate`'s output): `cheap/<key>` scalars, and a curve row with protocols."""
        if not self.enabled:
            return
        values = {key: detail["value"] for key, detail in results["details"].items() if detail["value"] is not None}
        self.scalars(step, {f"cheap/{key}": value for key, value in values.items()})
        protocols = {key: detail["protocol"] for key, detail in results["details"].items()}
        extras = {key: extra for key, detail in results["details"].items()
                  if (extra := {k: v for k, v in detail.items() if k not in ("metric", "value", "protocol")})}
        _append(self.curve_path, {"step": step, "epoch": round(epoch, 4), "protocol": "cheap", **values, "protocols": protocols, "extras": extras})

    def images(self, step: int, figures) -> None:
        if self.writer is not None:
            for figure in figures:
                if figure.image is not None:
                    self.writer.add_image(Path(str(figure.path)).stem.split("-")[0], figure.image, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _append(path: Path, row: dict) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(row) + "\n")


def read_rows(path: Path) -> list[dict]:
    """The rows of a .jsonl log; a line cut short by a kill (or otherwise unreadable) is skipped."""
    rows = []
    for line in Path(path).read_text(errors="replace").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _drop_rows_after(path: Path, step: int) -> None:
    """A resumed run repeats the steps after its checkpoint: forget their old rows."""
    if not path.exists():
        return
    kept = [row for row in read_rows(path) if isinstance(row.get("step", 0), int) and row.get("step", 0) <= step]
    path.write_text("".join(json.dumps(row) + "\n" for row in kept))
