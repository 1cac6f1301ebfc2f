"""`genzoo report SWEEP_DIR`: a sweep's histograms of IS and MSE per series per panel (the paper's
Fig. 3: methods overlaid, one panel per lambda), and its table of mean +- std and diverged share."""

from __future__ import annotations

import csv
import io
import math
import textwrap
from pathlib import Path

from genzoo.checkpoint import write_text_atomically
from genzoo.yaml_files import read_text_file
from genzoo.errors import GenzooError, brief

SUMMARY_COLUMNS = ("series", "panel", "runs", "is_mean", "is_std", "mse_mean", "mse_std", "diverged_share")


def read_table(sweep_dir: Path) -> list[dict]:
    path = Path(sweep_dir) / "results.csv"
    if not path.is_file():
        raise GenzooError(f"{path} does not exist; run `genzoo sweep SPEC out={sweep_dir}` first")
    try:
        rows = list(csv.DictReader(io.StringIO(read_text_file(path, "sweep table", limit=256 << 20), newline="")))
    except csv.Error as exc:
        raise GenzooError(f"{path} is not a CSV table ({brief(exc)}); rerun `genzoo sweep` to rewrite it") from None
    missing = [c for c in ("is", "mse", "diverged") if rows and c not in rows[0]]
    if missing:
        raise GenzooError(f"{path} is not a genzoo sweep table (no column {missing[0]!r}); rerun `genzoo sweep` to rewrite it")
    if not rows:
        raise GenzooError(f"{path} holds no finished run yet")
    return rows


def _number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):  # "", "None", or a damaged cell
        return math.nan


def summarize(rows: list[dict], series: str, panels: str) -> list[dict]:
    """Mean and std (over runs) of IS and MSE, and the share of diverged runs, per (series, panel).

    Diverged runs keep their capped MSE, as the ALICE study's means did."""
    for key in (series, panels):
        if key not in rows[0]:
            raise GenzooError(f"the sweep table has no column {key!r}; columns: {', '.join(rows[0])}")
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row[series], row[panels]), []).append(row)
    summary = []
    for (name, panel), members in sorted(groups.items(), key=lambda item: (item[0][0], _sort_key(item[0][1]))):
        entry = {"series": name, "panel": panel, "runs": len(members)}
        for metric in ("is", "mse"):
            values = [v for v in (_number(r[metric]) for r in members) if math.isfinite(v)]
            mean = sum(values) / len(values) if values else math.nan
            std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) if values else math.nan
            entry[f"{metric}_mean"], entry[f"{metric}_std"] = mean, std
        entry["diverged_share"] = sum(r["diverged"] == "True" for r in members) / len(members)
        summary.append(entry)
    return summary


def _sort_key(text: str):
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def report(sweep_dir: Path, series: str = "objective", panels: str = "objective.lam") -> list[Path]:
    """Write fig3.png, table.png and summary.csv into `sweep_dir`; return their paths."""
    rows = read_table(sweep_dir)
    summary = summarize(rows, series, panels)
    out = Path(sweep_dir)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SUMMARY_COLUMNS)
    writer.writeheader()
    writer.writerows(summary)
    write_text_atomically(out / "summary.csv", text.getvalue())
    return [_histograms(rows, series, panels, out / "fig3.png"), _table(summary, series, panels, out / "table.png"), out / "summary.csv"]


def _histograms(rows: list[dict], series: str, panels: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panel_values = sorted({r[panels] for r in rows}, key=_sort_key)
    names = sorted({r[series] for r in rows})
    width = max(3.2 * len(panel_values), 6.4)
    fig, axes = plt.subplots(2, len(panel_values), figsize=(width, 5.6), squeeze=False)
    is_bins = np.linspace(1.0, 5.0, 21)
    mse_values = [_number(r["mse"]) for r in rows]
    low = min([v for v in mse_values if v > 0] or [1e-3])
    mse_bins = np.logspace(math.floor(math.log10(low)), 1.05, 24)
    for column, panel in enumerate(panel_values):
        for name in names:
            members = [r for r in rows if r[panels] == panel and r[series] == name]
            iss = [_number(r["is"]) for r in members]
            mses = [max(_number(r["mse"]), mse_bins[0]) for r in members]
            axes[0, column].hist([v for v in iss if math.isfinite(v)], bins=is_bins, alpha=0.55, label=name)
            axes[1, column].hist([v for v in mses if math.isfinite(v)], bins=mse_bins, alpha=0.55, label=name)
        axes[0, column].set_title(f"{panels} = {panel}")
        axes[1, column].set_xscale("log")
        axes[0, column].set_xlabel("IS (5 = every mode)")
        axes[1, column].set_xlabel("MSE (diverged runs at the cap)")
    axes[0, 0].set_ylabel("runs")
    axes[1, 0].set_ylabel("runs")
    axes[0, -1].legend(title=series, fontsize=8)
    title = f"{len(rows)} runs: histograms of IS and reconstruction MSE per {series} and {panels}"
    fig.suptitle("\n".join(textwrap.wrap(title, int(width * 9))))  # about 9 characters of the title font per inch
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _table(summary: list[dict], series: str, panels: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    header = [series, panels, "runs", "IS mean ± std", "MSE mean ± std", "diverged"]
    cells = [
        [s["series"], s["panel"], str(s["runs"]), f"{s['is_mean']:.3f} ± {s['is_std']:.3f}",
         f"{s['mse_mean']:.4g} ± {s['mse_std']:.3g}", f"{100 * s['diverged_share']:.0f}%"]
        for s in summary
    ]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(cells) + 0.8))
    ax.axis("off")
    table = ax.table(cellText=cells, colLabels=header, loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
