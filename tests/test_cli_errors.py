"""Bad input gives one line on stderr naming the fix, exit code 2, and no traceback."""

import subprocess
import sys

import pytest

import genzoo.registry
from genzoo.cli import main
from genzoo.interfaces import Arch, Prior
from genzoo.registry import Registry, hookimpl


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.err.strip()


@pytest.mark.parametrize("argv,expected", [
    (["objective=svae_rr"], "unknown objective 'svae_rr': did you mean 'svae_r'?"),
    (["arch=toy_mpl"], "unknown arch 'toy_mpl': did you mean 'toy_mlp'?"),
    (["data=toys"], "unknown dataset 'toys': did you mean 'toy'?"),
    (["train.stesp=10"], "unknown key 'train.stesp': did you mean 'steps'?"),
    (["objectiv=svae"], "unknown key 'objectiv': did you mean 'objective'?"),
    (["objective.lamda=0.1"], "unknown key 'objective(svae_r).lamda': did you mean 'lam'?"),
    (["steps=many"], "train.steps expects an integer, got 'many'"),
    (["lambda=true"], "objective(svae_r).lam expects a number, got True"),
    (["steps=-5"], "train: steps must be positive, got -5"),
    (["objective.link=softplus"], "objective(svae_r).link expects one of 'identity', 'sigmoid', got 'softplus'"),
    (["svae-r-tyo"], "unknown recipe 'svae-r-tyo': did you mean 'svae-r-toy'?"),
    (["steps"], "'steps' is a setting, not a recipe: write steps=VALUE"),
    (["steps=3", "lr"], "expected key=value, got 'lr'"),
    (["steps=1", "steps=2"], "'train.steps' is given twice"),
    (["device=tpu"], "device must be auto, cpu, cuda or cuda:N (genzoo trains on these only), got 'tpu'"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, expected):
    code, err = run_cli(capsys, "train", *argv, "out=run")
    assert code == 2
    assert expected in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


class NoEncoderArch(Arch):
    """An arch that can only build a decoder and an x-critic (like a plain GAN generator)."""

    supports = frozenset({"x_critic"})
    data_shape = (2,)
    prior = Prior("normal", 2)

    def build(self, needs):
        raise AssertionError("never reached: the registry refuses the pair first")


class TestArchPlugin:
    @staticmethod
    @hookimpl
    def genzoo_archs():
        return {"decoder_only": NoEncoderArch}


def test_objective_arch_mismatch(capsys, monkeypatch):
    monkeypatch.setattr(genzoo.registry, "_default", Registry(extra_plugins=(TestArchPlugin,)))
    code, err = run_cli(capsys, "train", "objective=vae", "arch=decoder_only", "out=run")
    assert code == 2
    assert "objective 'vae' needs an explicit (Gaussian) encoder" in err
    assert "cannot build: explicit decoder, explicit encoder" in err


def test_existing_run_folder_is_not_overwritten(capsys, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("keep me")
    code, err = run_cli(capsys, "train", "out=run", "overwrite=true")
    assert code == 2 and "not a genzoo run folder" in err
    code, err = run_cli(capsys, "train", "out=run")
    assert code == 2 and "already exists" in err
    assert (tmp_path / "run" / "notes.txt").read_text() == "keep me"


def test_malformed_recipe_file(capsys, tmp_path):
    (tmp_path / "bad.yaml").write_text("objective: {name: svae_r\n  lam: [\n")
    code, err = run_cli(capsys, "train", str(tmp_path / "bad.yaml"))
    assert code == 2 and "malformed YAML" in err


def test_real_subprocess_exit_code_and_stderr():
    proc = subprocess.run(
        [sys.executable, "-m", "genzoo", "train", "objective=svea"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith(
        "genzoo: error: unknown objective 'svea': did you mean 'svae'? choose one of ali, alice, "
    )
    assert len(proc.stderr.strip().splitlines()) == 1
