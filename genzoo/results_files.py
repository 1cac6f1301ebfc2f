"""metrics.json and the model card of an exported model: written together at export, and merged
with new results by `genzoo eval`, so the two files always agree."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from genzoo.checkpoint import write_text_atomically
from genzoo.config import load_yaml
from genzoo.errors import GenzooError
from genzoo.model_card import render_card


def write_results(folder: Path, meta: dict, recipe: dict, metrics: dict) -> None:
    """metrics.json and the model card (README.md) of an export, written together so they agree."""
    picture = next((p.name for p in sorted(Path(folder).glob("*.png"))), None)
    (Path(folder) / "README.md").write_text(render_card(meta, recipe, metrics, picture))
    (Path(folder) / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")


def record_results(export: Path, results: dict) -> list[Path]:
    """Merge new results into the export's metrics.json (and its run's, when it is a run's export)
    and rewrite the model card; the values are printed before, so a failed write loses nothing."""

    def merged(path: Path) -> dict:
        try:
            old = json.loads(path.read_text()) if path.is_file() else {}
        except (OSError, ValueError):
            print(f"warning: {path} was unreadable; it now holds only the new results", file=sys.stderr)
            old = {}
        old = old if isinstance(old, dict) else {}
        details = old.get("details") if isinstance(old.get("details"), dict) else {}
        return {**old, **{k: v for k, v in results.items() if k != "details"}, "details": {**details, **results["details"]}}

    run = export.parent if (export.parent / "config.yaml").is_file() and export.name == "export" else None
    meta = json.loads((export / "config.json").read_text())
    try:
        recipe = load_yaml(run / "config.yaml") if run else meta
    except GenzooError:
        recipe = meta  # a damaged run config: the card shows the export's own config
    written = []
    try:
        metrics = merged(export / "metrics.json")
        write_results(export, meta, recipe, metrics)
        written.append(export / "metrics.json")
        if run is not None and (run / "metrics.json").is_file():
            write_text_atomically(run / "metrics.json", json.dumps(merged(run / "metrics.json"), indent=2, default=str) + "\n")
            written.append(run / "metrics.json")
    except OSError as exc:
        raise GenzooError(f"the results above were not saved: cannot write into {export} ({exc.strerror}); copy the model folder somewhere writable") from None
    return written
