"""Loaders read small real files in each real format, and reject damaged ones with one clear line."""

import functools
import gzip
import io
import os
import pickle
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genzoo.errors import GenzooError
from genzoo import factory

SHARED_DATA = Path(os.environ.get("GENZOO_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def dataset(name, **options):
    cls = factory.plugin_class("datasets", name)
    return cls(cls.Config(**options))


def idx_images(images: np.ndarray) -> bytes:
    return struct.pack(">IIII", 2051, len(images), 28, 28) + images.astype(np.uint8).tobytes()


def write_mnist(folder: Path, n_train=6, n_test=4, compress=True):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = {}
    for name, n in (("train-images-idx3-ubyte", n_train), ("t10k-images-idx3-ubyte", n_test)):
        images[name] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        data = idx_images(images[name])
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return images


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_idx_in_torchvision_layout(tmp_path, compress):
    images = write_mnist(tmp_path / "MNIST" / "raw", compress=compress)
    data = dataset("mnist", root=str(tmp_path))
    assert data.raw("train").dtype == torch.uint8 and data.raw("train").shape == (6, 1, 28, 28)
    assert torch.equal(data.raw("test")[:, 0], torch.from_numpy(images["t10k-images-idx3-ubyte"]))
    assert torch.allclose(data.load("train"), data.raw("train").float() / 255)


def test_mnist_root_from_environment(tmp_path, monkeypatch):
    write_mnist(tmp_path / "somewhere")
    monkeypatch.setenv("GENZOO_DATA", str(tmp_path / "somewhere"))
    assert dataset("mnist").raw("test").shape == (4, 1, 28, 28)


def test_mnist_truncated_and_foreign_files(tmp_path):
    folder = tmp_path / "MNIST" / "raw"
    write_mnist(folder, compress=False)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(GenzooError, match="is truncated: 1000 bytes, expected 4720"):
        dataset("mnist", root=str(tmp_path)).raw("train")
    path.write_bytes(struct.pack(">IIII", 2049, 1, 28, 28))
    with pytest.raises(GenzooError, match="not an IDX image file"):
        dataset("mnist", root=str(tmp_path)).raw("train")
    (folder / "t10k-images-idx3-ubyte").unlink()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(GenzooError, match="damaged or truncated"):
        dataset("mnist", root=str(tmp_path)).raw("test")


def test_missing_data_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("GENZOO_DATA", raising=False)
    with pytest.raises(GenzooError, match=r"set data.root=PATH \(or \$GENZOO_DATA\)"):
        dataset("mnist").raw("train")
    with pytest.raises(GenzooError, match=f"no train-images-idx3-ubyte.*found in {tmp_path}"):
        dataset("mnist", root=str(tmp_path)).raw("train")


def amat(values: np.ndarray) -> bytes:
    return "".join(" ".join(str(int(v)) for v in row) + "\n" for row in values.reshape(len(values), -1)).encode()


def test_binarized_mnist_amat_and_gz(tmp_path):
    rng = np.random.default_rng(1)
    train, test = rng.integers(0, 2, (5, 784)), rng.integers(0, 2, (3, 784))
    (tmp_path / "binarized_mnist_train.amat").write_bytes(amat(train))
    (tmp_path / "binarized_mnist_test.amat.gz").write_bytes(gzip.compress(amat(test)))
    data = dataset("binarized_mnist", root=str(tmp_path))
    assert torch.equal(data.load("train").view(5, 784), torch.from_numpy(train).float())
    assert torch.equal(data.load("test").view(3, 784), torch.from_numpy(test).float())


def test_binarized_mnist_malformed(tmp_path):
    (tmp_path / "binarized_mnist_train.amat").write_bytes(amat(np.ones((2, 784)))[:-7])
    with pytest.raises(GenzooError, match="truncated or malformed"):
        dataset("binarized_mnist", root=str(tmp_path)).raw("train")
    (tmp_path / "binarized_mnist_train.amat").write_bytes(amat(np.full((1, 784), 7)))
    with pytest.raises(GenzooError, match="784 space-separated 0/1 values"):
        dataset("binarized_mnist", root=str(tmp_path)).raw("train")


def test_dynamic_binarization_is_seeded(tmp_path):
    write_mnist(tmp_path)
    a = dataset("binarized_mnist", root=str(tmp_path), source="dynamic").raw("train")
    b = dataset("binarized_mnist", root=str(tmp_path), source="dynamic").raw("train")
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {0, 1}


def cifar_records(n, seed):
    rng = np.random.default_rng(seed)
    labels, pixels = rng.integers(0, 10, (n, 1), dtype=np.uint8), rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    return np.concatenate([labels, pixels], 1), pixels


def test_cifar_binary_partial_set(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    records1, pixels1 = cifar_records(3, 0)
    records2, pixels2 = cifar_records(2, 1)
    (folder / "data_batch_1.bin").write_bytes(records1.tobytes())
    (folder / "data_batch_3.bin.gz").write_bytes(gzip.compress(records2.tobytes()))
    (folder / "test_batch.bin").write_bytes(cifar_records(2, 2)[0].tobytes())
    data = dataset("cifar10", root=str(tmp_path))
    assert data.raw("train").shape == (5, 3, 32, 32)
    assert torch.equal(data.raw("train").reshape(5, -1), torch.from_numpy(np.concatenate([pixels1, pixels2])))
    assert data.load("test").min() >= -1 and data.load("test").max() <= 1


def test_cifar_binary_truncated(tmp_path):
    (tmp_path / "data_batch_1.bin").write_bytes(cifar_records(2, 0)[0].tobytes()[:-10])
    with pytest.raises(GenzooError, match="not a multiple of 3073"):
        dataset("cifar10", root=str(tmp_path)).raw("train")


def test_cifar_python_batches_read_without_running_code(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    _, pixels = cifar_records(4, 3)
    with open(folder / "data_batch_1", "wb") as fh:
        pickle.dump({b"data": pixels, b"labels": list(range(4))}, fh, protocol=2)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": pixels[:2]}, protocol=2))
    data = dataset("cifar10", root=str(tmp_path))
    assert torch.equal(data.raw("train").reshape(4, -1), torch.from_numpy(pixels))

    class Exploit:
        def __reduce__(self):
            return (os.system, ("touch pwned",))

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Exploit()}))
    with pytest.raises(GenzooError, match="refusing to load posix.system|refusing to load os.system"):
        dataset("cifar10", root=str(tmp_path)).raw("test")
    assert not Path("pwned").exists()


def write_faces(folder: Path, n: int, size=(89, 109)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(folder / f"{i + 1:06d}.jpg")


def test_celeba_folder_and_zip(tmp_path):
    write_faces(tmp_path / "img_align_celeba", 5)
    data = dataset("celeba", root=str(tmp_path), n_test=2)
    assert data.raw("train").shape == (3, 3, 64, 64) and data.raw("test").shape == (2, 3, 64, 64)
    with zipfile.ZipFile(tmp_path / "faces.zip", "w") as archive:
        for path in sorted((tmp_path / "img_align_celeba").iterdir()):
            archive.write(path, f"faces/{path.name}")
    zipped = dataset("celeba", root=str(tmp_path / "faces.zip"), n_test=2)
    assert torch.equal(zipped.raw("train"), data.raw("train"))


def test_celeba_decodes_every_image_with_its_progress_bar_shown(tmp_path, monkeypatch):
    """On a terminal the decode bar refreshes as it goes; that must not change what is read."""
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    import tqdm.auto

    monkeypatch.setattr(sys, "stderr", Terminal())
    monkeypatch.setattr(tqdm.auto, "tqdm", functools.partial(tqdm.auto.tqdm, mininterval=0))  # refresh on every image
    write_faces(tmp_path / "img_align_celeba", 7)
    assert dataset("celeba", root=str(tmp_path), n_test=2).raw("train").shape == (5, 3, 64, 64)


def test_celeba_bad_image(tmp_path):
    write_faces(tmp_path, 3)
    (tmp_path / "000002.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(GenzooError, match="000002.jpg is not a readable image"):
        dataset("celeba", root=str(tmp_path), n_test=1).raw("train")


needs_shared = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real data not found at {SHARED_DATA} (set GENZOO_TEST_DATA)")


@needs_shared
def test_real_shared_data_loads():
    mnist = dataset("mnist", root=str(SHARED_DATA))
    assert mnist.raw("train").shape == (60000, 1, 28, 28) and mnist.raw("test").shape == (10000, 1, 28, 28)
    fixed = dataset("binarized_mnist", root=str(SHARED_DATA))
    assert fixed.raw("train").shape == (50000, 1, 28, 28)
    assert fixed.load("test").mean().item() == pytest.approx(0.1325, abs=1e-4)
    cifar = dataset("cifar10", root=str(SHARED_DATA))
    assert cifar.raw("train").shape == (4000, 3, 32, 32)
    assert cifar.raw("train")[0, 0, 0, :10].tolist() == [59, 43, 50, 68, 98, 119, 139, 145, 149, 149]


def test_celeba_streamed_by_dataloader_workers_matches_in_memory_and_resumes(tmp_path):
    from genzoo.settings import TrainConfig
    from genzoo.assembly import make_stream

    write_faces(tmp_path, 12)
    streamed = dataset("celeba", root=str(tmp_path), n_test=2, in_memory=False, workers=2)
    in_memory = dataset("celeba", root=str(tmp_path), n_test=2)
    config = TrainConfig(batch_size=4, seed=3)
    a = make_stream(streamed, config, torch.device("cpu"))
    b = make_stream(in_memory, config, torch.device("cpu"))
    batches = [next(a) for _ in range(4)]  # crosses an epoch boundary (10 items, batches of 4)
    assert all(torch.equal(x, next(b)) for x in batches)
    resumed = make_stream(streamed, config, torch.device("cpu"))
    fresh = make_stream(streamed, config, torch.device("cpu"))
    next(fresh)
    resumed.load_state_dict(fresh.state_dict())
    assert torch.equal(next(resumed), batches[1])


def test_each_process_loads_only_its_rows_of_the_global_batch(tmp_path):
    """Streams split by (rank, world) give, side by side, exactly the single-process batches."""
    from genzoo.data import BatchStream, LoaderStream

    data = torch.arange(40).reshape(40, 1)
    whole = BatchStream(data, 8, seed=3)
    halves = [BatchStream(data, 8, seed=3, part=(rank, 2)) for rank in range(2)]
    loaded = [LoaderStream(list(data), 8, 3, torch.device("cpu"), workers=0, part=(rank, 2)) for rank in range(2)]
    for _ in range(7):  # past an epoch boundary
        batch = next(whole)
        assert torch.equal(torch.cat([next(h) for h in halves]), batch)
        assert torch.equal(torch.cat([next(s) for s in loaded]), batch)
