"""Mixed precision, torch.compile, channels-last and EMA: each trains a few finite steps on CPU."""

import math

import pytest
import torch
from safetensors.torch import load_file

from genzoo import checkpoint
from genzoo.cli import main
from genzoo.config import resolve
from genzoo.registry import default_registry
from genzoo.trainer import Trainer

REGISTRY = default_registry()


def _finite_steps(overrides, tmp_path, iterations=3, recipe=None):
    trainer = Trainer(resolve(recipe, overrides, REGISTRY), REGISTRY, tmp_path)
    for _ in range(iterations):
        logs = trainer.train_iteration(next(trainer.stream))
        assert logs and all(math.isfinite(float(v)) for v in logs.values()), logs
    return trainer


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_steps_are_finite_and_fp16_scales_its_losses(precision, tmp_path):
    trainer = _finite_steps([f"precision={precision}", "arch.width=32"], tmp_path)
    scalers = trainer.precision.state()
    assert bool(scalers) == (precision == "fp16")
    assert all(state["scale"] > 0 for state in scalers.values())


def test_gradient_penalty_is_computed_in_full_precision_under_fp16(tmp_path):
    trainer = _finite_steps(["objective=wgan_gp", "precision=fp16", "arch.width=16"], tmp_path, iterations=1)
    x = next(trainer.stream)
    torch.manual_seed(0)
    plain = trainer.objective.critic_loss(trainer.model, x, trainer.weights).logs["gp"]
    torch.manual_seed(0)
    with torch.autocast("cpu", dtype=torch.float16):
        mixed = trainer.objective.critic_loss(trainer.model, x, trainer.weights).logs["gp"]
    assert mixed.dtype == torch.float32 and torch.equal(mixed, plain)


def test_mixed_precision_on_the_conv_nets(tmp_path, mnist_root):
    _finite_steps([f"data.root={mnist_root}", "precision=bf16", "batch_size=16"], tmp_path, 2, recipe="svae-r-mnist")


def test_channels_last_is_automatic_for_conv_nets_only(tmp_path, mnist_root):
    conv = _finite_steps([f"data.root={mnist_root}", "batch_size=16"], tmp_path / "conv", 1, recipe="svae-r-mnist")
    weights = [p for p in conv.model.parameters() if p.dim() == 4]
    assert weights and all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)
    off = _finite_steps([f"data.root={mnist_root}", "batch_size=16", "train.channels_last=off"], tmp_path / "off", 1, recipe="svae-r-mnist")
    assert all(p.is_contiguous() for p in off.model.parameters())


def test_compile_trains(tmp_path):
    trainer = _finite_steps(["compile=true", "arch.width=16", "arch.depth=1"], tmp_path, iterations=2)
    assert hasattr(trainer.model.decoder, "_compiled_call_impl") and trainer.model.decoder._compiled_call_impl is not None


def test_ema_decoder_is_what_the_exported_model_samples_with(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "steps=6", "ema=0.5", "arch.width=16", f"out={out}", "train.progress=false", "train.checkpoint_every=6"]) == 0
    tensors, _ = checkpoint.load(checkpoint.list_checkpoints(out / "checkpoints")[-1])
    exported = load_file(str(out / "export" / "model.safetensors"))
    decoder_keys = [k for k in exported if k.startswith("decoder.")]
    assert decoder_keys
    for key in decoder_keys:
        averaged = tensors["ema.module." + key[len("decoder."):]]
        assert torch.equal(exported[key], averaged), key
    assert any(not torch.equal(exported[k], tensors["model." + k]) for k in decoder_keys), "EMA equals the raw decoder"
    encoder_key = next(k for k in exported if k.startswith("encoder."))
    assert torch.equal(exported[encoder_key], tensors["model." + encoder_key])
