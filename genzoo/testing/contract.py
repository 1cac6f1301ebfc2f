"""Checks that hold for any objective trained on any architecture that can serve it."""

from __future__ import annotations

import torch
from safetensors.torch import load_file, save_file

from genzoo.settings import OptimConfig
from genzoo.options import plain, structure
from genzoo.registry import default_registry
from genzoo import factory
from genzoo.assembly import make_optimizers
from genzoo.interfaces import StepRatio
from genzoo.losses import joint_pairs
from genzoo.step import SideLoss, alternate, update


def compatible_pairs(registry=None) -> list[tuple[str, str]]:
    """Every (objective, arch) pair among the installed plugins whose needs the arch can meet."""
    registry = registry or default_registry()
    pairs = []
    for objective in registry.names("objectives"):
        needs = factory.plugin_class("objectives", objective, registry).needs
        for arch in registry.names("archs"):
            if not factory.build("archs", arch, registry=registry).missing(needs):
                pairs.append((objective, arch))
    return pairs


def _setup(objective_name: str, arch_name: str, seed: int = 0, objective_options=None, arch_options=None):
    """The objective and arch with the given options (plain mappings; None: defaults) and a model seeded with `seed`."""
    objective = factory.build("objectives", objective_name, objective_options)
    arch = factory.build("archs", arch_name, arch_options)
    torch.manual_seed(seed)
    return objective, arch, factory.build_model(arch, objective.needs)


def _batch(arch, n: int, seed: int = 0) -> torch.Tensor:
    """Random items of the arch's shape in [0, 1), a range every observation model accepts."""
    return torch.rand((n, *arch.data_shape), generator=torch.Generator().manual_seed(seed))


def _snapshot(params):
    return [p.detach().clone() for p in params]


def _changed(before, params) -> list[bool]:
    return [not torch.equal(b, p.detach()) for b, p in zip(before, params)]


def _iteration(model, objective, optimizers, x):
    """One critic and one generator step (the trainer's alternation); each step's LossOut."""
    outs = []

    def step(side):
        outs.append(update(model, objective, optimizers, side, x))
        return outs[-1].logs

    alternate(StepRatio(critic=1 if objective.needs.critic else 0, generator=1), step)
    return outs


def check_disjoint_parameters(objective_name: str, arch_name: str, *, objective_options=None, arch_options=None) -> None:
    """Critic and encoder/decoder parameter sets are disjoint and together cover the model."""
    _, _, model = _setup(objective_name, arch_name, objective_options=objective_options, arch_options=arch_options)
    generator = {id(p) for p in model.side_parameters("generator")}
    critic = {id(p) for p in model.side_parameters("critic")}
    assert generator, "the model has no encoder/decoder parameters"
    assert not (generator & critic), "a parameter is shared by the critic and the encoder/decoder"
    assert generator | critic == {id(p) for p in model.parameters()}, "a parameter belongs to neither side"


def check_one_step(objective_name: str, arch_name: str, *, objective_options=None, arch_options=None) -> None:
    """Each update is finite and changes only its own side's weights."""
    objective, arch, model = _setup(objective_name, arch_name, objective_options=objective_options, arch_options=arch_options)
    has_critic = objective.needs.critic is not None
    optimizers = make_optimizers(model, OptimConfig(lr=1e-3), with_critic=has_critic)
    x = _batch(arch, 8)
    gen_params, critic_params = model.side_parameters("generator"), model.side_parameters("critic")
    if has_critic:
        before_g, before_c = _snapshot(gen_params), _snapshot(critic_params)
        out = update(model, objective, optimizers, "critic", x)
        assert torch.isfinite(out.loss), f"critic loss is {out.loss}"
        assert not any(_changed(before_g, gen_params)), "a critic step changed encoder/decoder weights"
        assert any(_changed(before_c, critic_params)), "a critic step changed no critic weight"
    before_g, before_c = _snapshot(gen_params), _snapshot(critic_params)
    out = update(model, objective, optimizers, "generator", x)
    assert torch.isfinite(out.loss), f"generator loss is {out.loss}"
    assert all(torch.isfinite(v) for v in out.logs.values()), f"non-finite logs: {out.logs}"
    assert not any(_changed(before_c, critic_params)), "a generator step changed critic weights"
    assert any(_changed(before_g, gen_params)), "a generator step changed no encoder/decoder weight"


def check_losses_depend_on_the_right_nets(objective_name: str, arch_name: str, *, objective_options=None, arch_options=None) -> None:
    """The critic loss has gradients in the critic; the generator loss in every net it trains."""
    objective, arch, model = _setup(objective_name, arch_name, objective_options=objective_options, arch_options=arch_options)
    x = _batch(arch, 8)
    sides = ["generator", "critic"] if objective.needs.critic else ["generator"]
    for side in sides:
        model.zero_grad(set_to_none=True)
        loss, _ = SideLoss(objective, model, side)(x, objective.loss_weights())
        loss.backward()
        for net in model.side_nets(side):
            grads = [p.grad for p in net.parameters() if p.grad is not None]
            assert any(g.abs().sum() > 0 for g in grads), f"the {side} loss does not depend on {type(net).__name__}"


def check_output_shapes(objective_name: str, arch_name: str, *, objective_options=None, arch_options=None) -> None:
    _, arch, model = _setup(objective_name, arch_name, objective_options=objective_options, arch_options=arch_options)
    x = _batch(arch, 4)
    assert model.sample(4).shape == (4, *arch.data_shape)
    if model.encoder is not None:
        assert model.encode(x).shape == (4, arch.prior.dim)
        assert model.reconstruct(x).shape == x.shape
    if model.critic is not None:
        z = model.sample_prior(4) if model.critic.joint else None
        assert model.critic_logit(x, z).shape == (4,)


def _outputs(model, arch) -> list[torch.Tensor]:
    model.eval()
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        outs = [model.sample(4, generator=gen)]
        if model.encoder is not None:
            outs.append(model.encode(_batch(arch, 4), generator=gen))
    return outs


def check_save_load_exact(objective_name: str, arch_name: str, folder, *, objective_options=None, arch_options=None) -> None:
    """Weights saved as safetensors load strictly into a fresh model and give identical outputs."""
    _, arch, model = _setup(objective_name, arch_name, seed=0, objective_options=objective_options, arch_options=arch_options)
    path = f"{folder}/model.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    _, _, fresh = _setup(objective_name, arch_name, seed=1, objective_options=objective_options, arch_options=arch_options)
    fresh.load_state_dict(load_file(path), strict=True)
    assert all(torch.equal(a, b) for a, b in zip(_outputs(model, arch), _outputs(fresh, arch)))


def check_config_round_trip(objective_name: str, arch_name: str, *, objective_options=None, arch_options=None) -> None:
    """The objective's and arch's options survive dict form (as in config.yaml) unchanged."""
    registry = default_registry()
    for kind, name, raw in (("objectives", objective_name, objective_options), ("archs", arch_name, arch_options)):
        cls = factory.plugin_class(kind, name, registry)
        options = factory.validated_options(kind, name, raw or {}, registry)
        assert structure(cls.Config, plain(options), name) == options


def check_device_move(objective_name: str, arch_name: str, *, objective_options=None, arch_options=None) -> None:
    """The model moves (to the GPU when there is one, else to float64) and still trains finitely."""
    objective, arch, model = _setup(objective_name, arch_name, objective_options=objective_options, arch_options=arch_options)
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    dtype = torch.float32 if device.type == "cuda" else torch.float64
    model.to(device=device, dtype=dtype)
    optimizers = make_optimizers(model, OptimConfig(lr=1e-3), with_critic=objective.needs.critic is not None)
    x = _batch(arch, 8).to(device=device, dtype=dtype)
    assert model.sample(2).device.type == device.type
    for out in _iteration(model, objective, optimizers, x):
        assert torch.isfinite(out.loss)


def check_determinism_under_seed(objective_name: str, arch_name: str, *, objective_options=None, arch_options=None) -> None:
    """Same seed, same data: identical weights after one training iteration."""
    results = []
    for _ in range(2):
        objective, arch, model = _setup(objective_name, arch_name, seed=5, objective_options=objective_options, arch_options=arch_options)
        optimizers = make_optimizers(model, OptimConfig(lr=1e-3), with_critic=objective.needs.critic is not None)
        torch.manual_seed(6)
        _iteration(model, objective, optimizers, _batch(arch, 8))
        results.append(_snapshot(model.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(*results))


def check_joint_critic_labels(objective_name: str, arch_name: str, *, objective_options=None, arch_options=None, steps: int = 30) -> None:
    """The label convention (genzoo.losses): after a few critic steps on a fixed model and batch, the
    critic scores decoder pairs above encoder pairs (f_p > f_q). Opt-in: for joint critics that
    follow the paper's sign convention."""
    objective, arch, model = _setup(objective_name, arch_name, objective_options=objective_options, arch_options=arch_options)
    assert objective.needs.critic == "joint", f"{objective_name} trains no joint critic; this check is for joint critics"
    optimizers = make_optimizers(model, OptimConfig(lr=1e-3), with_critic=True)
    x = _batch(arch, 64)
    torch.manual_seed(7)
    for _ in range(steps):
        update(model, objective, optimizers, "critic", x)
    model.eval()
    with torch.no_grad():
        pairs = joint_pairs(model, x)
    f_q, f_p = pairs.f_q.mean().item(), pairs.f_p.mean().item()
    assert f_p > f_q, (f"after {steps} critic steps the critic scores encoder pairs higher (mean f_q {f_q:.3g} > f_p {f_p:.3g}): "
                       "genzoo's convention is sigmoid(f) = probability that a pair came from the decoder")


CHECKS = {
    "disjoint_parameters": check_disjoint_parameters,
    "one_step": check_one_step,
    "losses_depend_on_the_right_nets": check_losses_depend_on_the_right_nets,
    "output_shapes": check_output_shapes,
    "config_round_trip": check_config_round_trip,
    "device_move": check_device_move,
    "determinism_under_seed": check_determinism_under_seed,
}


class ObjectiveContract:
    """Subclass in a test module, set `objective` and `arch`, and pytest runs every check.

    `objective_options` and `arch_options` (plain mappings, as in a config) test a non-default
    setting, e.g. `objective_options = {"lam": 1.0}`; `joint_critic_labels = True` adds the check
    of the label convention for a joint critic."""

    objective: str = ""
    arch: str = "toy_mlp"
    objective_options: dict | None = None
    arch_options: dict | None = None
    joint_critic_labels: bool = False

    def _options(self) -> dict:
        return {"objective_options": self.objective_options, "arch_options": self.arch_options}

    def test_disjoint_parameters(self):
        check_disjoint_parameters(self.objective, self.arch, **self._options())

    def test_one_step(self):
        check_one_step(self.objective, self.arch, **self._options())

    def test_losses_depend_on_the_right_nets(self):
        check_losses_depend_on_the_right_nets(self.objective, self.arch, **self._options())

    def test_output_shapes(self):
        check_output_shapes(self.objective, self.arch, **self._options())

    def test_save_load_exact(self, tmp_path):
        check_save_load_exact(self.objective, self.arch, tmp_path, **self._options())

    def test_config_round_trip(self):
        check_config_round_trip(self.objective, self.arch, **self._options())

    def test_device_move(self):
        check_device_move(self.objective, self.arch, **self._options())

    def test_determinism_under_seed(self):
        check_determinism_under_seed(self.objective, self.arch, **self._options())

    def __init_subclass__(cls, **kwargs):
        """A subclass that opts in gets the label-convention check as one more test."""
        super().__init_subclass__(**kwargs)
        if cls.joint_critic_labels:
            cls.test_joint_critic_labels = lambda self: check_joint_critic_labels(self.objective, self.arch, **self._options())
