"""Fuzzing the files and arguments that reach genzoo from outside: an export's config.json and
model.safetensors (load, sample), checkpoint files (resume), recipe bytes, the arguments of
sample / eval / report, and dataset files. Every input ends in exit 0, or in one line and exit 2.

CI replays the same inputs every run (derandomized); GENZOO_FUZZ_RANDOM=1 GENZOO_FUZZ_EXAMPLES=N explores.
"""

import itertools
import json
import os
import shutil
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from genzoo.cli import main
from genzoo.errors import GenzooError
from tests.test_fuzz_config import ValidateOnly

EXAMPLES = int(os.environ.get("GENZOO_FUZZ_EXAMPLES", "60"))
RANDOM = os.environ.get("GENZOO_FUZZ_RANDOM") == "1"
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TRIED = itertools.count()
QUIET = ["train.progress=false", "train.tensorboard=false"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished toy run (with two checkpoints), copied by each example."""
    folder = tmp_path_factory.mktemp("fuzz")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        assert main(["train", "steps=20", "train.checkpoint_every=10", "out=R", *QUIET]) == 0
    finally:
        os.chdir(cwd)
    return folder / "R"


def check(argv, capsys, tmp_path=None):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        own = err.replace(str(tmp_path), "T") if tmp_path else err  # the length of the message, not of pytest's folders
        assert err.startswith("genzoo: error: ") and len(err.splitlines()) == 1 and len(own) < 300, (argv, err)


def fresh_copy(trained, tmp_path) -> Path:
    target = tmp_path / f"R{next(TRIED)}"
    shutil.copytree(trained, target)
    return target


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)


@FUZZ
@given(section=st.sampled_from(["objective", "arch", "data", "plugins", "genzoo_version", "extra"]),
       key=st.sampled_from(["name", "width", "depth", "lam", "link", "obs_variance", "bogus", None]), value=json_values)
def test_fuzzed_export_configs(trained, tmp_path, capsys, section, key, value):
    run = fresh_copy(trained, tmp_path)
    config = json.loads((run / "export" / "config.json").read_text())
    if key is None or not isinstance(config.get(section), dict):
        config[section] = value
    else:
        config[section][key] = value
    (run / "export" / "config.json").write_text(json.dumps(config))
    check(["sample", str(run / "export"), f"out={tmp_path / 's.png'}"], capsys, tmp_path)


@FUZZ
@given(position=st.integers(0, 400), data=st.binary(min_size=1, max_size=16), truncate=st.booleans())
def test_fuzzed_weight_and_checkpoint_headers(trained, tmp_path, capsys, position, data, truncate):
    """Bytes overwritten in (or cut from) the safetensors header region, of the exported weights
    and of the newest checkpoint."""
    run = fresh_copy(trained, tmp_path)
    for path in (run / "export" / "model.safetensors", sorted((run / "checkpoints").iterdir())[-1]):
        blob = bytearray(path.read_bytes())
        if truncate:
            blob = blob[:position]
        else:
            blob[position : position + len(data)] = data
        path.write_bytes(bytes(blob))
    check(["sample", str(run / "export"), f"out={tmp_path / 's.png'}"], capsys, tmp_path)
    check(["train", "--resume", str(run), "steps=25", *QUIET], capsys, tmp_path)


@FUZZ
@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-16")),
                         st.text(max_size=200).map(lambda t: t.encode("latin-1", "replace"))))
def test_fuzzed_recipe_bytes(tmp_path, capsys, content, monkeypatch):
    import genzoo.trainer

    monkeypatch.setattr(genzoo.trainer, "Trainer", ValidateOnly)
    path = tmp_path / f"r{next(TRIED)}.yaml"
    path.write_bytes(content)
    code = main(["train", str(path), f"out={tmp_path / f'run{next(TRIED)}'}"])
    err = capsys.readouterr().err.strip()
    assert code == 2 or (code == 0 and not content.strip()), (content, code, err)
    if code == 2:
        assert err.startswith("genzoo: error: ") and len(err.splitlines()) == 1 and len(err) < 300, err


argument = st.builds(lambda k, v: f"{k}={v}",
                     st.sampled_from(["n", "out", "seed", "metrics", "mse.items", "mse.cap", "is.samples", "ais.steps",
                                      "data.name", "data.root", "series", "panels", "x", ""]),
                     st.one_of(st.integers(-5, 10**20).map(str), st.sampled_from(["", "nan", "[]", "a.png", "/proc/x.png", "toy", "mse,bogus"]),
                               st.text(max_size=6)))


@FUZZ
@given(command=st.sampled_from(["sample", "eval", "report"]), args=st.lists(argument, max_size=3))
def test_fuzzed_sample_eval_report_arguments(trained, tmp_path, capsys, command, args):
    run = fresh_copy(trained, tmp_path)
    target = {"sample": str(run / "export"), "eval": str(run), "report": str(tmp_path)}[command]
    (tmp_path / "results.csv").write_text("objective,objective.lam,is,mse,diverged\nsvae_r,0.1,4.9,0.01,False\n")
    check([command, target, *args], capsys, tmp_path)


def idx_images(n: int) -> bytes:
    return struct.pack(">IIII", 2051, n, 28, 28) + bytes(n * 784)


@FUZZ
@given(name=st.sampled_from(["mnist", "binarized_mnist", "cifar10"]), position=st.integers(0, 64),
       data=st.binary(min_size=1, max_size=8), cut=st.integers(0, 3200))
@example(name="mnist", position=7, data=b"\x00", cut=0)  # found by a random run: a header that counts 0 images
def test_fuzzed_dataset_files(tmp_path, name, position, data, cut):
    """Damaged dataset files: decoded to their arrays, or a GenzooError, never another exception."""
    from genzoo import factory
    from genzoo.options import structure

    root = tmp_path / f"d{next(TRIED)}"
    root.mkdir()
    if name == "mnist":
        blob = idx_images(4)
        target = root / "t10k-images-idx3-ubyte"
    elif name == "binarized_mnist":
        blob = ("\n".join(" ".join("01"[(i + j) % 2] for j in range(784)) for i in range(3)) + "\n").encode()
        target = root / "binarized_mnist_test.amat"
    else:
        blob = bytes(3073 * 2)
        (root / "cifar-10-batches-bin").mkdir()
        target = root / "cifar-10-batches-bin" / "test_batch.bin"
    blob = bytearray(blob[: len(blob) - cut] if cut < len(blob) else blob)
    blob[position : position + len(data)] = data
    target.write_bytes(bytes(blob))
    cls = factory.plugin_class("datasets", name)
    try:
        cls(structure(cls.Config, {"root": str(root)}, "data")).load("test")
    except GenzooError:
        pass
