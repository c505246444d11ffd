"""The real images generated ones are compared with, and the data options that match them.

Real reference images come from the `test` split or, for sources without one, from every
10th training image, which the domain classifier never trains on (docs/evaluation.md).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from keras_gan import data
from keras_gan.evaluation.metrics import EvaluationError

__all__ = ["HOLDOUT_EVERY", "matching_data_options", "reference_images"]

HOLDOUT_EVERY = 10


@dataclass(frozen=True)
class _Source:
    """A dataset and the options `data.load` reads it with."""

    dataset: str | os.PathLike
    data_dir: str | None = None
    image_size: int | None = None
    channels: int | None = None
    background: str = "white"

    def describe(self, split: str) -> data.DatasetInfo:
        return data.describe(
            self.dataset,
            split,
            data_dir=self.data_dir,
            image_size=self.image_size,
            channels=self.channels,
            background=self.background,
        )

    def load(self, split: str, with_labels: bool, **options: Any) -> tf.data.Dataset:
        return data.load(
            self.dataset,
            split,
            data_dir=self.data_dir,
            image_size=self.image_size,
            channels=self.channels,
            background=self.background,
            with_labels=with_labels,
            drop_remainder=False,
            **options,
        )


@dataclass(frozen=True)
class _Splits:
    """Where a domain classifier trains and where it (and FID's real reference) is tested."""

    source: _Source
    train_info: data.DatasetInfo
    holdout: bool
    test_count: int

    @property
    def test_description(self) -> str:
        if self.holdout:
            return f"{self.train_info.name} [every {HOLDOUT_EVERY}th train image, held out]"
        return f"{self.train_info.name} [test]"

    @property
    def labelled(self) -> bool:
        return self.train_info.num_classes is not None


def _splits(source: _Source) -> _Splits:
    info = source.describe("train")
    if not info.is_image:
        raise EvaluationError(f"{info.name} holds points, not images: nothing to evaluate.")
    try:
        test_info = source.describe("test")
    except data.DataError:
        test_info = None
    if test_info is not None and test_info.num_examples:
        return _Splits(source, info, False, int(test_info.num_examples))
    total = info.num_examples or 0
    return _Splits(source, info, True, math.ceil(total / HOLDOUT_EVERY))


def _labelled(
    splits: _Splits, part: str, batch_size: int, shuffle: bool, seed: int | None
) -> tf.data.Dataset:
    """Batches of `(images, labels)` (images alone for unlabelled data) of the classifier's
    `train` or `test` part."""
    labelled = splits.labelled
    if not splits.holdout:
        split = "train" if part == "train" else "test"
        return splits.source.load(
            split, labelled, batch_size=batch_size, shuffle=shuffle, seed=seed
        )
    ordered = splits.source.load("train", labelled, batch_size=1024, shuffle=False)
    pairs = ordered.unbatch().enumerate()
    if part == "train":
        pairs = pairs.filter(lambda index, _: index % HOLDOUT_EVERY != 0)
    else:
        pairs = pairs.filter(lambda index, _: index % HOLDOUT_EVERY == 0)
    total = splits.train_info.num_examples or 0
    count = splits.test_count if part != "train" else total - splits.test_count
    examples = pairs.map(lambda _, example: example)
    if total:
        examples = examples.apply(tf.data.experimental.assert_cardinality(count))
    if shuffle:
        buffer = min(splits.train_info.num_examples or 10_000, 20_000)
        examples = examples.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    return examples.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def reference_images(
    dataset: str | os.PathLike,
    n: int = 10_000,
    *,
    seed: int | None = 0,
    data_dir: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    background: str = "white",
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Real images to compare generated ones with, never seen by the domain classifier.

    They come from the `test` split (a seeded random subset when it holds more than `n`), or,
    for sources without one, from the training images held out of the classifier's training
    (every 10th), in an order shuffled by `seed`. The subset and order depend on `seed` alone,
    not on TensorFlow's global seed.

    Args:
        dataset: a name or path for `keras_gan.data.load`.
        n: at most this many images.
        seed: seed of the subset.
        data_dir: passed to `keras_gan.data.load`.
        image_size: passed to `keras_gan.data.load`.
        channels: passed to `keras_gan.data.load`.
        background: the colour transparent pixels are composited onto (`keras_gan.data.load`);
            use the run's, so real images look like the ones the generator learnt.

    Returns:
        `(images, labels, description)`: float32 images in [-1, 1], their int labels (`None`
        for unlabelled data), and where they come from.
    """
    splits = _splits(_Source(dataset, data_dir, image_size, channels, background))
    rng = np.random.default_rng(seed)
    chosen = _subset(splits.test_count, n, rng)
    images, labels, offset = [], [], 0
    for batch in _labelled(splits, "test", 1024, False, None):
        image_batch = (batch[0] if splits.labelled else batch).numpy()
        keep = np.ones(len(image_batch), bool)
        if chosen is not None:
            keep[:] = False
            part = chosen[offset : offset + len(image_batch)]
            keep[: len(part)] = part
        offset += len(image_batch)
        images.append(image_batch[keep])
        if splits.labelled:
            labels.append(batch[1].numpy()[keep])
        if chosen is None and offset >= n:
            break
    found = sum(map(len, images))
    if not found:
        raise EvaluationError(f"No real images found for {splits.test_description}.")
    order = rng.permutation(min(n, found))
    images_array = np.concatenate(images)[:n][order]
    return (
        images_array,
        np.concatenate(labels)[:n][order] if labels else None,
        f"{splits.test_description}: {len(images_array):,} images",
    )


def _subset(count: int, n: int, rng: np.random.Generator) -> np.ndarray | None:
    """Which of `count` images to keep: a mask of `n` drawn by NumPy, so that the subset (and its
    shuffled order) does not depend on TensorFlow's global seed, which a run sets and
    `evaluate.py` does not; `None` (all, or the first `n` when their number is unknown) when
    there are no more than `n`."""
    if not count or count <= n:
        return None
    mask = np.zeros(count, bool)
    mask[rng.choice(count, n, replace=False)] = True
    return mask


def matching_data_options(
    dataset: str | os.PathLike, image_shape: tuple[int, ...], data_dir: str | None = None
) -> dict[str, int | None]:
    """The data options that make `dataset` load in a generator's image shape.

    E.g. MNIST at 32x32 for a 32x32 generator.

    Args:
        dataset: a name or path for `keras_gan.data.load`.
        image_shape: the generator's `(H, W, C)`; only square sizes can be matched.
        data_dir: passed to `keras_gan.data.describe`.

    Returns:
        `{"image_size": ..., "channels": ...}`, each `None` where the dataset already matches.
    """
    native = data.describe(dataset, "train", data_dir=data_dir).element_shape
    image_shape = tuple(int(d) for d in image_shape)
    if tuple(native) == image_shape or len(image_shape) != 3:
        return {"image_size": None, "channels": None}
    height, width, channels = image_shape
    if height != width:
        raise EvaluationError(
            f"The generator makes {height}x{width} images; only square sizes can be matched "
            f"to {dataset} ({'x'.join(str(d) for d in native)})."
        )
    return {
        "image_size": None if tuple(native[:2]) == (height, width) else height,
        "channels": None if native[2] == channels else channels,
    }
