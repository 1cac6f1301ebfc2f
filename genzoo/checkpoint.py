"""Checkpoints as safetensors files (never pickles), written atomically.

One file holds the tensors (model weights, optimizer moments, RNG states) and, in its
string metadata, a JSON document with everything else (step, optimizer hyper-parameters,
resolved config, genzoo version). A file is written to a temporary name, flushed, fsynced and
renamed, so a crash leaves either the old checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors import safe_open
from safetensors.torch import save_file

from genzoo.errors import GenzooError, brief

PREFIX = "step-"


def flatten_optimizer(name: str, optimizer: torch.optim.Optimizer, tensors: dict) -> dict:
    """Put the optimizer's per-parameter tensors into `tensors`; return the JSON-able rest."""
    state = optimizer.state_dict()
    for index, slots in state["state"].items():
        for slot, value in slots.items():
            tensors[f"optim.{name}.{index}.{slot}"] = torch.as_tensor(value)
    return {"param_groups": state["param_groups"], "indices": sorted(state["state"])}


def unflatten_optimizer(name: str, meta: dict, tensors: dict) -> dict:
    prefix = f"optim.{name}."
    state: dict = {index: {} for index in meta["indices"]}
    for key, value in tensors.items():
        if key.startswith(prefix):
            index, slot = key[len(prefix) :].split(".", 1)
            state[int(index)][slot] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save(path: Path, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    """Atomically write `tensors` plus JSON `meta` to `path`, with a checksum of the tensor bytes."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    save_file(cpu, str(tmp), metadata={"genzoo": json.dumps(meta), "sha256": tensor_digest(cpu)})
    _publish(tmp, path)


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over names, dtypes, shapes and bytes of `tensors`: flipped bits inside tensor data,
    which safetensors' own header checks cannot see, change it."""
    digest = hashlib.sha256()
    for key in sorted(tensors):
        value = tensors[key].detach().to("cpu").contiguous()
        digest.update(f"{key}:{value.dtype}:{tuple(value.shape)};".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def follow_umask(path: Path) -> None:
    """Give a file written through a private temporary (mode 0600) the mode the umask asks for."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def write_text_atomically(path: Path, text: str) -> None:
    """Write a small text file so that readers see the old content or the new, never a part."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    _publish(tmp, path)


def _publish(tmp: Path, path: Path) -> None:
    """fsync `tmp`, rename it over `path`, and fsync the folder so the rename survives a crash."""
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    follow_umask(tmp)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a checkpoint written by `save`; a damaged or foreign file is a GenzooError."""
    try:
        with safe_open(str(path), framework="pt") as fh:
            header = fh.metadata() or {}
            meta = json.loads(header["genzoo"])
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}
    except (SafetensorError, KeyError, ValueError, OSError) as exc:
        raise GenzooError(f"checkpoint {path} is unreadable ({brief(exc)}); delete it to fall back to an older one") from None
    if not isinstance(meta, dict):
        raise GenzooError(f"checkpoint {path} has no genzoo metadata; it was not written by genzoo")
    expected = header.get("sha256")  # absent in checkpoints written before checksums existed
    if expected is not None and tensor_digest(tensors) != expected:
        raise GenzooError(f"checkpoint {path} fails its checksum: its tensor bytes changed on disk")
    return tensors, meta


def checkpoint_path(folder: Path, step: int) -> Path:
    return Path(folder) / f"{PREFIX}{step:08d}.safetensors"


def list_checkpoints(folder: Path) -> list[Path]:
    """Checkpoints in `folder`, oldest first."""
    return sorted(Path(folder).glob(f"{PREFIX}*.safetensors"))


def prune(folder: Path, keep: int) -> None:
    for old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)
