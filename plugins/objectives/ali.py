"""ALI (Dumoulin et al.; Donahue et al.) with the non-saturating generator loss ([sVAE] eq. 19)."""

from ._joint import JointAdversarial


class ALI(JointAdversarial):
    """Critic of eq. 10; encoder/decoder minimise softplus(-f(x, z^)) + softplus(f(x~, z))."""

    link = "softplus"
