"""Built-in objectives, one small file each."""

from genzoo.registry import hookimpl


@hookimpl
def genzoo_objectives():
    from . import ali, alice, gan, svae, svae_r, vae, wgan_gp

    return {
        "vae": vae.VAE,
        "gan": gan.GAN,
        "wgan_gp": wgan_gp.WGANGP,
        "ali": ali.ALI,
        "alice": alice.ALICE,
        "svae": svae.SVAE,
        "svae_r": svae_r.SVAER,
    }
