"""The README.md model card of an exported model: Hub metadata, recipe, and metrics with protocols."""

from __future__ import annotations

import yaml

DATASET_IDS = {"mnist": "mnist", "binarized_mnist": "mnist", "cifar10": "cifar10", "celeba": "celeba"}


def render_card(meta: dict, recipe: dict, metrics: dict, picture: str | None) -> str:
    objective, arch, data = meta["objective"]["name"], meta["arch"]["name"], meta["data"]["name"]
    header = {
        "library_name": "genzoo",
        "license": "mit",
        "tags": ["genzoo", "generative-model", objective, arch, "arxiv:1709.01846"],
        "datasets": [DATASET_IDS[data]] if data in DATASET_IDS else [],
    }
    lines = [
        "---", yaml.safe_dump(header, sort_keys=False).strip(), "---", "",
        f"# {objective} on {data} ({arch})", "",
        "Trained with genzoo; objective and architectures follow Chen et al., "
        "*Symmetric Variational Autoencoder and Connections to Adversarial Learning* (AISTATS 2018, arXiv:1709.01846).",
        "", "```python", "import genzoo", "", "model = genzoo.load(\"PATH_OR_REPO_ID\")",
        "x = model.sample(64)", "```", "",
        "## Training recipe", "", "```yaml", yaml.safe_dump(recipe, sort_keys=False).strip(), "```", "",
        "## Evaluation", "",
        f"{metrics.get('steps', '?')} training iterations, {metrics.get('wall_time_s', '?')} s on {metrics.get('device', '?')}.", "",
        "| metric | value | protocol |", "|---|---|---|",
    ]
    for key, detail in (metrics.get("details") or {}).items():
        value = "n/a" if detail["value"] is None else f"{detail['value']:.4g}"
        protocol = "; ".join(f"{k}: {v}" for k, v in detail["protocol"].items())
        lines.append(f"| {key} | {value} | {protocol} |")
    if picture:
        lines += ["", "## Samples", "", f"![samples]({picture})"]
    return "\n".join(lines) + "\n"
