"""Gather what bench/gpu_mnist.sh needs on a machine without network into one folder:

    FOLDER/data/MNIST/raw/*.gz, FOLDER/data/binarized_mnist/binarized_mnist_test.amat.gz
    FOLDER/mnist-classifier.safetensors     (the classifier of MNIST IS and FID)
    FOLDER/wheels/torch_fidelity-*.whl      (if given; for a machine without torch-fidelity)
    FOLDER/model/                           (if --run is given: a model folder made from the newest
                                             checkpoint of that run, so a longer run that is still
                                             training elsewhere can be scored with AIS)

Usage: python bench/gpu_mnist_prepare.py FOLDER --data DATA --classifier FILE [--wheel WHL] [--run RUN_DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from genzoo import checkpoint
from genzoo.config import build
from genzoo.hub import CONFIG, GenzooModel, model_config
from genzoo.registry import default_registry

MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def model_from_newest_checkpoint(run_dir: Path, folder: Path) -> int:
    """Write the model of `run_dir`'s newest checkpoint as a model folder (config.json and
    model.safetensors, as an export has them); returns the checkpoint's iteration."""
    from safetensors.torch import save_model

    registry = default_registry()
    tensors, meta = checkpoint.load(checkpoint.list_checkpoints(run_dir / "checkpoints")[-1])
    config = build(meta["config"], registry)
    model = GenzooModel(objective=config.objective.as_raw(), arch=config.arch.as_raw(), data=config.data.as_raw())
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, str(folder / "model.safetensors"))
    (folder / CONFIG).write_text(json.dumps(model_config(config, registry), indent=2, sort_keys=True) + "\n")
    (folder / "trained.json").write_text(json.dumps({"run": run_dir.name, "steps": meta["step"], "elapsed_s": meta["elapsed_s"]}) + "\n")
    return meta["step"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--data", type=Path, required=True, help="the folder holding MNIST/raw and binarized_mnist/")
    parser.add_argument("--classifier", type=Path, required=True)
    parser.add_argument("--wheel", type=Path)
    parser.add_argument("--run", type=Path, help="a run folder whose newest checkpoint becomes FOLDER/model")
    args = parser.parse_args()
    raw = args.folder / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES:
        shutil.copyfile(args.data / "MNIST" / "raw" / name, raw / name)
    (args.folder / "data" / "binarized_mnist").mkdir(exist_ok=True)
    shutil.copyfile(args.data / "binarized_mnist" / "binarized_mnist_test.amat.gz", args.folder / "data" / "binarized_mnist" / "binarized_mnist_test.amat.gz")
    shutil.copyfile(args.classifier, args.folder / "mnist-classifier.safetensors")
    if args.wheel:
        (args.folder / "wheels").mkdir(exist_ok=True)
        shutil.copyfile(args.wheel, args.folder / "wheels" / args.wheel.name)
    if args.run:
        step = model_from_newest_checkpoint(args.run, args.folder / "model")
        print(f"model: {args.run} at iteration {step}")
    print(f"wrote {args.folder}")


if __name__ == "__main__":
    main()
