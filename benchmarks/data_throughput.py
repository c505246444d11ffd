"""Throughput of keras_gan.data pipelines for the sources available offline.

Prints one row per (source, batch size): the seconds from calling ``load`` to the first batch
(reading, decoding, resizing, building the pipeline) and the steady images/s over the remaining
batches of ``--epochs`` epochs.
The input pipeline must deliver at least 10x what DCGAN training consumes, so that data loading
never limits training; pass the measured DCGAN rate with ``--dcgan-images-per-s`` to check it.

    python benchmarks/data_throughput.py [--epochs 2] [--batch-sizes 64 256]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from keras_gan import data

# The fastest DCGAN 28x28 training measured here: the project DCGAN, batch 128, mixed_bfloat16,
# 1,289 images/s (docs/benchmarks.md, Throughput). The pipeline must reach REQUIRED_FACTOR
# times it.
DCGAN_TRAIN_IMAGES_PER_S = 1_289.0
REQUIRED_FACTOR = 10


def measure(
    make: Callable[[int], tf.data.Dataset], batch_size: int, epochs: int
) -> tuple[float, float]:
    """(seconds from ``load`` to the first batch, images/s after it) over ``epochs`` passes."""
    start = time.perf_counter()
    iterator = iter(make(batch_size).repeat(epochs))
    first = next(iterator)
    first_batch_s = time.perf_counter() - start
    images = 0
    timer = time.perf_counter()
    for batch in iterator:
        images += int(tf.shape(batch[0] if isinstance(batch, tuple) else batch)[0])
    elapsed = time.perf_counter() - timer
    del first
    return first_batch_s, images / elapsed if elapsed > 0 else float("inf")


def write_image_folder(root: Path, count: int, size: int) -> Path:
    """RGB PNGs in 10 class subfolders, like a small user dataset."""
    rng = np.random.default_rng(0)
    for index in range(count):
        folder = root / f"class_{index % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{index:05d}.png")
    return root


def write_npz(path: Path, count: int, size: int) -> Path:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
    np.savez(path, x=images, y=rng.integers(0, 10, count))
    return path


def cases(workdir: Path) -> list[tuple[str, Callable[[int], tf.data.Dataset]]]:
    """(label, batch size -> dataset) for every source available without network."""
    folder = write_image_folder(workdir / "folder", count=2_000, size=32)
    npz = write_npz(workdir / "images.npz", count=10_000, size=32)
    listed: list[tuple[str, Callable[[int], tf.data.Dataset]]] = [
        ("mnist_digits 28x28x1", lambda b: data.load(data.MNIST_DIGITS, batch_size=b, seed=0)),
        (
            "mnist_digits 64x64x1 +labels",
            lambda b: data.load(
                data.MNIST_DIGITS, batch_size=b, image_size=64, with_labels=True, seed=0
            ),
        ),
    ]
    if data.describe("fashion_mnist").origin.startswith("IDX files"):
        listed += [
            ("fashion_mnist 28x28x1", lambda b: data.load("fashion_mnist", batch_size=b, seed=0)),
            (
                "fashion_mnist 32x32x3",
                lambda b: data.load(
                    "fashion_mnist", batch_size=b, image_size=32, channels=3, seed=0
                ),
            ),
        ]
    listed += [
        (
            "png folder 2k 32x32x3 +labels",
            lambda b: data.load(folder, batch_size=b, with_labels=True, seed=0),
        ),
        (
            "png folder, cache_dir (pass 1 fills)",
            lambda b: data.load(
                folder, batch_size=b, with_labels=True, seed=0, cache_dir=workdir / f"cache{b}"
            ),
        ),
        ("npz 10k 32x32x3", lambda b: data.load(npz, batch_size=b, seed=0)),
        ("gaussian 10k points", lambda b: data.load("gaussian", batch_size=b, seed=0)),
    ]
    return listed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--dcgan-images-per-s", type=float, default=DCGAN_TRAIN_IMAGES_PER_S)
    args = parser.parse_args()
    required = REQUIRED_FACTOR * args.dcgan_images_per_s
    print(f"{'source':32} {'batch':>6} {'first batch s':>14} {'images/s':>12}  ok")
    with tempfile.TemporaryDirectory(prefix="keras_gan_bench_") as workdir:
        for label, make in cases(Path(workdir)):
            for batch_size in args.batch_sizes:
                first_s, rate = measure(make, batch_size, args.epochs)
                verdict = "yes" if rate >= required else "NO"
                print(f"{label:32} {batch_size:>6} {first_s:>14.2f} {rate:>12,.0f}  {verdict}")
    print(
        f"Required: >= {required:,.0f} images/s = {REQUIRED_FACTOR}x the DCGAN training rate of "
        f"{args.dcgan_images_per_s:,.0f} images/s (points for gaussian)."
    )


if __name__ == "__main__":
    main()
