"""sVAE ([sVAE] section 3): critic of eq. 10, generator eq. 14 on the pre-sigmoid logit."""

from typing import Literal

import attrs

from ._joint import JointAdversarial


class SVAE(JointAdversarial):
    """Encoder/decoder minimise -mean f(x, z^) + mean f(x~, z), an estimate of the symmetric KL.

    `link="sigmoid"` reproduces the authors' released code, which used sigmoid(f) instead.
    """

    stackable = ("link",)

    @attrs.frozen(kw_only=True)
    class Config:
        link: Literal["identity", "sigmoid"] = "identity"
