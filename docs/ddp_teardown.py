"""Hunting the one gloo abort seen in CI: two gloo ranks start, train, and end, N times per way of
ending, counting every rank that dies abnormally (SIGABRT shows as exit code -6).

    python docs/ddp_teardown.py [--variants genzoo,keep-ddp,no-destroy,pending-work] [--repeats 30]

Ways of ending (each rank exits through normal interpreter teardown, never os._exit):
  genzoo        genzoo's Trainer (DDP per side) for 3 toy iterations, then distributed.stop(wait=True),
                as `torchrun -m genzoo train` ends;
  keep-ddp      a DDP Linear trained 3 steps, kept alive past destroy_process_group;
  no-destroy    the same, never calling destroy_process_group;
  pending-work  no destroy, and an asynchronous all_reduce still held when the interpreter exits
                (the teardown race described in pytorch/pytorch#179291).
Results (runs, failures, seconds) print per variant; docs/hostile-inputs.md records what was seen.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

KEPT = []  # objects that must outlive the rank function, as a long-lived program would keep them


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _genzoo_rank(out: str) -> None:
    from genzoo import distributed
    from genzoo.config import resolve
    from genzoo.registry import default_registry
    from genzoo.trainer import Trainer

    registry = default_registry()
    trainer = Trainer(resolve(None, ["steps=3", "batch_size=64", "arch.width=32"], registry), registry, Path(out))
    for _ in range(3):
        trainer.train_iteration(next(trainer.stream))
    KEPT.append(trainer)
    distributed.stop(wait=True)


def _plain_rank(variant: str) -> None:
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo")
    model = DistributedDataParallel(torch.nn.Linear(64, 64))
    optimizer = torch.optim.Adam(model.parameters())
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(32, 64)).pow(2).mean().backward()
        optimizer.step()
    KEPT.append(model)
    if variant == "pending-work":
        KEPT.append(dist.all_reduce(torch.ones(1 << 20), async_op=True))
    if variant == "keep-ddp":
        dist.barrier()
        dist.destroy_process_group()


def _rank(rank: int, port: int, variant: str, out: str) -> None:
    import faulthandler

    faulthandler.enable()
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    if variant == "genzoo":
        _genzoo_rank(out)
    else:
        _plain_rank(variant)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="genzoo,keep-ddp,no-destroy,pending-work")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("TORCH_SHOW_CPP_STACKTRACES", "1")
    for variant in args.variants.split(","):
        failures, began = [], time.perf_counter()
        for i in range(args.repeats):
            with tempfile.TemporaryDirectory() as out:
                try:
                    mp.spawn(_rank, args=(_free_port(), variant, out), nprocs=2, join=True)
                except Exception as exc:  # a rank that died: keep going, count it
                    failures.append(f"{i}: {str(exc)[:200]}")
        print(f"{variant}: {len(failures)} of {args.repeats} failed, {time.perf_counter() - began:.0f} s", flush=True)
        for failure in failures:
            print("  " + failure)


if __name__ == "__main__":
    main()
