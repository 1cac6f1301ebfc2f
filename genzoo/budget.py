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
    """Free memory of `device` now (GPU); on the CPU, the least of what the OS says is available,
    what this process's address-space limit (`ulimit -v`) leaves, and what its cgroup leaves."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    known = [value for value in (_os_available(), _rlimit_left(), _cgroup_left()) if value is not None]
    return min(known) if known else None


def _first_number(path: str, key: str = "", scale: int = 1) -> int | None:
    """The number after `key` on the first line of `path` that starts with it (None: unreadable, or "max")."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    word = line[len(key):].split()[0]
                    return int(word) * scale if word.isdigit() else None
    except (OSError, IndexError):
        pass
    return None


def _os_available() -> int | None:
    found = _first_number("/proc/meminfo", "MemAvailable:", 1024)
    if found is not None:
        return found
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _rlimit_left() -> int | None:
    import resource

    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    used = _first_number("/proc/self/status", "VmSize:", 1024) or 0
    return max(limit - used, 0)


def _cgroup_left() -> int | None:
    limit = _first_number("/sys/fs/cgroup/memory.max")
    if limit is None:
        return None
    return max(limit - (_first_number("/sys/fs/cgroup/memory.current") or 0), 0)


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
