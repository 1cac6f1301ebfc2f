"""Speed switches of the trainer: mixed precision, torch.compile, channels-last, decoder EMA.

Each is a `train.` setting. Those that change the numbers (precision, compile, ema) are off by
default; channels-last only reorders memory and is on by default for conv nets ("auto").
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    """autocast around the losses, plus a GradScaler per side for fp16 (bf16 and fp32 need none)."""

    def __init__(self, name: str, device: torch.device, sides):
        self.name, self.device = name, device
        enabled = name == "fp16"
        self.scalers = {side: torch.amp.GradScaler(device.type, enabled=enabled) for side in sides}

    def autocast(self):
        if self.name == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=DTYPES[self.name])

    def backward_and_step(self, side: str, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        scaler = self.scalers[side]
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    def state(self) -> dict:
        return {side: scaler.state_dict() for side, scaler in self.scalers.items() if scaler.is_enabled()}

    def load_state(self, state: dict) -> None:
        for side, saved in state.items():
            self.scalers[side].load_state_dict(saved)


def use_channels_last(setting: str, model: nn.Module) -> bool:
    """"auto": channels-last for nets with 2-D convolutions (+5-12% on CPU here, the usual GPU layout)."""
    if setting == "auto":
        return any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules())
    return setting == "on"


def compile_nets(model: nn.Module) -> None:
    """Compile each net's forward in place (state-dict keys unchanged, so checkpoints still fit)."""
    for net in (model.encoder, model.decoder, model.critic):
        if net is not None:
            net.compile()


def decoder_ema(model: nn.Module, decay: float):
    """An exponential moving average of the decoder's weights (and buffers) for sampling."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model.decoder, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
