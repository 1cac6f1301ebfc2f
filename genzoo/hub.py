"""Trained models as Hugging Face Hub folders: model.safetensors + config.json + README.md.

`GenzooModel` is the one model class for every objective x architecture. It uses
huggingface_hub's `PyTorchModelHubMixin` for `save_pretrained` / `push_to_hub`, but loading goes
through `load` only: safetensors files only (the mixin would fall back to unpickling
`pytorch_model.bin`), strict tensor names and shapes, and a config checked key by key.
"""

from __future__ import annotations

import json
import socket
import warnings
from pathlib import Path
from urllib.parse import urlparse

import torch
from huggingface_hub import PyTorchModelHubMixin
from safetensors import SafetensorError, safe_open

import genzoo
from genzoo import factory
from genzoo.checkpoint import follow_umask
from genzoo.errors import GenzooError, brief
from genzoo.model import JointModel
from genzoo.registry import default_registry
from genzoo.results_files import write_results

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
PICKLES = ("pytorch_model.bin", "model.bin", "model.pt", "model.pth", "model.ckpt")
CONFIG_KEYS = {"objective", "arch", "data", "genzoo_version", "plugins"}


class GenzooModel(
    JointModel,
    PyTorchModelHubMixin,
    library_name="genzoo",
    license="mit",
    tags=["genzoo", "generative-model", "joint-distribution"],
    paper_url="https://arxiv.org/abs/1709.01846",
):
    """Nets built from plugin names and options; `sample`, `encode`, `decode`, `reconstruct`, `critic_logit`."""

    def __init__(self, objective: dict, arch: dict, data: dict | None = None):
        from genzoo.budget import check_fits

        needs = factory.plugin_class("objectives", objective["name"]).needs
        built = factory.build("archs", arch["name"], {k: v for k, v in arch.items() if k != "name"})
        check_fits(built, needs, 1, "cpu", training=False)
        super().__init__(**factory.build_nets(built, needs))
        self.data = data

    @classmethod
    def _from_pretrained(cls, *, model_id, revision=None, cache_dir=None, **_):
        return load(model_id if revision is None else f"{model_id}@{revision}", cache_dir=cache_dir)


def model_config(config, registry) -> dict:
    """config.json for a run: plugin names and options, and who provides each name."""
    plugins = {section: registry.get(kind, getattr(config, section).name).plugin
               for section, kind in (("objective", "objectives"), ("arch", "archs"), ("data", "datasets"))}
    return {"objective": config.objective.as_raw(), "arch": config.arch.as_raw(), "data": config.data.as_raw(),
            "genzoo_version": genzoo.__version__, "plugins": plugins}


def export(model: JointModel, config, registry, metrics: dict, figures: list, folder: Path) -> Path:
    """Write the Hub folder of a finished run (the files `GenzooModel.save_pretrained` writes, plus
    the model card and a sample picture)."""
    from safetensors.torch import save_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = model_config(config, registry)
    save_model(model, str(folder / WEIGHTS))
    follow_umask(folder / WEIGHTS)  # safetensors writes through a private temporary
    (folder / CONFIG).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    picture = next((f for f in figures if f.cover), None)
    if picture is not None:
        (folder / Path(str(picture.path)).name).write_bytes(Path(str(picture.path)).read_bytes())
    write_results(folder, meta, config.as_raw(), metrics)
    return folder


def push(source: str | Path, repo_id: str, *, private: bool = False, revision: str | None = None) -> str:
    """Upload an exported model folder (or a run folder's `export/`) to the Hub; returns the commit URL."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError

    folder = Path(source)
    folder = folder / "export" if (folder / "export" / CONFIG).is_file() else folder
    load(folder)  # refuse to publish anything genzoo could not load back
    if constants.HF_HUB_OFFLINE:
        raise GenzooError("HF_HUB_OFFLINE is set: unset it to push")
    if not _reachable(constants.ENDPOINT):
        raise GenzooError(f"{constants.ENDPOINT} cannot be reached; push from a machine with network access")
    api = HfApi(endpoint=constants.ENDPOINT)
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=folder, revision=revision, commit_message="genzoo push")
    except (HfHubHTTPError, OSError, ValueError) as exc:
        raise GenzooError(f"push to {repo_id} failed: {brief(exc)}") from None
    return str(info)


def load(name: str | Path, *, cache_dir=None, device="cpu", allow_nonfinite: bool = False) -> GenzooModel:
    """A model from a local folder, a Hub repo id (`org/name[@revision]`) or a zoo alias.
    Weights that are NaN or infinite are refused unless `allow_nonfinite` (then a warning)."""
    folder = _resolve(str(name), cache_dir)
    config = _read_config(folder / CONFIG)
    weights = folder / WEIGHTS
    if not weights.is_file():
        pickled = [p for p in PICKLES if (folder / p).exists()]
        why = f"only pickled weights ({', '.join(pickled)}), which genzoo never loads: unpickling can run code" if pickled else "no model.safetensors"
        raise GenzooError(f"{folder}: {why}; re-export the weights as model.safetensors")
    model = GenzooModel(objective=config["objective"], arch=config["arch"], data=config.get("data"))
    try:
        with safe_open(str(weights), framework="pt", device="cpu") as fh:
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise GenzooError(f"{weights} is not a valid safetensors file ({brief(exc)}); download or export it again") from None
    _check_tensors(model, tensors, weights)
    bad = [key for key, value in tensors.items() if value.is_floating_point() and not torch.isfinite(value).all()]
    if bad:
        message = f"{weights}: {len(bad)} tensors hold NaN or infinite values (first: {bad[0]}); the model diverged before export"
        if not allow_nonfinite:
            raise GenzooError(message + "; load it anyway with allow_nonfinite=True")
        warnings.warn(message, stacklevel=2)
    model.load_state_dict(tensors, strict=True)
    return model.to(device).eval()


def _check_tensors(model, tensors: dict, path: Path) -> None:
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise GenzooError(f"{path} does not match the model in config.json: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for key, value in tensors.items():
        if value.shape != expected[key].shape or value.dtype != expected[key].dtype:
            raise GenzooError(
                f"{path}: tensor {key} is {tuple(value.shape)} {value.dtype}, the model needs "
                f"{tuple(expected[key].shape)} {expected[key].dtype}"
            )


def _read_config(path: Path) -> dict:
    """config.json, checked against the installed plugins' option classes before anything is built."""
    from genzoo.yaml_files import read_text_file
    from genzoo.options import short_repr

    try:
        config = json.loads(read_text_file(path, "model config"))
    except ValueError as exc:
        raise GenzooError(f"cannot read {path} ({brief(exc)})") from None
    if not isinstance(config, dict) or not {"objective", "arch"} <= set(config):
        raise GenzooError(f"{path} is not a genzoo model config (it needs 'objective' and 'arch')")
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise GenzooError(f"{path} has unknown keys {short_repr(unknown)}; it was written by another program or a newer genzoo")
    if not isinstance(config.get("plugins", {}), dict) or not isinstance(config.get("genzoo_version", ""), str):
        raise GenzooError(f"{path}: 'plugins' must be a mapping and 'genzoo_version' a string")
    registry = default_registry()
    for section, kind in (("objective", "objectives"), ("arch", "archs"), ("data", "datasets")):
        if section == "data" and config.get("data") is None:
            continue
        value = config[section]
        name = value.get("name") if isinstance(value, dict) else None
        if not isinstance(name, str):
            raise GenzooError(f"{path}: '{section}' must be a mapping with a plugin name, got {short_repr(value)}")
        if not registry.has(kind, name):
            provider = (config.get("plugins") or {}).get(section, "a plugin that is not installed")
            provider = provider if isinstance(provider, str) and len(provider) <= 80 else short_repr(provider)
            raise GenzooError(f"{path} needs {section} {name!r}, provided by {provider}; install it (genzoo list {kind})")
        factory.validated_options(kind, name, {k: v for k, v in value.items() if k != "name"}, registry, where=f"{path}: {section}({name})")
    return config


def _resolve(name: str, cache_dir) -> Path:
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    repo_id, _, revision = name.partition("@")
    if repo_id.count("/") != 1:
        repo_id, revision = _alias(name)
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
        if ".." in repo_id.split("/"):
            raise HFValidationError("'..' is not a name")
    except HFValidationError:
        raise GenzooError(f"{name!r} is not a folder here, nor a Hub repo id (org/name[@revision], letters, digits, - _ .) or a zoo alias") from None
    return _snapshot(repo_id, revision or None, cache_dir)


def _alias(name: str) -> tuple[str, str | None]:
    recipes = default_registry().recipes()
    if name not in recipes:
        raise GenzooError(f"{name!r} is not a folder, a Hub repo id (org/name[@revision]) or a zoo alias (genzoo list recipes)")
    from genzoo.config import load_yaml

    hub = load_yaml(recipes[name]).get("hub") or {}
    if "repo_id" not in hub:
        raise GenzooError(f"zoo alias {name!r} names no Hub repository (its recipe has no hub.repo_id)")
    return hub["repo_id"], hub.get("revision")


def _snapshot(repo_id: str, revision: str | None, cache_dir) -> Path:
    """The repo's config and weights from the local cache, or downloaded when online."""
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    def fetch(local_only: bool) -> Path:
        files = [hf_hub_download(repo_id, f, revision=revision, cache_dir=cache_dir, local_files_only=local_only) for f in (CONFIG, WEIGHTS)]
        return Path(files[0]).parent

    where = f"{repo_id}" + (f"@{revision}" if revision else "")
    pinned = revision is not None and len(revision) == 40 and all(c in "0123456789abcdef" for c in revision)
    online = not constants.HF_HUB_OFFLINE and (pinned or _reachable(constants.ENDPOINT))
    if pinned or not online:  # a commit never changes; offline, the cache is all there is
        try:
            return fetch(local_only=True)
        except LocalEntryNotFoundError:
            if constants.HF_HUB_OFFLINE:
                raise GenzooError(f"{where} is not in the local Hub cache and HF_HUB_OFFLINE is set; download it on a machine with network access") from None
            if not online or not _reachable(constants.ENDPOINT):
                raise GenzooError(f"{where} is not in the local Hub cache and {constants.ENDPOINT} cannot be reached; connect, or copy the model folder here and load it by path") from None
    try:  # online: the client checks the branch's current commit and reuses cached files
        return fetch(local_only=False)
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        raise GenzooError(f"cannot download {where}: {brief(exc)}") from None


def _reachable(endpoint: str, timeout: float = 3.0) -> bool:
    """A quick TCP check, so an offline machine fails at once instead of after the client's retries."""
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False
