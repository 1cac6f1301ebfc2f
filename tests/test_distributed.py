"""Two real gloo processes on CPU against one process with the same global batch."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from genzoo import distributed
from genzoo.config import resolve
from genzoo.registry import default_registry
from genzoo.trainer import Trainer

TOY = ["steps=3", "batch_size=64", "arch.width=32"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(overrides: list[str], iterations: int, run_dir: Path) -> dict:
    registry = default_registry()
    recipe = overrides[0] if "=" not in overrides[0] else None
    trainer = Trainer(resolve(recipe, overrides[1 if recipe else 0 :], registry), registry, run_dir)
    for _ in range(iterations):
        trainer.train_iteration(next(trainer.stream))
    return {k: v.detach().clone().contiguous() for k, v in trainer.model.state_dict().items()}


def _rank(rank: int, world: int, port: int, overrides: list[str], iterations: int, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    try:
        save_file(_train(overrides, iterations, Path(out)), str(Path(out) / f"rank{rank}.safetensors"))
    except BaseException:
        distributed.stop()
        raise
    distributed.stop(wait=True)
    # Weights saved, group closed: skip interpreter teardown. One CI run saw a rank of this test die
    # with SIGABRT from std::terminate (no Python error), not reproduced in 15 reruns; the CLI's
    # own exit path is covered by the torchrun test below.
    os._exit(0)


def _two_ranks_and_one(overrides, iterations, tmp_path):
    mp.spawn(_rank, args=(2, _free_port(), overrides, iterations, str(tmp_path)), nprocs=2, join=True)
    ranks = [load_file(str(tmp_path / f"rank{r}.safetensors")) for r in range(2)]
    return ranks, _train(overrides, iterations, tmp_path / "single")


def test_toy_svae_r_on_two_processes_equals_one_process_with_the_global_batch(tmp_path):
    ranks, single = _two_ranks_and_one(TOY, 3, tmp_path)
    for name in single:
        assert torch.equal(ranks[0][name], ranks[1][name]), f"ranks disagree on {name}"
        # Same data rows, same noise rows: only float summation order differs (measured 3e-8).
        torch.testing.assert_close(ranks[0][name], single[name], rtol=0, atol=1e-5, msg=name)


def test_mnist_conv_on_two_processes_stays_in_sync_and_close_to_one_process(tmp_path, mnist_root):
    overrides = ["svae-r-mnist", f"data.root={mnist_root}", "batch_size=32", "steps=2", "eval.metrics=[mse]", "eval.every=0"]
    ranks, single = _two_ranks_and_one(overrides, 2, tmp_path)
    start = _train(overrides, 0, tmp_path / "start")
    gap, update = 0.0, 0.0
    for name in single:
        assert torch.equal(ranks[0][name], ranks[1][name]), f"ranks disagree on {name}"
        if single[name].is_floating_point():
            gap += (ranks[0][name].double() - single[name].double()).pow(2).sum().item()
            update += (single[name].double() - start[name].double()).pow(2).sum().item()
    # Batch-norm statistics over 16 rows per rank instead of 32 and per-rank dropout masks make the
    # runs differ; the stated tolerance: the two updates differ by under a quarter of their size.
    print(f"relative gap of the 2-process update: {(gap / update) ** 0.5:.4f}")
    assert (gap / update) ** 0.5 < 0.25


def _torchrun(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "genzoo", "train", *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def test_torchrun_launches_the_cli_only_rank_0_writes_and_resume_is_exact(tmp_path):
    common = ["batch_size=64", "arch.width=16", "train.progress=false", "train.checkpoint_every=2"]
    out = tmp_path / "run"
    result = _torchrun("steps=4", f"out={out}", *common)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("done:") == 1
    assert (out / "export" / "model.safetensors").is_file()
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1  # one writer, logged at the last step
    resumed = _torchrun("--resume", str(out), "steps=6")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    straight = _torchrun("steps=6", f"out={tmp_path / 'straight'}", *common)
    assert straight.returncode == 0, straight.stderr[-2000:]
    a = load_file(str(out / "export" / "model.safetensors"))
    b = load_file(str(tmp_path / "straight" / "export" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
