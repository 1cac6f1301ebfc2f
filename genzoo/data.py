"""Endless shuffled minibatches, with a state small enough to resume exactly.

Data that fits in memory is batched on the training device by indexing one tensor (no per-item
Python work per step). Larger data (full CelebA) is decoded item by item in DataLoader workers.
Both draw their order from the same `EpochOrder`.
"""

from __future__ import annotations

import torch

from genzoo.errors import GenzooError


class EpochOrder:
    """A reshuffled permutation per epoch (last partial batch dropped), from a private CPU generator.

    Its state is the generator state at the start of the epoch plus the position inside it.
    `part` = (rank, world): every process follows the same global batches and loads only its own
    slice of each, so nothing depends on the number of processes but who computes which rows.
    """

    def __init__(self, size: int, batch_size: int, seed: int, part: tuple[int, int] = (0, 1)):
        if batch_size > size:
            raise ValueError(f"batch_size {batch_size} is larger than the training set ({size} items)")
        self.size, self.batch_size = size, batch_size
        rank, world = part
        share = batch_size // world
        self.own = slice(rank * share, (rank + 1) * share)
        self.generator = torch.Generator().manual_seed(seed)
        self.new_epoch()

    def new_epoch(self) -> None:
        self.epoch_start = self.generator.get_state()
        self.order = torch.randperm(self.size, generator=self.generator)
        self.pos = 0

    def next_indices(self) -> torch.Tensor:
        if self.pos + self.batch_size > self.size:
            self.new_epoch()
        index = self.order[self.pos : self.pos + self.batch_size]
        self.pos += self.batch_size
        return index[self.own]

    def remaining_batches(self) -> list[list[int]]:
        stop = self.size - self.size % self.batch_size
        return [self.order[i : i + self.batch_size][self.own].tolist() for i in range(self.pos, stop, self.batch_size)]

    def state_dict(self) -> dict:
        return {"epoch_start": self.epoch_start.clone(), "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["epoch_start"])
        self.new_epoch()
        self.pos = int(state["pos"])


class BatchStream:
    """Batches from one in-memory tensor (kept compact, e.g. uint8, on the training device);
    `transform` maps each batch to the model's range."""

    def __init__(self, data: torch.Tensor, batch_size: int, seed: int, transform=None, part: tuple[int, int] = (0, 1)):
        self.data = data
        self.order = EpochOrder(data.shape[0], batch_size, seed, part)
        self.transform = transform or (lambda batch: batch)

    def __iter__(self):
        return self

    def __next__(self) -> torch.Tensor:
        return self.transform(self.data[self.order.next_indices().to(self.data.device)])

    def state_dict(self) -> dict:
        return self.order.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.order.load_state_dict(state)


class LoaderStream:
    """Batches of items decoded by DataLoader workers, in the order `EpochOrder` gives."""

    def __init__(self, items, batch_size: int, seed: int, device, transform=None, workers: int = 2, part: tuple[int, int] = (0, 1)):
        self.items, self.device, self.workers = items, device, workers
        self.order = EpochOrder(len(items), batch_size, seed, part)
        self.transform = transform or (lambda batch: batch)
        self._batches = None

    def _open(self):
        loader = torch.utils.data.DataLoader(
            self.items, batch_sampler=self.order.remaining_batches(), num_workers=self.workers,
            pin_memory=self.device.type == "cuda",
        )
        return iter(loader)

    def __iter__(self):
        return self

    def __next__(self) -> torch.Tensor:
        if self._batches is None:
            self._batches = self._open()
        try:
            try:
                batch = next(self._batches)
            except StopIteration:
                self.order.new_epoch()
                self._batches = self._open()
                batch = next(self._batches)
        except GenzooError as exc:  # raised in a worker: its message arrives wrapped in the worker's traceback
            last = str(exc).strip().splitlines()[-1]
            raise GenzooError(last.partition("GenzooError: ")[2] or last) from None
        self.order.pos += self.order.batch_size
        return self.transform(batch.to(self.device, non_blocking=True))

    def state_dict(self) -> dict:
        return self.order.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.order.load_state_dict(state)
        self._batches = None
