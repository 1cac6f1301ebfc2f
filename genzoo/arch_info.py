"""Parameter counts of an architecture's nets, per variant it can build."""

from __future__ import annotations

from genzoo.interfaces import Arch, Needs

VARIANTS = {
    "joint (ALI/sVAE)": Needs(encoder=True, critic="joint"),
    "x-only (GAN/WGAN-GP)": Needs(encoder=False, critic="x"),
    "explicit (VAE)": Needs(critic=None, explicit_encoder=True, explicit_decoder=True),
}


def parameter_counts(arch: Arch) -> dict[str, dict[str, int]]:
    """{variant: {net: parameter count}} for each variant `arch` supports."""
    counts = {}
    for variant, needs in VARIANTS.items():
        if arch.missing(needs):
            continue
        nets = dict(zip(("encoder", "decoder", "critic"), arch.build(needs)))
        counts[variant] = {name: sum(p.numel() for p in net.parameters()) for name, net in nets.items() if net is not None}
    return counts
