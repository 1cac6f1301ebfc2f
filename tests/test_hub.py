"""Exported models: exact round trips, strict and pickle-free loading, the Hub cache, zoo aliases, model cards."""

import json
import pickle
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file, save_file

import genzoo
import genzoo.hub
from genzoo.errors import GenzooError
from genzoo.hub import GenzooModel, load
from genzoo.testing import compatible_pairs

PAIRS = compatible_pairs()


def saved(folder: Path, objective="svae_r", arch="toy_mlp", seed=0) -> GenzooModel:
    torch.manual_seed(seed)
    model = GenzooModel(objective={"name": objective}, arch={"name": arch}, data={"name": "toy"})
    model.save_pretrained(folder, config={"objective": {"name": objective}, "arch": {"name": arch}, "data": {"name": "toy"}})
    return model


def outputs(model, x):
    model.eval()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        outs = [model.sample(4, generator=gen)]
        if model.encoder is not None:
            outs.append(model.encode(x, generator=gen))
        outs.append(model.decode(model.sample_prior(4, gen), generator=gen))
    return outs


@pytest.mark.parametrize("objective,arch", PAIRS)
def test_round_trip_through_a_folder_is_exact(objective, arch, tmp_path):
    model = saved(tmp_path / "m", objective, arch)
    loaded = load(tmp_path / "m")
    x = torch.rand((4, *model.eval().sample(1).shape[1:]))
    assert all(torch.equal(a, b) for a, b in zip(outputs(model, x), outputs(loaded, x)))
    assert json.loads((tmp_path / "m" / "config.json").read_text())["arch"] == {"name": arch}


def test_from_pretrained_uses_the_safe_loader(tmp_path):
    saved(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").rename(tmp_path / "m" / "pytorch_model.bin")
    with pytest.raises(GenzooError, match="only pickled weights .pytorch_model.bin., which genzoo never loads"):
        GenzooModel.from_pretrained(tmp_path / "m")


@pytest.mark.parametrize("damage,message", [
    ("pickle", "is not a valid safetensors file"),
    ("truncated", "is not a valid safetensors file"),
    ("shapes", "the model needs"),
    ("dtype", "the model needs"),
    ("missing", "missing \\["),
    ("unknown_key", "unknown keys \\['surprise'\\]"),
    ("absent_objective", "needs objective 'nope', provided by some-package 1.0; install it"),
])
def test_hostile_or_broken_files_are_refused(tmp_path, damage, message):
    folder = tmp_path / "m"
    saved(folder)
    weights, config = folder / "model.safetensors", folder / "config.json"

    class Boom:
        def __reduce__(self):
            return (Path("pwned").touch, ())

    if damage == "pickle":
        weights.write_bytes(pickle.dumps(Boom()))
    elif damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:-100])
    elif damage in ("shapes", "dtype", "missing"):
        tensors = load_file(str(weights))
        key = sorted(tensors)[0]
        if damage == "shapes":
            tensors[key] = torch.zeros(3, 3)
        elif damage == "dtype":
            tensors[key] = tensors[key].double()
        else:
            del tensors[key]
        save_file(tensors, str(weights))
    else:
        data = json.loads(config.read_text())
        if damage == "unknown_key":
            data["surprise"] = 1
        else:
            data["objective"]["name"], data["plugins"] = "nope", {"objective": "some-package 1.0"}
        config.write_text(json.dumps(data))
    with pytest.raises(GenzooError, match=message):
        load(folder)
    assert not Path("pwned").exists()


def fill_cache(cache: Path, repo_id: str, source: Path, commit="a" * 40) -> None:
    """The real Hugging Face cache layout: refs/main names a snapshot folder holding the files."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for f in source.iterdir():
        (snapshot / f.name).write_bytes(f.read_bytes())


def test_repo_id_and_alias_resolve_from_the_cache_offline(tmp_path):
    model = saved(tmp_path / "m")
    fill_cache(tmp_path / "cache", "genzoo/svae-r-toy", tmp_path / "m")
    x = torch.rand(4, 2)
    for name in ("genzoo/svae-r-toy", "genzoo/svae-r-toy@main", "svae-r-toy"):
        loaded = genzoo.load(name, cache_dir=tmp_path / "cache")
        assert all(torch.equal(a, b) for a, b in zip(outputs(model, x), outputs(loaded, x)))


def test_uncached_repo_fails_at_once_offline(tmp_path):
    began = time.perf_counter()
    with pytest.raises(GenzooError, match="not in the local Hub cache and HF_HUB_OFFLINE is set"):
        load("genzoo/not-there", cache_dir=tmp_path / "cache")
    assert time.perf_counter() - began < 10  # a generous bound: the point is no 23 s of retries


def test_uncached_repo_with_unreachable_endpoint_fails_without_retries(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(GenzooError, match="cannot be reached"):
        load("genzoo/not-there", cache_dir=tmp_path / "cache")


def test_unknown_name():
    with pytest.raises(GenzooError, match="not a folder, a Hub repo id"):
        load("no-such-alias")


def test_training_exports_a_model_with_a_card(tmp_path, capsys):
    from genzoo.cli import main

    assert main(["train", "steps=40", "out=run", "train.progress=false", "train.tensorboard=false"]) == 0
    export = tmp_path / "run" / "export"
    assert sorted(p.name for p in export.iterdir()) == ["README.md", "config.json", "metrics.json", "model.safetensors", "toy.png"]
    card = (export / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert header["library_name"] == "genzoo" and "arxiv:1709.01846" in header["tags"]
    assert "| is |" in card and "exact Bayes posterior of the 5-component mixture" in card and "samples: 10000" in card
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert f"{metrics['is']:.4g}" in card
    assert main(["sample", str(export), "n=100", "out=s.png"]) == 0
    assert Path("s.png").stat().st_size > 1000


def test_push_then_load_by_repo_id_then_push_again_and_load_both_revisions(tmp_path):
    import os
    import subprocess
    import sys

    from tests.hub_server import serve

    server, hub = serve()
    env = {**os.environ, "HF_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}", "HF_HUB_OFFLINE": "0",
           "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    first, second = saved(tmp_path / "one", seed=0), saved(tmp_path / "two", seed=1)

    def genzoo(*args):
        proc = subprocess.run([sys.executable, "-m", "genzoo", *args], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def weights_via_load(name):
        code = ("import genzoo, sys; m = genzoo.load(sys.argv[1]); "
                "from safetensors.torch import save_file; save_file(m.state_dict(), sys.argv[2])")
        out = tmp_path / "loaded.safetensors"
        proc = subprocess.run([sys.executable, "-c", code, name, str(out)], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return load_file(str(out))

    def same(model, tensors):
        return all(torch.equal(v, tensors[k]) for k, v in model.state_dict().items())

    genzoo("push", str(tmp_path / "one"), "--repo-id", "genzoo/toy-test")
    first_sha = hub.repos["genzoo/toy-test"]["branches"]["main"]
    assert same(first, weights_via_load("genzoo/toy-test"))
    genzoo("push", str(tmp_path / "two"), "--repo-id", "genzoo/toy-test")
    assert hub.repos["genzoo/toy-test"]["branches"]["main"] != first_sha
    assert same(second, weights_via_load("genzoo/toy-test@main"))
    assert same(first, weights_via_load(f"genzoo/toy-test@{first_sha}"))
    server.shutdown()


def test_reconstruct_image_files_with_an_image_model(tmp_path):
    import numpy as np
    from PIL import Image

    from genzoo.cli import main

    torch.manual_seed(0)
    meta = {"objective": {"name": "svae_r"}, "arch": {"name": "mnist_conv"}, "data": {"name": "mnist"}}
    GenzooModel(**meta).save_pretrained(tmp_path / "m", config=meta)
    for i in range(3):
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    images = [str(tmp_path / f"{i}.png") for i in range(3)]
    assert main(["reconstruct", str(tmp_path / "m"), *images, "--out", "rec.png"]) == 0
    assert Image.open("rec.png").size == (3 * 29 + 1, 2 * 29 + 1)


def test_offline_push_fails_at_once(tmp_path):
    saved(tmp_path / "m")
    with pytest.raises(GenzooError, match="HF_HUB_OFFLINE is set: unset it to push"):
        genzoo.hub.push(tmp_path / "m", "genzoo/x")
