"""Where a run's scalars go: metrics.jsonl (always), TensorBoard (optional), the progress bar."""

from __future__ import annotations

import json
from pathlib import Path


class RunLog:
    def __init__(self, run_dir: Path, tensorboard: bool, resume_step: int | None = None, enabled: bool = True):
        self.path = Path(run_dir) / "metrics.jsonl"
        self.enabled = enabled  # False on every process but the first of a multi-process run
        if resume_step is not None and enabled:
            self._drop_rows_after(resume_step)
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(Path(run_dir) / "tensorboard"), purge_step=resume_step)

    def _drop_rows_after(self, step: int) -> None:
        """A resumed run repeats the steps after its checkpoint: forget their old rows."""
        if not self.path.exists():
            return
        rows = [line for line in self.path.read_text().splitlines() if line.strip()]
        kept = [line for line in rows if json.loads(line).get("step", 0) <= step]
        self.path.write_text("".join(line + "\n" for line in kept))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        with self.path.open("a") as fh:
            fh.write(json.dumps({"step": step, **values}) + "\n")
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(key, value, step)

    def images(self, step: int, figures) -> None:
        if self.writer is not None:
            for figure in figures:
                if figure.image is not None:
                    self.writer.add_image(Path(str(figure.path)).stem.split("-")[0], figure.image, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
