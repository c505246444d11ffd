"""Image folders stream: files are decoded as batches are needed, optionally cached to a file."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_gan import data
from keras_gan.data.folders import decode_image


def write_colour_folder(root: Path, count: int, size: int = 12) -> list[Path]:
    """`count` RGB PNGs of smooth random colour in two class subfolders."""
    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        folder = root / ("even" if index % 2 == 0 else "odd")
        folder.mkdir(parents=True, exist_ok=True)
        coarse = rng.integers(0, 256, (3, 3, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC)
        path = folder / f"{index:03d}.png"
        image.save(path)
        paths.append(path)
    return paths


def one_pass(dataset) -> tuple[np.ndarray, np.ndarray]:
    images, labels = zip(*dataset.as_numpy_iterator(), strict=True)
    return np.concatenate(images), np.concatenate(labels)


def as_uint8(images: np.ndarray) -> np.ndarray:
    return np.rint((images + 1.0) * 127.5).astype(np.uint8)


def test_stream_yields_every_image_once_decoded_like_pillow(tmp_path: Path) -> None:
    paths = write_colour_folder(tmp_path, 10, size=12)
    dataset = data.load(tmp_path, batch_size=5, image_size=8, channels=3, with_labels=True, seed=0)
    images, labels = one_pass(dataset)
    assert images.shape == (10, 8, 8, 3) and images.dtype == np.float32
    expected = {decode_image(str(path), False, 8).tobytes(): path for path in paths}
    got = [image.tobytes() for image in as_uint8(images)]
    assert sorted(got) == sorted(expected)
    for image, label in zip(got, labels, strict=True):
        assert label == (0 if expected[image].parent.name == "even" else 1)


def test_reshuffled_every_pass_and_seeded(tmp_path: Path) -> None:
    write_colour_folder(tmp_path, 12)
    first = data.load(tmp_path, batch_size=12, image_size=8, channels=3, with_labels=True, seed=3)
    second = data.load(tmp_path, batch_size=12, image_size=8, channels=3, with_labels=True, seed=3)
    pass_a, pass_b = (one_pass(first)[0] for _ in range(2))
    np.testing.assert_array_equal(pass_a, one_pass(second)[0])
    assert not np.array_equal(pass_a, pass_b)
    np.testing.assert_array_equal(np.sort(pass_a, axis=0), np.sort(pass_b, axis=0))


def test_file_broken_after_load_is_skipped_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths = write_colour_folder(tmp_path, 6)
    dataset = data.load(tmp_path, batch_size=1, image_size=8, channels=3, with_labels=True)
    paths[4].write_bytes(paths[4].read_bytes()[:40])  # truncated while the run goes on
    with caplog.at_level(logging.WARNING, logger="keras_gan.data"):
        images, _ = one_pass(dataset)
        again, _ = one_pass(dataset)
    assert len(images) == len(again) == 5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "004.png" in warnings[0] and "1 skipped so far" in warnings[0]


def test_cache_is_written_once_reused_and_rebuilt_when_the_folder_changes(tmp_path: Path) -> None:
    folder, cache = tmp_path / "images", tmp_path / "cache"
    paths = write_colour_folder(folder, 8)
    options = {"batch_size": 4, "image_size": 8, "channels": 3, "with_labels": True, "seed": 1}
    options["drop_remainder"] = False
    streamed = np.sort(one_pass(data.load(folder, **options))[0], axis=0)
    cached = data.load(folder, cache_dir=cache, **options)
    np.testing.assert_array_equal(np.sort(one_pass(cached)[0], axis=0), streamed)
    (index,) = cache.glob("*.index")
    for path in paths:  # the cache, not the files, feeds every later pass
        path.write_bytes(b"")
    np.testing.assert_array_equal(np.sort(one_pass(cached)[0], axis=0), streamed)
    write_colour_folder(folder, 8)  # the folder changes: a new cache replaces the old one
    (folder / "odd" / "007.png").unlink()
    rebuilt = data.load(folder, cache_dir=cache, **options)
    assert len(one_pass(rebuilt)[0]) == 7
    assert [p.name for p in cache.glob("*.index")] != [index.name]
    assert len(list(cache.glob("*.index"))) == 1


KILLED_MID_PASS = """
import os, signal, sys
from keras_gan import data
iterator = iter(data.load(sys.argv[1], batch_size=2, image_size=8, channels=3, shuffle=False,
                          cache_dir=sys.argv[2]))
next(iterator)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_cache_torn_by_a_killed_run_is_rebuilt(tmp_path: Path) -> None:
    folder, cache = tmp_path / "images", tmp_path / "cache"
    write_colour_folder(folder, 300)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MID_PASS, str(folder), str(cache)],
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    assert list(cache.glob("*.lockfile")) and not list(cache.glob("*.index"))
    dataset = data.load(
        folder, batch_size=100, image_size=8, channels=3, shuffle=False, cache_dir=cache
    )
    assert sum(len(batch) for batch in dataset.as_numpy_iterator()) == 300
    assert not list(cache.glob("*.lockfile")) and len(list(cache.glob("*.index"))) == 1


def test_folder_of_only_broken_files_fails_at_load_even_without_a_header_scan(
    tmp_path: Path,
) -> None:
    for index in range(3):
        (tmp_path / f"{index}.png").write_bytes(b"not a png")
    with pytest.raises(data.DataError, match="None of the 3 image files"):
        data.load(tmp_path, batch_size=1, image_size=8, channels=3)


def passes(dataset, count: int, batches_per_pass: int) -> list[np.ndarray]:
    images = [batch[0] for batch in dataset.take(count * batches_per_pass).as_numpy_iterator()]
    return [
        np.concatenate(images[start : start + batches_per_pass])
        for start in range(0, len(images), batches_per_pass)
    ]


@pytest.mark.parametrize("cached", [False, True], ids=["streamed", "cached"])
def test_start_epoch_resumes_the_seeded_order_of_an_uninterrupted_stream(
    tmp_path: Path, cached: bool
) -> None:
    write_colour_folder(tmp_path / "images", 12)
    options = {"batch_size": 4, "image_size": 8, "channels": 3, "with_labels": True, "seed": 5}
    if cached:
        options["cache_dir"] = tmp_path / "cache"
    from_start = passes(data.load(tmp_path / "images", start_epoch=0, **options), 3, 3)
    resumed = passes(data.load(tmp_path / "images", start_epoch=2, **options), 1, 3)
    np.testing.assert_array_equal(resumed[0], from_start[2])
    assert not np.array_equal(from_start[0], from_start[1])
    np.testing.assert_array_equal(np.sort(from_start[0], 0), np.sort(from_start[2], 0))


def test_start_epoch_under_global_seed_zero(tmp_path: Path) -> None:
    """`train.py --seed 0` sets TensorFlow's global seed to 0, where tensor-seeded shuffles fail."""
    import tensorflow as tf

    write_colour_folder(tmp_path / "images", 8)
    options = {"batch_size": 4, "image_size": 8, "channels": 3, "seed": 0, "start_epoch": 1}
    tf.random.set_seed(0)
    try:
        # The same cache folder without then with labels: the two are cached apart.
        for cache, labelled in (
            (None, True),
            (tmp_path / "cache", False),
            (tmp_path / "cache", True),
        ):
            dataset = data.load(
                tmp_path / "images", cache_dir=cache, with_labels=labelled, **options
            )
            if not labelled:
                dataset = dataset.map(lambda images: (images,))
            first, second = passes(dataset, 2, 2)
            assert first.shape == (8, 8, 8, 3) and not np.array_equal(first, second)
    finally:
        tf.random.set_seed(None)


def test_start_epoch_on_data_held_in_memory_skips_to_the_same_batches(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 256, (12, 4, 4, 1), dtype=np.uint8)
    np.savez(tmp_path / "set.npz", x=images, y=np.arange(12) % 3)
    options = {"batch_size": 4, "with_labels": True, "seed": 5}
    from_start = passes(data.load(tmp_path / "set.npz", start_epoch=0, **options), 3, 3)
    resumed = passes(data.load(tmp_path / "set.npz", start_epoch=2, **options), 1, 3)
    np.testing.assert_array_equal(resumed[0], from_start[2])
    assert not np.array_equal(from_start[0], from_start[1])
