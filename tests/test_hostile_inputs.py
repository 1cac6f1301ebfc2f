"""Hostile and careless input, one test per class of hole: one line under 300 characters naming
the fix, exit code 2, no traceback, and nothing half-made."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from genzoo.cli import main

QUIET = ["train.progress=false", "train.tensorboard=false"]


def one_line(capsys, *argv, code=2):
    assert main(list(argv)) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("genzoo: error: ") and len(err.splitlines()) == 1 and len(err) < 300, err
    return err


@pytest.fixture
def run(tmp_path):
    assert main(["train", "steps=20", "out=R", "train.checkpoint_every=10", *QUIET]) == 0
    return tmp_path / "R"


@pytest.mark.parametrize("argv,expected", [
    (["lr=nan"], "optim.lr expects a finite number, got nan"),
    (["optim.beta1=inf"], "optim.beta1 expects a finite number"),
    (["seed=1180591620717411303424"], "train.seed expects an integer between -2**63 and 2**63 - 1"),
    (["lambda=1e400"], "objective(svae_r).lam expects a finite number"),
    (["device=mps"], "device must be auto, cpu, cuda or cuda:N"),
    (["device=meta", "steps=2"], "device must be auto, cpu, cuda or cuda:N"),
    (["arch.width=8192", "arch.depth=32"], "this model needs about 97.0 GiB"),
    (["arch=cifar_dcgan", "data=cifar10", "arch.decoder_noise=1000000000000"], "more than the"),
])
def test_bad_values_are_refused_before_anything_is_made(capsys, tmp_path, argv, expected):
    began = time.perf_counter()
    assert expected in one_line(capsys, "train", *argv, "out=out")
    assert not (tmp_path / "out").exists() and time.perf_counter() - began < 30


def test_recipes_that_are_not_utf8_or_explode_through_aliases(capsys, tmp_path):
    (tmp_path / "latin1.yaml").write_bytes(b"objective: {name: svae_r}\n# caf\xe9\n")
    assert "is not UTF-8 text (byte 31)" in one_line(capsys, "train", "latin1.yaml")
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)))
    assert "is not UTF-8 text" in one_line(capsys, "train", "binary.yaml")
    assert "is not UTF-8 text" in one_line(capsys, "sweep", "latin1.yaml")
    levels = ["objective:", "  name: svae_r", "  cycles:", "    - &a0 [x, x, x, x, x, x, x, x, x]"]  # a bomb used as a value
    levels += [f"    - &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    (tmp_path / "bomb.yaml").write_text("\n".join(levels) + "\n")
    began = time.perf_counter()
    assert "expands to more than 100,000 values" in one_line(capsys, "train", "bomb.yaml")
    assert time.perf_counter() - began < 5
    (tmp_path / "big.yaml").write_text("# padding\n" * 200_000)
    assert "larger than 1024 KiB" in one_line(capsys, "train", "big.yaml")


def test_a_damaged_run_config_cannot_be_resumed_but_says_why(capsys, run):
    (run / "config.yaml").write_bytes(b"\xff\xfe\x00")
    assert "is not UTF-8 text" in one_line(capsys, "train", "--resume", str(run))


def test_output_folders_that_cannot_be_used(capsys, tmp_path):
    (tmp_path / "afile").write_text("x")
    assert "out=afile is a file, not a folder" in one_line(capsys, "train", "steps=2", "out=afile")
    assert "cannot create the run folder /proc/genzoo-run" in one_line(capsys, "train", "steps=2", "out=/proc/genzoo-run")
    assert "cannot create the sweep folder" in one_line(capsys, "sweep", "toy-reference", "out=/proc/genzoo-sweep")


def test_sample_outputs(capsys, run, tmp_path):
    assert "cannot write pictures as '.xyz'" in one_line(capsys, "sample", "R/export", "out=g.xyz")
    (tmp_path / "folder").mkdir()
    assert "is a folder" in one_line(capsys, "sample", "R/export", "out=folder")
    assert "cannot create the folder /proc/x" in one_line(capsys, "sample", "R/export", "out=/proc/x/g.png")
    assert main(["sample", "R/export", "out=grid"]) == 0
    assert "wrote grid.png" in capsys.readouterr().out and (tmp_path / "grid.png").is_file()
    assert "'n' must be in range(1, 100001) (got 0)" in one_line(capsys, "sample", "R/export", "n=0")


@pytest.mark.parametrize("name", ["../etc", "org/..", "org/na me"])
def test_repo_ids_that_cannot_be(capsys, name):
    assert "is not a folder here, nor a Hub repo id" in one_line(capsys, "sample", name)


@pytest.mark.parametrize("change,expected", [
    (lambda c: c.update(data="toy"), "'data' must be a mapping with a plugin name, got 'toy'"),
    (lambda c: c["arch"].update(name=["x"]), "'arch' must be a mapping with a plugin name"),
    (lambda c: c["objective"].update(bogus=1), "unknown key"),
    (lambda c: c["arch"].update(width="wide"), "expects an integer"),
    (lambda c: c["arch"].update(width=8192, depth=8), "more than the 2.0 GiB available"),
    (lambda c: c.update(plugins=[1]), "'plugins' must be a mapping"),
])
def test_export_configs_are_validated_before_building(capsys, monkeypatch, run, change, expected):
    import genzoo.budget

    monkeypatch.setattr(genzoo.budget, "available_bytes", lambda device: 2 << 30)  # a machine with 2 GiB free
    config = json.loads((run / "export" / "config.json").read_text())
    change(config)
    (run / "export" / "config.json").write_text(json.dumps(config))
    assert expected in one_line(capsys, "sample", "R/export")


def test_non_finite_weights_are_refused_unless_allowed(capsys, run):
    import genzoo

    tensors = load_file(run / "export" / "model.safetensors")
    first = sorted(tensors)[0]
    tensors[first] = torch.full_like(tensors[first], float("nan"))
    save_file(tensors, str(run / "export" / "model.safetensors"))
    assert "hold NaN or infinite values" in one_line(capsys, "sample", "R/export")
    with pytest.warns(UserWarning, match="NaN or infinite"):
        genzoo.load("R/export", allow_nonfinite=True)


def test_pictures_whose_header_claims_too_many_pixels(capsys, run, tmp_path):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    for side, name in ((30000, "bomb.png"), (9000, "big.png")):  # above PIL's own limit, and between PIL's and genzoo's
        header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
        (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    from genzoo.errors import GenzooError
    from genzoo.images import open_image

    with pytest.raises(GenzooError, match="claims more pixels than genzoo reads"):
        open_image(tmp_path / "bomb.png", "bomb.png", "RGB")
    with pytest.raises(GenzooError, match="claims 9000x9000 pixels"):
        open_image(tmp_path / "big.png", "big.png", "RGB")
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(GenzooError, match="is not a readable image"):
        open_image(tmp_path / "notes.png", "notes.png", "RGB")


def test_a_bad_file_in_a_worker_read_zip_is_one_short_line_and_blocks_nothing(capsys, tmp_path):
    import zipfile

    from PIL import Image

    with zipfile.ZipFile(tmp_path / "celeba.zip", "w") as zf:
        zf.writestr("img_align_celeba/000000.jpg", b"this is no jpeg")  # a training image: read by a worker
        for i in range(1, 10):
            image = Image.new("RGB", (89, 109), (i * 25, 0, 0))
            path = tmp_path / f"{i:06d}.jpg"
            image.save(path)
            zf.write(path, f"img_align_celeba/{i:06d}.jpg")
    argv = ["train", "objective=svae_r", "arch=celeba_dcgan", "data=celeba", "data.root=celeba.zip", "data.in_memory=false",
            "data.workers=1", "data.n_test=1", "batch_size=8", "steps=2", "arch.latent_dim=8", "out=run", "train.picture_every=0", *QUIET]
    err = one_line(capsys, *argv)
    assert err == "genzoo: error: celeba: img_align_celeba/000000.jpg is not a readable image (no image format PIL knows)"
    assert "already exists" not in one_line(capsys, *argv)  # the folder of the failed start is reused


def test_interrupt_before_the_first_checkpoint_names_the_folder_and_resume_starts_afresh(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "genzoo", "train", "steps=100000", "train.checkpoint_every=100000", *QUIET]
    # A shell starts background commands with SIGINT ignored; give the child Ctrl-C as a terminal would.
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while not list((tmp_path / "runs").glob("*/metrics.jsonl")) and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1].strip()
    run_dir = next((tmp_path / "runs").iterdir())
    assert proc.returncode == 130 and err == f"genzoo: error: interrupted; continue the run with: genzoo train --resume {run_dir.relative_to(tmp_path)}"
    done = subprocess.run([sys.executable, "-m", "genzoo", "train", "--resume", str(run_dir), "steps=5", *QUIET],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "has no checkpoint yet; starting it afresh" in done.stdout, done.stderr
    assert [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()] == [5]


def test_resume_after_a_kill_that_cut_the_last_log_line_short(capsys, run):
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 2')  # a kill in the middle of a write
    assert main(["train", "--resume", "R", "steps=30", *QUIET]) == 0
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and steps[-1] == 30


def test_checkpoints_carry_a_checksum_and_resume_falls_back_on_a_mismatch(capsys, run):
    newest = sorted((run / "checkpoints").iterdir())[-1]
    data = bytearray(newest.read_bytes())
    data[-5] ^= 0xFF  # a flipped byte inside tensor data: the safetensors header still parses
    newest.write_bytes(bytes(data))
    assert main(["train", "--resume", "R", "steps=30", *QUIET]) == 0
    out = capsys.readouterr().out
    assert "resuming from step-00000010.safetensors instead" in out
    mask = os.umask(0)
    os.umask(mask)
    for path in [*(run / "checkpoints").iterdir(), run / "export" / "model.safetensors"]:
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask, path


def test_eval_with_damaged_result_files_still_saves_what_it_measured(capsys, run):
    (run / "export" / "metrics.json").write_text("{bad")
    (run / "config.yaml").write_text("objective: [\n")
    assert main(["eval", "R", "metrics=mse"]) == 0
    captured = capsys.readouterr()
    assert "was unreadable" in captured.err
    assert json.loads((run / "export" / "metrics.json").read_text())["mse"] is not None
    assert "| mse |" in (run / "export" / "README.md").read_text()


def test_eval_into_an_export_it_cannot_write_prints_first_then_one_line(capsys, run):
    (run / "export" / "README.md").unlink()
    (run / "export" / "README.md").mkdir()  # unwritable as a file, whoever runs the test (root ignores modes)
    capsys.readouterr()
    assert main(["eval", "R", "metrics=mse"]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("mse: ")  # the measured value is on screen before the write fails
    err = captured.err.strip()
    assert err.startswith("genzoo: error: the results above were not saved: cannot write into R/export") and len(err.splitlines()) == 1


def test_report_on_a_table_that_is_not_one(capsys, tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "results.csv").write_bytes(b"\x00\x01\xff\xfe")
    assert "is not UTF-8 text" in one_line(capsys, "report", "s")
    (tmp_path / "s" / "results.csv").write_text("a,b\n1,2\n")
    assert "is not a genzoo sweep table" in one_line(capsys, "report", "s")


def test_classifier_epochs_zero_is_a_plain_message(capsys):
    assert one_line(capsys, "train-classifier", "mnist", "epochs=0").endswith("'epochs' must be in range(1, 1001) (got 0)")


def test_an_unexpected_exception_is_one_line_with_the_traceback_in_a_file(capsys, monkeypatch):
    import genzoo.cli

    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(genzoo.cli.COMMANDS, "list", broken)
    assert main(["list"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("genzoo: internal error: ZeroDivisionError: a bug (details in ") and len(err.splitlines()) == 1
    details = Path(err.rsplit("details in ", 1)[1].rstrip(")"))
    assert "Traceback" in details.read_text()
    details.unlink()


def test_train_threads_sets_this_process_threads():
    before = torch.get_num_threads()
    try:
        assert main(["train", "steps=2", "train.threads=1", "out=t", *QUIET]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_an_address_space_limit_counts_as_memory_the_model_cannot_have():
    script = ("import resource, torch; from genzoo.budget import available_bytes, _first_number; "
              "used = _first_number('/proc/self/status', 'VmSize:', 1024); "
              "resource.setrlimit(resource.RLIMIT_AS, (used + (1 << 30), resource.RLIM_INFINITY)); "
              "print(available_bytes(torch.device('cpu')))")
    left = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    assert 0 < left <= 1 << 30
