"""Contract tests, parametrized over every registered objective x every architecture that fits it.

A newly installed objective or arch plugin gets these for free.
"""

import pytest
import torch
from safetensors.torch import load_file, save_file

from genzoo.config import OptimConfig
from genzoo.registry import default_registry
from genzoo.trainer import build_model, make_optimizers, update
from tests.helpers import fake_batch


def _pairs():
    registry = default_registry()
    pairs = []
    for objective in registry.names("objectives"):
        for arch in registry.names("archs"):
            needs = registry.get("objectives", objective).cls.needs
            if not registry.get("archs", arch).cls().missing(needs):
                pairs.append((objective, arch))
    return pairs


PAIRS = _pairs()


def _setup(objective_name, arch_name, seed=0):
    registry = default_registry()
    objective = registry.get("objectives", objective_name).cls()
    arch = registry.get("archs", arch_name).cls()
    torch.manual_seed(seed)
    model = build_model(arch, objective.needs)
    return objective, arch, model


def _snapshot(params):
    return [p.detach().clone() for p in params]


def _changed(before, params):
    return [not torch.equal(b, p.detach()) for b, p in zip(before, params)]


def test_every_objective_has_a_compatible_arch():
    covered = {objective for objective, _ in PAIRS}
    assert covered == set(default_registry().names("objectives"))


@pytest.mark.parametrize("objective_name,arch_name", PAIRS)
def test_parameter_sets_are_disjoint_and_complete(objective_name, arch_name):
    _, _, model = _setup(objective_name, arch_name)
    generator = {id(p) for p in model.generator_parameters()}
    critic = {id(p) for p in model.critic_parameters()}
    assert generator and not (generator & critic)
    assert generator | critic == {id(p) for p in model.parameters()}


@pytest.mark.parametrize("objective_name,arch_name", PAIRS)
def test_each_step_is_finite_and_changes_only_its_own_nets(objective_name, arch_name):
    objective, arch, model = _setup(objective_name, arch_name)
    has_critic = objective.needs.critic is not None
    optimizers = make_optimizers(model, OptimConfig(lr=1e-3), with_critic=has_critic)
    x = fake_batch(arch, 8)
    gen_params, critic_params = model.generator_parameters(), model.critic_parameters()
    if has_critic:
        before_g, before_c = _snapshot(gen_params), _snapshot(critic_params)
        out = update(model, objective, optimizers, "critic", x)
        assert torch.isfinite(out.loss)
        assert not any(_changed(before_g, gen_params)), "a critic step changed encoder/decoder weights"
        assert any(_changed(before_c, critic_params)), "a critic step changed no critic weight"
    before_g, before_c = _snapshot(gen_params), _snapshot(critic_params)
    out = update(model, objective, optimizers, "generator", x)
    assert torch.isfinite(out.loss)
    assert all(torch.isfinite(v) for v in out.logs.values())
    assert not any(_changed(before_c, critic_params)), "a generator step changed critic weights"
    assert any(_changed(before_g, gen_params)), "a generator step changed no encoder/decoder weight"


@pytest.mark.parametrize("objective_name,arch_name", PAIRS)
def test_output_shapes(objective_name, arch_name):
    objective, arch, model = _setup(objective_name, arch_name)
    x = fake_batch(arch, 4)
    assert model.sample(4).shape == (4, *arch.data_shape)
    if model.encoder is not None:
        z = model.encode(x)
        assert z.shape == (4, arch.prior.dim)
        assert model.reconstruct(x).shape == x.shape
    if model.critic is not None:
        z = model.sample_prior(4)
        assert model.critic_logit(x, z if model.critic.joint else None).shape == (4,)


@pytest.mark.parametrize("objective_name,arch_name", PAIRS)
def test_save_load_round_trip_is_exact(objective_name, arch_name, tmp_path):
    objective, arch, model = _setup(objective_name, arch_name, seed=0)
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    _, _, fresh = _setup(objective_name, arch_name, seed=1)
    fresh.load_state_dict(load_file(str(path)), strict=True)
    model.eval(), fresh.eval()
    x = fake_batch(arch, 4)
    outputs = []
    for m in (model, fresh):
        gen = torch.Generator().manual_seed(3)
        with torch.no_grad():
            outputs.append([m.sample(4, generator=gen)] + ([m.encode(x, generator=gen)] if m.encoder is not None else []))
    for a, b in zip(*outputs):
        assert torch.equal(a, b)
