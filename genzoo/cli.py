"""The `genzoo` command: train | sweep | report | list | sample | eval | ....  Errors a user can fix are one line and exit code 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from genzoo.errors import GenzooError

KINDS = ("objectives", "archs", "datasets", "metrics", "recipes", "sweeps")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line like every other genzoo error."""

    def error(self, message):
        self.exit(2, "genzoo: error: " + " ".join(f"{message}; see `{self.prog} --help`".split()) + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="genzoo", description="Train and compare joint (x, z) generative models.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = sub.add_parser(
        "train",
        help="train a model",
        description="genzoo train [RECIPE | FILE.yaml] [key=value ...]  (no arguments: sVAE-r on the toy mixture)",
    )
    train.add_argument("args", nargs="*", metavar="RECIPE_OR_KEY=VALUE")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR with its own config")
    sweep = sub.add_parser(
        "sweep",
        help="train a grid of runs in parallel; resumable; writes SWEEP_DIR/results.csv",
        description="genzoo sweep SWEEP [workers=N engine=stacked|trainer max_stack=N out=DIR] [key=value ...]",
    )
    sweep.add_argument("spec", metavar="SWEEP", help="a sweep file (zoo_configs/toy-fig3.yaml) or a sweep name (genzoo list sweeps)")
    sweep.add_argument("args", nargs="*", metavar="KEY=VALUE")
    report = sub.add_parser("report", help="draw a sweep's histograms and mean/std table (the paper's Fig. 3)")
    report.add_argument("sweep_dir", metavar="SWEEP_DIR")
    report.add_argument("args", nargs="*", metavar="series=objective panels=objective.lam")
    sample = sub.add_parser("sample", help="draw samples from a trained model into a picture")
    sample.add_argument("name", metavar="MODEL", help="a model folder (e.g. RUN_DIR/export), Hub repo id or zoo alias")
    sample.add_argument("args", nargs="*", metavar="n=64 out=samples.png seed=0")
    ev = sub.add_parser("eval", help="measure a trained model; writes metrics.json and refreshes its model card")
    ev.add_argument("name", metavar="MODEL_OR_RUN")
    ev.add_argument("args", nargs="*", metavar="metrics=mse,ais data.root=... ais.steps=...")
    clf = sub.add_parser("train-classifier", help="train the MNIST classifier used for MNIST IS and FID")
    clf.add_argument("dataset", choices=["mnist"])
    clf.add_argument("args", nargs="*", metavar="data.root=... out=mnist-classifier.safetensors epochs=10")
    rec = sub.add_parser("reconstruct", help="encode and decode image files; writes originals beside reconstructions")
    rec.add_argument("name", metavar="MODEL")
    rec.add_argument("images", nargs="+", metavar="IMAGE")
    rec.add_argument("--out", default="reconstructions.png")
    push = sub.add_parser("push", help="upload a trained model to the Hugging Face Hub")
    push.add_argument("source", metavar="RUN_DIR_OR_MODEL_DIR")
    push.add_argument("--repo-id", required=True, help="org/name")
    push.add_argument("--private", action="store_true")
    push.add_argument("--revision", help="a branch to push to (created if needed)")
    show = sub.add_parser("list", help="list installed plugins and recipes")
    show.add_argument("kind", nargs="?", choices=KINDS)
    show.add_argument("--details", action="store_true", help="archs: data shape, prior and parameter counts")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "report":
            return _report(args)
        if args.command == "sample":
            return _sample(args)
        if args.command == "eval":
            return _eval(args)
        if args.command == "train-classifier":
            return _train_classifier(args)
        if args.command == "reconstruct":
            return _reconstruct(args)
        if args.command == "push":
            from genzoo.hub import push

            print(push(args.source, args.repo_id, private=args.private, revision=args.revision))
            return 0
        return _list(args.kind, args.details)
    except GenzooError as exc:
        print("genzoo: error: " + " ".join(str(exc).split()), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("genzoo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `genzoo list | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the safety net under the specific errors above: a bug, not bad input
        message = " ".join(str(exc).split())
        message = message if len(message) <= 160 else message[:157] + "..."
        print(f"genzoo: internal error: {type(exc).__name__}: {message} (details in {_save_traceback()})", file=sys.stderr)
        return 1


def _save_traceback() -> str:
    """Write the current exception's traceback to a new file and return its name."""
    import tempfile
    import traceback

    fd, path = tempfile.mkstemp(prefix="genzoo-error-", suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"genzoo {' '.join(sys.argv[1:])}\n\n{traceback.format_exc()}")
    return path


def _train(args) -> int:
    from genzoo import distributed
    from genzoo.config import resolve
    from genzoo.registry import default_registry
    from genzoo.trainer import train

    recipe = None
    overrides = list(args.args)
    if overrides and "=" not in overrides[0]:
        recipe = overrides.pop(0)
    for item in overrides:
        if "=" not in item:
            raise GenzooError(f"expected key=value, got {item!r}; only the first argument may name a recipe")
    if args.resume:
        if recipe is not None:
            raise GenzooError("--resume takes the run's own config; do not name a recipe as well")
        recipe = str(Path(args.resume) / "config.yaml")
        overrides += ["resume=true", f"out={args.resume}"]
    registry = default_registry()
    config = resolve(recipe, overrides, registry)
    try:
        run_dir, result = train(config, registry)
    except BaseException:
        distributed.stop()
        raise
    distributed.stop(wait=True)
    if not result:  # a process other than the first of a multi-process run: rank 0 reports
        return 0
    metrics = result["metrics"]
    shown = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, float) and k not in ("wall_time_s",))
    print(f"done: {run_dir}  ({shown}; {metrics['wall_time_s']:.1f} s on {metrics['device']})")
    print(f"  metrics: {run_dir / 'metrics.json'}")
    print(f"  model:   {result['export']}  (genzoo sample {result['export']} n=64 out=grid.png)")
    for figure in result["figures"]:
        print(f"  picture: {figure}")
    return 0


def _sweep(args) -> int:
    from genzoo.registry import default_registry
    from genzoo.sweep import load_sweep, run_sweep

    registry = default_registry()
    sweep = load_sweep(args.spec, list(args.args), registry)
    table = run_sweep(sweep, registry)
    print(f"done: {len(sweep.runs)} runs; table: {table}  (pictures: genzoo report {table.parent})")
    return 0


def _report(args) -> int:
    import attrs

    from genzoo.config import parse_overrides
    from genzoo.options import structure
    from genzoo.report import report

    @attrs.frozen(kw_only=True)
    class ReportOptions:
        series: str = "objective"
        panels: str = "objective.lam"

    options = structure(ReportOptions, parse_overrides(args.args), "report")
    for path in report(Path(args.sweep_dir), series=options.series, panels=options.panels):
        print(f"wrote {path}")
    return 0


def _model_and_dataset(name):
    from genzoo.options import structure
    from genzoo.hub import load
    from genzoo.registry import default_registry

    model = load(name)
    if not model.data:
        return model, None
    options = dict(model.data)
    cls = default_registry().get("datasets", options.pop("name")).cls
    return model, cls(structure(cls.Config, options, "data"))


def _eval(args) -> int:
    from genzoo.config import parse_overrides
    from genzoo.options import structure
    from genzoo.evaluate import evaluate
    from genzoo.hub import load
    from genzoo.registry import default_registry

    source = Path(args.name)
    folder = source / "export" if (source / "export" / "config.json").is_file() else source
    model = load(folder if folder.is_dir() else args.name)
    patch = parse_overrides(args.args)
    names = patch.pop("metrics", None)
    names = names.split(",") if isinstance(names, str) else names
    if names is not None and not (isinstance(names, list) and names and all(isinstance(n, str) and n for n in names)):
        raise GenzooError("metrics= expects metric names, e.g. metrics=mse,is (see genzoo list metrics)")
    data_options = {**(model.data or {}), **patch.pop("data", {})}
    if "name" not in data_options:
        raise GenzooError("the model's config names no dataset; give data.name=... (and data.root=...)")
    registry = default_registry()
    cls = registry.get("datasets", data_options.pop("name")).cls
    dataset = cls(structure(cls.Config, data_options, "data"))
    names = names or list(dataset.default_metrics)
    results = evaluate(model, dataset, names, registry, patch)
    for key, detail in results["details"].items():
        bounds = f"; BDMC lower {detail['bdmc_lower']:.2f}, upper {detail['bdmc_upper']:.2f}, gap {detail['bdmc_gap']:.2f}" if "bdmc_gap" in detail else ""
        print(f"{key}: {detail['value']}  ({'; '.join(f'{k}={v}' for k, v in detail['protocol'].items())}{bounds})")
    if folder.is_dir():
        written = _record_results(folder, results)
        print(f"wrote {' and '.join(str(p) for p in written)}, and refreshed {folder / 'README.md'}")
    return 0


def _record_results(export: Path, results: dict) -> list[Path]:
    """Merge new results into the export's metrics.json (and its run's, when it is a run's export)
    and rewrite the model card; the values are printed before, so a failed write loses nothing."""
    from genzoo.checkpoint import write_text_atomically
    from genzoo.config import load_yaml
    from genzoo.hub import write_results

    def merged(path: Path) -> dict:
        try:
            old = json.loads(path.read_text()) if path.is_file() else {}
        except (OSError, ValueError):
            print(f"warning: {path} was unreadable; it now holds only the new results", file=sys.stderr)
            old = {}
        old = old if isinstance(old, dict) else {}
        details = old.get("details") if isinstance(old.get("details"), dict) else {}
        return {**old, **{k: v for k, v in results.items() if k != "details"}, "details": {**details, **results["details"]}}

    run = export.parent if (export.parent / "config.yaml").is_file() and export.name == "export" else None
    meta = json.loads((export / "config.json").read_text())
    try:
        recipe = load_yaml(run / "config.yaml") if run else meta
    except GenzooError:
        recipe = meta  # a damaged run config: the card shows the export's own config
    written = []
    try:
        metrics = merged(export / "metrics.json")
        write_results(export, meta, recipe, metrics)
        written.append(export / "metrics.json")
        if run is not None and (run / "metrics.json").is_file():
            write_text_atomically(run / "metrics.json", json.dumps(merged(run / "metrics.json"), indent=2, default=str) + "\n")
            written.append(run / "metrics.json")
    except OSError as exc:
        raise GenzooError(f"the results above were not saved: cannot write into {export} ({exc.strerror}); copy the model folder somewhere writable") from None
    return written


def _train_classifier(args) -> int:
    import attrs

    from genzoo.checkpoint import write_text_atomically
    from genzoo.config import parse_overrides
    from genzoo.options import structure
    from genzoo_plugins.datasets.mnist import MNIST, BinarizedMNIST, MNISTConfig
    from genzoo_plugins.metrics.mnist_classifier import describe, train_classifier

    @attrs.frozen(kw_only=True)
    class ClassifierOptions:
        data: dict = attrs.field(factory=dict)
        out: str = "mnist-classifier.safetensors"
        epochs: int = attrs.field(default=10, validator=attrs.validators.in_(range(1, 1001)))
        seed: int = 0
        record_only: bool = False  # recompute the JSON record of an existing classifier file, no training

    options = structure(ClassifierOptions, parse_overrides(args.args), "train-classifier")
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
    record = {**earlier, **describe(result["path"], mnist.raw("test"), mnist.labels("test"), binarized)}
    if not options.record_only:
        record.update({"epochs": options.epochs, "seed": options.seed, "validation_accuracy": result["validation_accuracy"]})
    write_text_atomically(summary, json.dumps(record, indent=1) + "\n")
    print(f"test accuracy {record['test_accuracy']:.4f}; IS of the real grey test set {record['real_test_is']:.3f} +- {record['real_test_is_std']:.3f}"
          + (f", of the shuffled binarized test set {record['binarized_test_is']:.3f}" if "binarized_test_is" in record else "") + " (10,000 images, 10 splits)")
    print(f"wrote {summary}; use {result['path']} with weights=PATH or $GENZOO_MNIST_CLASSIFIER")
    return 0


def _reconstruct(args) -> int:
    import torch

    from genzoo.plots import picture_path, reconstruction_picture, read_images

    out = picture_path(args.out)
    model, dataset = _model_and_dataset(args.name)
    shape = tuple(model.eval().sample(1).shape[1:])
    if len(shape) != 3 or dataset is None:
        raise GenzooError("genzoo reconstruct works on image models; this model's data are not images")
    x = dataset.to_model(read_images(args.images, shape))
    with torch.no_grad():
        rec = model.reconstruct(x, generator=torch.Generator().manual_seed(0))
    print(f"wrote {reconstruction_picture(x, rec, dataset.to_unit, out)}")
    return 0


def _sample(args) -> int:
    import attrs
    import torch

    from genzoo.config import parse_overrides
    from genzoo.options import structure
    from genzoo.plots import picture_path, sample_picture

    @attrs.frozen(kw_only=True)
    class SampleOptions:
        n: int = attrs.field(default=64, validator=attrs.validators.in_(range(1, 100_001)))
        out: str = "samples.png"
        seed: int = 0

    options = structure(SampleOptions, parse_overrides(args.args), "sample")
    out = picture_path(options.out)
    model, dataset = _model_and_dataset(args.name)
    with torch.no_grad():
        samples = model.sample(options.n, generator=torch.Generator().manual_seed(options.seed))
    print(f"wrote {sample_picture(samples, dataset, out)}")
    return 0


def _arch_details(arch) -> None:
    from genzoo.arch_info import parameter_counts

    print(f"      data {tuple(arch.data_shape)}, prior {arch.prior.kind}({arch.prior.dim}), can build: {', '.join(sorted(arch.supports))}")
    for variant, counts in parameter_counts(arch).items():
        print(f"      {variant:<22} " + ", ".join(f"{net} {n:,}" for net, n in counts.items()))


def _list(kind: str | None, details: bool = False) -> int:
    from genzoo.registry import default_registry

    registry = default_registry()
    for section in [kind] if kind else KINDS:
        print(f"{section}:")
        if section in ("recipes", "sweeps"):
            for name, path in getattr(registry, section)().items():
                print(f"  {name:<16} {path}")
            continue
        for name in registry.names(section):
            entry = registry.get(section, name)
            doc = (entry.cls.__doc__ or "").strip().splitlines()[0] if entry.cls.__doc__ else ""
            print(f"  {name:<16} {doc}  [{entry.plugin}]")
            if details and section == "archs":
                _arch_details(entry.cls())
    if registry.broken:
        print("broken plugins:")
        for broken in registry.broken:
            print(f"  {broken.plugin}: {broken.reason}")
    return 0
