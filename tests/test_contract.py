"""The exported contract suite, run over every registered objective x every architecture that fits it.

A newly installed objective or arch plugin gets these for free.
"""

import pytest

from genzoo.registry import default_registry
from genzoo.testing import CHECKS, check_save_load_exact, compatible_pairs

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
