"""The datasets of `benchmarks/quality.py`: what a row trains on and the real images it is
scored against (docs/benchmarks.md, Quality).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from keras_gan import data, evaluation

MATRIX = ("fashion", "fashion2k", "mnist", "emoji")  # issue 13's datasets: the default matrix
# Balanced Fashion-MNIST subsets: images of each of the 10 classes. fashion500 probes where
# adaptive augmentation starts to pay (ADA's gains grow as the set shrinks, Karras et al. 2020).
SUBSET_PER_CLASS = {"fashion2k": 200, "fashion500": 50}
DATASETS = (*MATRIX, "fashion500")


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A row's data: what it trains on, whose domain classifier scores it, against what."""

    name: str
    source: str  # TrainConfig.dataset
    space: str  # the dataset the domain classifier is trained on
    reference: str  # "test": that dataset's test split; "train": every training image


def fashion_subset(name: str, seed: int, cache: Path) -> Path:
    """A balanced, seeded subset of the Fashion-MNIST training split as an ``.npz``:
    `SUBSET_PER_CLASS[name]` images of each class."""
    path = cache / f"{name}-seed{seed}.npz"
    if path.is_file():
        return path
    batches = data.load(
        "fashion_mnist", batch_size=10_000, with_labels=True, shuffle=False, drop_remainder=False
    )
    images, labels = (np.concatenate(p) for p in zip(*batches.as_numpy_iterator(), strict=True))
    rng = np.random.default_rng(seed)
    chosen = np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(labels == c), SUBSET_PER_CLASS[name], replace=False)
                for c in np.unique(labels)
            ]
        )
    )
    pixels = np.rint((images[chosen] + 1.0) * 127.5).clip(0, 255).astype("uint8")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=pixels, y=labels[chosen].astype("int32"))
    return path


def resolve_dataset(name: str, args: argparse.Namespace) -> Dataset | None:
    """The `Dataset` of a ``--datasets`` name; ``None`` (with a message) when unavailable."""
    if name == "fashion":
        return Dataset(name, "fashion_mnist", "fashion_mnist", "test")
    if name in SUBSET_PER_CLASS:
        cache = evaluation.classifier.default_cache_dir() / "benchmarks"
        return Dataset(name, str(fashion_subset(name, args.seed, cache)), "fashion_mnist", "test")
    if name == "mnist":
        return Dataset(name, "mnist_digits", "mnist_digits", "train")
    source = str(args.emoji) if args.emoji else "emoji"
    try:
        data.describe(source)
    except data.DataError as error:
        print(
            f"Skipping emoji: {error} (pass --emoji FOLDER: category subfolders of the PNGs "
            "of `npm pack emoji-datasource-google`)",
            file=sys.stderr,
        )
        return None
    return Dataset(name, source, source, "train")


def real_images(dataset: Dataset, n: int, seed: int) -> tuple[np.ndarray, str]:
    """The real images a dataset's samples are compared with, and where they come from."""
    if dataset.reference == "test":
        images, _, described = evaluation.reference_images(dataset.space, n, seed=seed)
        return images, described
    images = all_training_images(dataset)
    total = len(images)
    if total > n:
        images = images[np.sort(np.random.default_rng(seed).choice(total, n, replace=False))]
    return images, f"{dataset.source} [train, {len(images):,} of all {total:,}: no test split]"


def training_images(dataset: Dataset, n: int, seed: int) -> np.ndarray:
    """``n`` of the images a row trains on, drawn with replacement: the samples of a generator
    that memorised its training set, whose score is the floor that set allows (``training-set``
    in `quality.py`)."""
    images = all_training_images(dataset)
    return images[np.random.default_rng(seed + 1).choice(len(images), n, replace=True)]


def all_training_images(dataset: Dataset) -> np.ndarray:
    """Every image a row trains on, in file order."""
    batches = data.load(dataset.source, batch_size=1024, shuffle=False, drop_remainder=False)
    return np.concatenate(list(batches.as_numpy_iterator()))
