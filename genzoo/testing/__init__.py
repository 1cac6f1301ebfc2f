"""The contract suite every objective x architecture pair must pass, exported for plugin authors.

In your package's tests::

    from genzoo.testing import ObjectiveContract

    class TestMyObjective(ObjectiveContract):
        objective = "my_objective"
        arch = "toy_mlp"

pytest then runs the same checks genzoo runs on its built-ins. The checks are also plain
functions (`check_*`) taking an objective name and an arch name.
"""

from genzoo.testing.contract import (
    CHECKS,
    ObjectiveContract,
    check_config_round_trip,
    check_determinism_under_seed,
    check_device_move,
    check_disjoint_parameters,
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
    "check_losses_depend_on_the_right_nets",
    "check_one_step",
    "check_output_shapes",
    "check_save_load_exact",
    "compatible_pairs",
]
