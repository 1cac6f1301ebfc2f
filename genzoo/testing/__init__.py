"""The contract suite every objective x architecture pair must pass, exported for plugin authors.

In your package's tests::

    from genzoo.testing import ObjectiveContract

    class TestMyObjective(ObjectiveContract):
        objective = "my_objective"
        arch = "toy_mlp"

pytest then runs the same checks genzoo runs on its built-ins; `objective_options` and
`arch_options` test non-default settings, and `joint_critic_labels = True` adds the label-convention
check of a joint critic. The checks are also plain functions (`check_*`) taking an objective name,
an arch name and, as keywords, the options.
"""

from genzoo.testing.contract import (
    CHECKS,
    ObjectiveContract,
    check_config_round_trip,
    check_determinism_under_seed,
    check_device_move,
    check_disjoint_parameters,
    check_joint_critic_labels,
    check_losses_depend_on_the_right_nets,
    check_one_step,
    check_output_shapes,
    check_save_load_exact,
    compatible_pairs,
)

__all__ = [
    "CHECKS",
    "ObjectiveContract",
    "check_config_round_trip",
    "check_determinism_under_seed",
    "check_device_move",
    "check_disjoint_parameters",
    "check_joint_critic_labels",
    "check_losses_depend_on_the_right_nets",
    "check_one_step",
    "check_output_shapes",
    "check_save_load_exact",
    "compatible_pairs",
]
