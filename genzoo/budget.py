"""Memory a model will need, estimated before anything is allocated, so that an absurd
configuration (a 32-layer MLP of width 8,192, a 10^12-dim noise input) is refused with one line
instead of swapping the machine to a standstill.

The nets are built on PyTorch's `meta` device (shapes only, no storage) and run once on a meta
batch; forward hooks count what each layer outputs.
"""

from __future__ import annotations

import os

import attrs
import torch

from genzoo.errors import GenzooError

BYTES = 4  # fp32
TRAINING_STATE = 4  # weights, gradients and Adam's two moments, per parameter
ACTIVATION_PASSES = 4  # one training step runs the nets on up to two batches, keeping outputs for backward


@attrs.frozen
class Footprint:
    parameters: int
    activations: int  # values output by all layers for one batch

    def bytes(self, training: bool) -> int:
        state = TRAINING_STATE if training else 1
        passes = ACTIVATION_PASSES if training else 1
        return BYTES * (state * self.parameters + passes * self.activations)


def footprint(arch, needs, batch_size: int) -> Footprint:
    """Parameter count and one batch's layer outputs of the model `arch` builds for `needs`."""
    from genzoo.model import JointModel

    with torch.device("meta"):
        encoder, decoder, critic = arch.build(needs)
        model = JointModel(encoder, decoder, critic, arch.prior).eval()  # eval: batch-norm takes any batch
        parameters = sum(p.numel() for p in model.parameters())
        outputs: list[int] = []

        def count(module, inputs, output):
            if isinstance(output, torch.Tensor):
                outputs.append(output.numel())

        hooks = [m.register_forward_hook(count) for m in model.modules() if not any(True for _ in m.children())]
        try:
            with torch.no_grad():
                x = torch.zeros((batch_size, *arch.data_shape))
                z = model.sample_prior(batch_size)
                x_tilde = model.decode(z)
                z_hat = model.encode(x) if encoder is not None else None
                if critic is not None:
                    model.critic_logit(torch.cat([x, x_tilde]), None if z_hat is None else torch.cat([z_hat, z]))
        except (RuntimeError, NotImplementedError, TypeError, ValueError):
            pass  # a net that cannot run on meta tensors: count its parameters only
        finally:
            for hook in hooks:
                hook.remove()
    return Footprint(parameters, sum(outputs))


def available_bytes(device: torch.device) -> int | None:
    """Free memory of `device` now (GPU), or the memory the OS says is available (CPU)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(arch, needs, batch_size: int, device, training: bool = True, copies: int = 1) -> Footprint:
    """Refuse, before allocating, a model whose estimated memory exceeds what `device` has."""
    device = torch.device(device)
    fp = footprint(arch, needs, batch_size)
    need = copies * fp.bytes(training)
    have = available_bytes(device)
    if have is not None and need > have:
        raise GenzooError(
            f"this model needs about {need / 2**30:,.1f} GiB ({copies * fp.parameters:,} parameters"
            f"{f', batch {batch_size}' if training else ''}), more than the {have / 2**30:,.1f} GiB available on {device}; "
            "use a smaller architecture (e.g. arch.width, arch.depth, arch.decoder_noise) or train.batch_size"
        )
    return fp
