"""`genzoo train-classifier mnist`: train the classifier that MNIST IS and FID use, and keep a
record beside its weights of what it scores on the real test sets."""

import json
from pathlib import Path

import attrs

from genzoo.checkpoint import write_text_atomically
from genzoo.config import parse_options
from genzoo.errors import GenzooError
from genzoo.interfaces import Command
from genzoo.options import structure


@attrs.frozen(kw_only=True)
class ClassifierOptions:
    data: dict = attrs.field(factory=dict)
    out: str = "mnist-classifier.safetensors"
    epochs: int = attrs.field(default=10, validator=attrs.validators.in_(range(1, 1001)))
    seed: int = 0
    record_only: bool = False  # recompute the JSON record of an existing classifier file, no training


class TrainClassifier(Command):
    """Train the MNIST classifier used for MNIST IS and FID."""

    help = "train the MNIST classifier used for MNIST IS and FID"

    def add_arguments(self, parser) -> None:
        parser.add_argument("dataset", choices=["mnist"])
        parser.add_argument("args", nargs="*", metavar="data.root=... out=mnist-classifier.safetensors epochs=10")

    def run(self, args) -> int:
        from ..datasets.mnist import MNIST, BinarizedMNIST, MNISTConfig

        from .mnist_classifier import describe, train_classifier

        options = parse_options(ClassifierOptions, args.args, "train-classifier")
        mnist = MNIST(structure(MNISTConfig, options.data, "data"))
        if options.record_only:
            if not Path(options.out).is_file():
                raise GenzooError(f"record_only=true needs an existing classifier at out={options.out}")
            result = {"path": options.out, "validation_accuracy": None}
        else:
            result = train_classifier(mnist.raw("train"), mnist.labels("train"), mnist.raw("test"), mnist.labels("test"),
                                      Path(options.out), epochs=options.epochs, seed=options.seed)
        try:
            binarized = BinarizedMNIST(BinarizedMNIST.Config(root=mnist.config.root)).raw("test")
        except GenzooError:
            binarized = None  # the binarized reference is optional
        summary = Path(result["path"]).with_suffix(".json")
        earlier = json.loads(summary.read_text()) if options.record_only and summary.is_file() else {}
        record = {**earlier, **describe(result["path"], mnist.raw("test"), mnist.labels("test"), binarized, train_u8=mnist.raw("train"))}
        if not options.record_only:
            record.update({"epochs": options.epochs, "seed": options.seed, "validation_accuracy": result["validation_accuracy"]})
        write_text_atomically(summary, json.dumps(record, indent=1) + "\n")
        print(f"test accuracy {record['test_accuracy']:.4f}; IS of the real grey test set {record['real_test_is']:.3f} +- {record['real_test_is_std']:.3f}"
              + (f", of the shuffled binarized test set {record['binarized_test_is']:.3f}" if "binarized_test_is" in record else "") + " (10,000 images, 10 splits)"
              + f"; FID of {record['real_train_fid_protocol']}: {record['real_train_fid']:.2f}")
        print(f"wrote {summary}; use {result['path']} with weights=PATH or $GENZOO_MNIST_CLASSIFIER")
        return 0
