"""The hostile-input rows of the reliability review, replayed through the real command line.

    python docs/hostile_inputs.py [--source DIR] [--out FILE.json]
    python docs/hostile_inputs.py --table BEFORE.json AFTER.json     # the markdown before/after table

Each row runs `genzoo ...` in a fresh folder beside a small finished toy run `R`, with memory
capped at 6 GiB and a 90 s limit, and records the exit code, the stderr lines and whether a
traceback escaped. `--source` runs another checkout (e.g. an older commit's worktree) so the
same rows give a before/after table; `docs/hostile-inputs.md` holds the one measured here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

QUIET = ["train.progress=false", "train.tensorboard=false"]
MEMORY_CAP = 6 << 30
TIME_LIMIT = 90


def _child_setup():
    """Cap the command's memory; take Ctrl-C as a terminal would deliver it, even when this script
    runs in the background (where the shell starts it with SIGINT ignored)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _import_path(checkout: Path) -> Path:
    """A folder that imports `genzoo` and `genzoo_plugins` from `checkout` ahead of the installed ones."""
    digest = hashlib.sha1(str(checkout.resolve()).encode()).hexdigest()[:12]  # stable across runs, unlike hash()
    folder = Path(tempfile.gettempdir()) / f"genzoo-source-{digest}"
    folder.mkdir(exist_ok=True)
    for name, target in (("genzoo", "genzoo"), ("genzoo_plugins", "plugins")):
        if not (folder / name).exists():
            (folder / name).symlink_to(checkout.resolve() / target)
    return folder


def genzoo(source: Path | None, cwd: Path, *argv: str, interrupt_after: str | None = None) -> dict:
    """Run one command; with `interrupt_after`, send SIGINT once that file exists."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if source is not None:
        env["PYTHONPATH"] = str(_import_path(source))
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "genzoo", *argv], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_child_setup)
    if interrupt_after:
        while not list(cwd.glob(interrupt_after)) and proc.poll() is None and time.perf_counter() - began < TIME_LIMIT:
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"code": "timeout", "seconds": TIME_LIMIT, "lines": len(err.splitlines()), "longest": 0, "traceback": "Traceback" in err,
                "first": "killed after the time limit", "stdout": out[:600]}
    lines = err.strip().splitlines()
    return {"code": proc.returncode, "seconds": round(time.perf_counter() - began, 1), "lines": len(lines),
            "longest": max((len(line) for line in lines), default=0), "traceback": "Traceback" in err,
            "first": (lines[-1] if lines else "")[:240], "stdout": out.strip()[:600]}


def png_claiming(side: int) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)) + chunk(b"IEND", b"")


def celeba_zip(path: Path, first: bytes) -> None:
    from PIL import Image

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("img_align_celeba/000000.jpg", first)
        for i in range(1, 10):
            image = path.parent / f"{i:06d}.jpg"
            Image.new("RGB", (89, 109), (i * 25, 0, 0)).save(image)
            zf.write(image, f"img_align_celeba/{i:06d}.jpg")


def alias_bomb(levels: int) -> str:
    """A recipe whose `objective.cycles` value nests `levels` YAML anchors, each holding nine of the last."""
    lines = ["objective:", "  name: svae_r", "  cycles:", "    - &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"    - &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def edit_export_config(folder: Path, change) -> None:
    path = folder / "R" / "export" / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def nothing(folder: Path) -> None:
    """No preparation beyond the toy run."""


def cut_log_line(folder: Path) -> None:
    """A kill in the middle of a write: the last line of metrics.jsonl ends early."""
    with open(folder / "R" / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 2')


def rows(data_root: Path):
    """(row, input, setup(folder), argv, options): setup prepares the folder beside the toy run R."""
    celeba = ["objective=svae_r", "arch=celeba_dcgan", "data=celeba", "data.root=celeba.zip", "data.n_test=1",
              "batch_size=8", "steps=2", "arch.latent_dim=8", "train.picture_every=0", "out=c", *QUIET]
    yield 1, "train lr=nan", nothing, ["train", "lr=nan", "out=o"], {}
    yield 2, "train seed=2**70", nothing, ["train", "seed=1180591620717411303424", "out=o"], {}
    yield 3, "train device=mps", nothing, ["train", "device=mps", "out=o"], {}
    yield 3, "train device=meta steps=2", nothing, ["train", "device=meta", "steps=2", "out=o"], {}
    yield 4, "Latin-1 recipe", lambda f: (f / "r.yaml").write_bytes(b"objective: {name: svae_r}\n# caf\xe9\n"), ["train", "r.yaml"], {}
    yield 4, "binary recipe", lambda f: (f / "r.yaml").write_bytes(bytes(range(256))), ["train", "r.yaml"], {}
    yield 4, "Latin-1 sweep file", lambda f: (f / "s.yaml").write_bytes(b"runs: 1\n# caf\xe9\n"), ["sweep", "s.yaml"], {}
    yield 4, "damaged run config.yaml, resumed", lambda f: (f / "R" / "config.yaml").write_bytes(b"\xff\xfe\x00"), ["train", "--resume", "R"], {}
    for levels in (8, 10):
        yield 5, f"YAML alias bomb, {levels} levels ({len(alias_bomb(levels))} B)", lambda f, n=levels: (f / "b.yaml").write_text(alias_bomb(n)), ["train", "b.yaml", *QUIET], {}
    yield 6, "train out=an existing file", lambda f: (f / "afile").write_text("x"), ["train", "steps=2", "out=afile", *QUIET], {}
    yield 6, "train out=unwritable place", nothing, ["train", "steps=2", "out=/proc/genzoo-run", *QUIET], {}
    yield 6, "sweep out=unwritable place", nothing, ["sweep", "toy-reference", "out=/proc/genzoo-sweep"], {}
    yield 7, "sample out=g.xyz", nothing, ["sample", "R/export", "out=g.xyz"], {}
    yield 7, "sample out=a folder", lambda f: (f / "folder").mkdir(), ["sample", "R/export", "out=folder"], {}
    yield 7, "sample out=unwritable", nothing, ["sample", "R/export", "out=/proc/x/g.png"], {}
    yield 7, "sample out=FILE (no extension)", nothing, ["sample", "R/export", "out=grid"], {"expect_out": "grid.png"}
    for name in ("../etc", "org/..", "org/na me"):
        yield 8, f"sample {name!r}", nothing, ["sample", name], {}
    yield 9, 'export config "data": "toy"', lambda f: edit_export_config(f, lambda c: c.update(data="toy")), ["sample", "R/export"], {}
    yield 9, 'export arch name ["x"]', lambda f: edit_export_config(f, lambda c: c["arch"].update(name=["x"])), ["sample", "R/export"], {}
    yield 10, "export arch.width=8192 depth=8", lambda f: edit_export_config(f, lambda c: c["arch"].update(width=8192, depth=8)), ["sample", "R/export"], {}
    yield 10, "train arch.decoder_noise=10**12", nothing, ["train", "arch=cifar_dcgan", "data=cifar10", f"data.root={data_root / 'cifar10'}",
                                                            "arch.decoder_noise=1000000000000", "out=o", *QUIET], {}
    yield 11, "train arch.width=8192 arch.depth=32", nothing, ["train", "arch.width=8192", "arch.depth=32", "out=o", *QUIET], {}
    yield 12, "CelebA image claiming 30000x30000", lambda f: celeba_zip(f / "celeba.zip", png_claiming(30000)), ["train", *celeba], {}
    yield (13, "CelebA, in_memory=false, a non-image", lambda f: celeba_zip(f / "celeba.zip", b"this is no jpeg"),
           ["train", *celeba, "data.in_memory=false", "data.workers=1"], {"rerun": True})
    yield (14, "resume after a partial metrics.jsonl line", cut_log_line,
           ["train", "--resume", "R", "steps=30", *QUIET], {})
    yield 15, "Ctrl-C before the first checkpoint", nothing, ["train", "steps=100000", "train.checkpoint_every=100000", *QUIET], {"interrupt": True}
    yield (16, "eval, export unwritable", lambda f: ((f / "R" / "export" / "README.md").unlink(), (f / "R" / "export" / "README.md").mkdir()),
           ["eval", "R", "metrics=mse"], {})
    yield 16, "eval, damaged export/metrics.json", lambda f: (f / "R" / "export" / "metrics.json").write_text("{bad"), ["eval", "R", "metrics=mse"], {}
    yield 16, "eval, malformed run config.yaml", lambda f: (f / "R" / "config.yaml").write_text("objective: [\n"), ["eval", "R", "metrics=mse"], {}
    yield 17, "report on a binary results.csv", lambda f: ((f / "s").mkdir(), (f / "s" / "results.csv").write_bytes(b"\x00\x01\xff\xfe")), ["report", "s"], {}
    yield 18, "sample n=0", nothing, ["sample", "R/export", "n=0"], {}
    yield 18, "train-classifier epochs=0", nothing, ["train-classifier", "mnist", "epochs=0"], {}


def verdict(result: dict) -> str:
    one_line = result["lines"] == 1 and result["longest"] < 300 and not result["traceback"]
    if result["code"] == 2 and one_line:
        return "one line, exit 2"
    if result["code"] == 0:
        return "exit 0"
    shape = "traceback" if result["traceback"] else f"{result['lines']} lines, longest {result['longest']}"
    return f"exit {result['code']}, {shape}"


def table(before_path: Path, after_path: Path) -> str:
    before, after = (json.loads(Path(p).read_text()) for p in (before_path, after_path))
    lines = ["| # | input | before | after | the line after |", "|---|---|---|---|---|"]
    for old, new in zip(before, after):
        said = (new["first"] or "stdout: " + (new["stdout"].splitlines() or [""])[-1]).replace("|", "\\|")
        extra = "; then " + new["resumed"] if "resumed" in new else ""
        extra += "; the same command again: " + new["rerun"] if "rerun" in new else ""
        extra += f"; wrote grid.png: {new['wrote']}" if "wrote" in new else ""
        lines.append(f"| {new['row']} | {new['input']} | {old['verdict']} | {new['verdict']} | {said}{extra} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    if sys.argv[1:2] == ["--table"]:
        print(table(Path(sys.argv[2]), Path(sys.argv[3])), end="")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="a checkout to run instead of the installed genzoo")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    parser.add_argument("--rows", type=lambda text: {int(n) for n in text.split(",")}, help="only these rows, e.g. 5,15")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="genzoo-hostile-"))
    made = genzoo(args.source, base, "train", "steps=20", "out=R", "train.checkpoint_every=10", *QUIET)
    assert made["code"] == 0, made
    results = []
    for row, text, setup, argv, options in rows(args.data):
        if args.rows and row not in args.rows:
            continue
        folder = base / f"case{len(results)}"
        shutil.copytree(base / "R", folder / "R")
        setup(folder)
        result = genzoo(args.source, folder, *argv, interrupt_after="runs/*/metrics.jsonl" if options.get("interrupt") else None)
        if options.get("rerun"):  # the same command again: a failed start must not block it
            again = genzoo(args.source, folder, *argv)
            result["rerun"] = again["first"][:120]
        if options.get("interrupt") and (folder / "runs").is_dir():
            run_dir = next((folder / "runs").iterdir()).relative_to(folder)
            resumed = genzoo(args.source, folder, "train", "--resume", str(run_dir), "steps=5", *QUIET)
            result["resumed"] = f"exit {resumed['code']}: " + (resumed["first"] or resumed["stdout"].splitlines()[0])[:160]
        if "expect_out" in options:
            result["wrote"] = (folder / options["expect_out"]).is_file()
        result.update(row=row, input=text, verdict=verdict(result))
        results.append(result)
        print(f"{row:>2} {text:<42} {result['verdict']:<28} {result['seconds']:>5} s  {result['first'][:110]}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
