"""Multi-process training on torch.distributed, launched by torchrun (one process per device).

    torchrun --nproc_per_node=N -m genzoo train ...            # one machine
    torchrun --nnodes=M --node_rank=K --rdzv_endpoint=HOST:PORT --nproc_per_node=N -m genzoo train ...

`train.batch_size` is the global batch. Every rank follows the same order of global batches and
loads only its own rows of each (genzoo.data.EpochOrder), and draws its noise the same way (genzoo.rng.global_batch_rows), so all ranks' generators
stay in step and a run's numbers do not depend on the number of processes, except through
batch-norm statistics (per rank unless `train.sync_batchnorm=true`) and dropout masks. Each side
(critic; encoder + decoder) is its own DistributedDataParallel module with its own Adam; a
gradient penalty is computed on each rank's rows. Rank 0 alone logs, draws and checkpoints.
"""

from __future__ import annotations

import os

import attrs
import torch
import torch.distributed as dist
from torch import nn

from genzoo.devices import resolve_device
from genzoo.errors import GenzooError


@attrs.frozen
class Topology:
    rank: int
    world: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def topology_from_env() -> Topology | None:
    """The torchrun environment, or None for a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    return Topology(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def start(topology: Topology, device_name: str) -> torch.device:
    """Join the process group: NCCL on GPUs, gloo on CPU; returns this rank's device."""
    device = resolve_device(device_name, topology.local_rank)
    use_cuda = device.type == "cuda"
    if use_cuda:
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return device


def stop(wait: bool = False) -> None:
    """Leave the process group; `wait`: first let every rank arrive (rank 0 exports after the
    others finish training, and a rank that exits while another still holds the group aborts)."""
    if dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def check_batch(batch_size: int, topology: Topology) -> None:
    """Every process computes an equal share of the global batch."""
    if batch_size % topology.world:
        raise GenzooError(f"train.batch_size {batch_size} (the global batch) must be divisible by the {topology.world} processes")


def sync_batchnorm(model: nn.Module) -> None:
    """Batch-norm statistics over the global batch (GPU): every BN layer becomes a SyncBatchNorm
    that keeps the same parameter and buffer tensors, so optimizers built before still hold them."""
    nn.SyncBatchNorm.convert_sync_batchnorm(model)


def wrap(side_loss: nn.Module, device: torch.device) -> nn.Module:
    """One side's loss module as DDP, averaging only that side's gradients: DDP reduces the
    parameters that take gradients when it is built, so the other side is frozen then.
    Batch-norm buffers are broadcast from rank 0 every step."""
    from torch.nn.parallel import DistributedDataParallel

    side_loss.model.train_side(side_loss.side)
    return DistributedDataParallel(side_loss, device_ids=[device.index] if device.type == "cuda" else None, forward_sync_buffers=True)


def broadcast_buffers(model: nn.Module, topology: Topology | None) -> None:
    """Give every rank rank 0's buffers (batch-norm running statistics). Each rank updates them from
    its own rows, and nets also run outside their side's DDP module (frozen, in the other side's
    step), so without this the ranks' buffers would drift apart; they are tiny, so it runs every
    iteration and any rank's model is the run's model."""
    if topology is None:
        return
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)


def all_true(flag: bool, topology: Topology | None) -> bool:
    """True when `flag` holds on every rank (finite losses, time left), so all ranks stop together."""
    if topology is None:
        return flag
    value = torch.tensor([1.0 if flag else 0.0])
    if dist.get_backend() == "nccl":
        value = value.cuda()
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item())


def barrier(topology: Topology | None) -> None:
    if topology is not None:
        dist.barrier()
