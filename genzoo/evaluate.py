"""Run metric plugins on a model and write `metrics.json`: each value beside its protocol."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch


def evaluate(model, dataset, metric_names, registry, options: dict | None = None) -> dict:
    """{"key": value, ..., "details": {"key": {value, protocol, ...}}} for the named metrics.

    `options` maps a metric name to its raw options (validated against that metric's Config).
    """
    from genzoo import factory

    options = options or {}
    unknown = sorted(set(options) - set(metric_names))
    if unknown:
        from genzoo.errors import GenzooError

        raise GenzooError(f"options given for {', '.join(unknown)}, which is not among the metrics run ({', '.join(metric_names)})")
    summary: dict = {}
    details: dict = {}
    was_training = model.training
    model.eval()
    try:
        for name in metric_names:
            metric = factory.build("metrics", name, options.get(name) or {}, registry, where=name)
            result = metric(model, dataset)
            key = getattr(metric, "key", name)
            summary[key] = None if math.isnan(result.value) else result.value
            details[key] = {"metric": name, "value": summary[key], "protocol": result.protocol, **result.extra}
            if result.extra.get("diverged"):
                summary["diverged"] = True
    finally:
        model.train(was_training)
    summary.setdefault("diverged", False)
    summary["details"] = details
    return summary


def write_metrics(path: Path, metrics: dict) -> None:
    Path(path).write_text(json.dumps(metrics, indent=2, default=_jsonable) + "\n")


def _jsonable(value):
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return str(value)
