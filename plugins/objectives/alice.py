"""ALICE (Li et al. 2017): ALI plus the explicit lambda-weighted x- and z-cycle terms (spec 2.3)."""

import attrs

from ._joint import CycleOptions, JointAdversarial


class ALICE(JointAdversarial):
    """ALI + lam * (R_x + R_z); lam = 1 as in the reference toy script."""

    stackable = ("lam",)

    @attrs.frozen(kw_only=True)
    class Config(CycleOptions):
        lam: float = attrs.field(default=1.0, validator=attrs.validators.ge(0.0))

    link = "softplus"
