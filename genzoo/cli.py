"""The `genzoo` command: train | sweep | report | list | sample | eval | ....  Errors a user can fix are one line and exit code 2."""

from __future__ import annotations

import argparse
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
    ev.add_argument("args", nargs="*", metavar="metrics=mse,ais data.root=... ais.steps=... device=cuda")
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
    for name, command in _plugin_commands().items():
        command.add_arguments(sub.add_parser(name, help=command.help))
    return parser


def _plugin_commands() -> dict:
    """Subcommands that installed plugins contribute (hook `genzoo_commands`), built-in names excepted."""
    from genzoo.factory import plugin_class
    from genzoo.registry import default_registry

    return {name: plugin_class("commands", name)() for name in default_registry().names("commands") if name not in COMMANDS}


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code
    try:
        run = COMMANDS.get(args.command) or _plugin_commands()[args.command].run
        return run(args)
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
    if metrics.get("stopped_at_max_minutes"):
        print(f"  stopped by train.max_minutes at iteration {metrics['steps']} of {config.train.steps}; go on with: genzoo train --resume {run_dir}")
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

    from genzoo.config import parse_options
    from genzoo.report import report

    @attrs.frozen(kw_only=True)
    class ReportOptions:
        series: str = "objective"
        panels: str = "objective.lam"

    options = parse_options(ReportOptions, args.args, "report")
    for path in report(Path(args.sweep_dir), series=options.series, panels=options.panels):
        print(f"wrote {path}")
    return 0


def _model_and_dataset(name):
    from genzoo import factory
    from genzoo.hub import load

    model = load(name)
    if not model.data:
        return model, None
    options = dict(model.data)
    return model, factory.build("datasets", options.pop("name"), options, where="data")


def _eval(args) -> int:
    from genzoo import factory
    from genzoo.config import parse_overrides
    from genzoo.devices import resolve_device
    from genzoo.evaluate import evaluate
    from genzoo.hub import load
    from genzoo.registry import default_registry
    from genzoo.results_files import record_results

    source = Path(args.name)
    folder = source / "export" if (source / "export" / "config.json").is_file() else source
    patch = parse_overrides(args.args)
    train_patch = patch.pop("train", {})  # device= is an alias of train.device
    device = train_patch.pop("device", "auto") if isinstance(train_patch, dict) else None
    if train_patch or not isinstance(device, str):
        raise GenzooError("genzoo eval takes no train settings but device= (auto, cpu, cuda or cuda:N)")
    model = load(folder if folder.is_dir() else args.name, device=resolve_device(device, setting="device"))
    names = patch.pop("metrics", None)
    names = names.split(",") if isinstance(names, str) else names
    if names is not None and not (isinstance(names, list) and names and all(isinstance(n, str) and n for n in names)):
        raise GenzooError("metrics= expects metric names, e.g. metrics=mse,is (see genzoo list metrics)")
    data_options = {**(model.data or {}), **patch.pop("data", {})}
    if "name" not in data_options:
        raise GenzooError("the model's config names no dataset; give data.name=... (and data.root=...)")
    registry = default_registry()
    dataset = factory.build("datasets", data_options.pop("name"), data_options, registry, where="data")
    names = names or list(dataset.default_metrics)
    results = evaluate(model, dataset, names, registry, patch)
    for key, detail in results["details"].items():
        bounds = f"; BDMC lower {detail['bdmc_lower']:.2f}, upper {detail['bdmc_upper']:.2f}, gap {detail['bdmc_gap']:.2f}" if "bdmc_gap" in detail else ""
        print(f"{key}: {detail['value']}  ({'; '.join(f'{k}={v}' for k, v in detail['protocol'].items())}{bounds})")
    if folder.is_dir():
        written = record_results(folder, results)
        print(f"wrote {' and '.join(str(p) for p in written)}, and refreshed {folder / 'README.md'}")
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

    from genzoo.config import parse_options
    from genzoo.plots import picture_path, sample_picture

    @attrs.frozen(kw_only=True)
    class SampleOptions:
        n: int = attrs.field(default=64, validator=attrs.validators.in_(range(1, 100_001)))
        out: str = "samples.png"
        seed: int = 0

    options = parse_options(SampleOptions, args.args, "sample")
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


def _push(args) -> int:
    from genzoo.hub import push

    print(push(args.source, args.repo_id, private=args.private, revision=args.revision))
    return 0


def _list(args) -> int:
    from genzoo import factory
    from genzoo.registry import default_registry

    kind, details = args.kind, args.details
    registry = default_registry()
    for section in [kind] if kind else KINDS:
        print(f"{section}:")
        if section in ("recipes", "sweeps"):
            for name, path in getattr(registry, section)().items():
                print(f"  {name:<16} {path}")
            continue
        for name in registry.names(section):
            for entry in registry.providers[section][name]:
                doc = (entry.cls.__doc__ or "").strip().splitlines()[0] if entry.cls.__doc__ else ""
                clash = len(registry.providers[section][name]) > 1
                print(f"  {entry.qualified if clash else name:<16} {doc}  [{entry.plugin}]" + (f" (also provided by another distribution; bare {name!r} means {registry.get(section, name).qualified})" if clash else ""))
                if details and section == "archs":
                    _arch_details(factory.build("archs", entry.qualified, registry=registry))
    if registry.broken:
        print("broken plugins:")
        for broken in registry.broken:
            print(f"  {broken.plugin}: {broken.reason}")
    return 0


COMMANDS = {
    "train": _train, "sweep": _sweep, "report": _report, "sample": _sample, "eval": _eval,
    "reconstruct": _reconstruct, "push": _push, "list": _list,
}
