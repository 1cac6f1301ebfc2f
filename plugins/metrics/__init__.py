"""Built-in metrics."""

from genzoo.registry import hookimpl


@hookimpl
def genzoo_metrics():
    from . import ais, encoded_is, fidelity, latent_match, mse, toy_is

    return {
        "mse": mse.ReconstructionMSE,
        "toy_is": toy_is.ToyInceptionScore,
        "is": fidelity.InceptionScore,
        "fid": fidelity.FID,
        "ais": ais.AISLogLikelihood,
        "latent_kl": latent_match.LatentMatch,
        "is_encoded": encoded_is.EncodedInceptionScore,
        "is_reconstructed": encoded_is.ReconstructionInceptionScore,
    }


@hookimpl
def genzoo_commands():
    from . import train_classifier

    return {"train-classifier": train_classifier.TrainClassifier}
