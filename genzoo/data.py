"""On-device minibatches from a dataset that fits in memory: no per-item Python work per step."""

from __future__ import annotations

import torch


class BatchStream:
    """Endless shuffled minibatches (reshuffled each epoch, last partial batch dropped).

    `data` is kept compact (e.g. uint8) and `transform` maps each batch to the model's range on
    the device. The order comes from a private CPU generator whose state at the start of the epoch, plus
    the position inside it, is all `state_dict` needs for an exact resume.
    """

    def __init__(self, data: torch.Tensor, batch_size: int, seed: int, transform=None):
        if batch_size > data.shape[0]:
            raise ValueError(f"batch_size {batch_size} is larger than the training set ({data.shape[0]} items)")
        self.data = data
        self.batch_size = batch_size
        self.transform = transform or (lambda batch: batch)
        self.generator = torch.Generator().manual_seed(seed)
        self._new_epoch()

    def _new_epoch(self) -> None:
        self._epoch_start = self.generator.get_state()
        self._order = torch.randperm(self.data.shape[0], generator=self.generator).to(self.data.device)
        self._pos = 0

    def __iter__(self):
        return self

    def __next__(self) -> torch.Tensor:
        if self._pos + self.batch_size > self.data.shape[0]:
            self._new_epoch()
        index = self._order[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return self.transform(self.data[index])

    def state_dict(self) -> dict:
        return {"epoch_start": self._epoch_start.clone(), "pos": self._pos}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["epoch_start"])
        self._new_epoch()
        self._pos = int(state["pos"])
