"""The exported contract suite, run over every registered objective x every architecture that fits it.

A newly installed objective or arch plugin gets these for free.
"""

import pytest

from genzoo.registry import default_registry
from genzoo.testing import CHECKS, ObjectiveContract, check_joint_critic_labels, check_save_load_exact, compatible_pairs

PAIRS = compatible_pairs()


def test_every_objective_has_a_compatible_arch():
    assert {objective for objective, _ in PAIRS} == set(default_registry().names("objectives"))


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("objective_name,arch_name", PAIRS)
def test_contract(objective_name, arch_name, check):
    CHECKS[check](objective_name, arch_name)


@pytest.mark.parametrize("objective_name,arch_name", PAIRS)
def test_save_load_round_trip_is_exact(objective_name, arch_name, tmp_path):
    check_save_load_exact(objective_name, arch_name, tmp_path)


@pytest.mark.parametrize("objective_name,arch_name", [(o, "toy_mlp") for o in ("ali", "alice", "svae", "svae_r")] + [("svae_r", "mnist_conv")])
def test_builtin_joint_critics_follow_the_label_convention(objective_name, arch_name):
    check_joint_critic_labels(objective_name, arch_name)


def test_the_label_check_catches_a_flipped_critic():
    """An sVAE-r whose critic learns the opposite labels fails the opt-in check."""
    from genzoo.interfaces import LossOut
    from genzoo.registry import Registry, hookimpl
    from genzoo_plugins.objectives.svae_r import SVAER

    class Flipped(SVAER):
        def critic_loss(self, model, x, weights):
            out = super().critic_loss(model, x, weights)
            return LossOut(-out.loss, out.logs)

    class Plugin:
        __name__ = "flipped-plugin"

        @staticmethod
        @hookimpl
        def genzoo_objectives():
            return {"flipped": Flipped}

    import genzoo.registry

    genzoo.registry._default = Registry(extra_plugins=(Plugin(),))
    with pytest.raises(AssertionError, match="scores encoder pairs higher"):
        check_joint_critic_labels("flipped", "toy_mlp")


class TestSVAERAtLambdaOne(ObjectiveContract):
    """A non-default option through the exported suite, as a plugin author would write it."""

    objective = "svae_r"
    objective_options = {"lam": 1.0, "cycles": "x"}
    joint_critic_labels = True
