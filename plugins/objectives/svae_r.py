"""sVAE-r ([sVAE] eq. 29): sVAE plus lambda-weighted reconstruction terms for x and z."""

from typing import Literal

import attrs

from ._joint import CycleOptions, JointAdversarial


class SVAER(JointAdversarial):
    """sVAE + lam * (R_x + R_z), with R_x, R_z the surrogates of log p(x|z^), log q(z|x~) (spec 2.4)."""

    stackable = ("lam", "link")

    @attrs.frozen(kw_only=True)
    class Config(CycleOptions):
        link: Literal["identity", "sigmoid"] = "identity"
