"""`load` and `describe`: check the request, resolve the source, build or describe it.

Warnings (`DatasetInfo.warnings`) and the copy used are logged on the `keras_gan.data` logger.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from keras_gan.data.base import (
    DEFAULT_BACKGROUND,
    DataError,
    DatasetInfo,
    DownloadError,
    Options,
    PipelineSettings,
    parse_background,
    parse_split,
)
from keras_gan.data.digits import MnistDigits, fallback_warning
from keras_gan.data.lookup import resolve
from keras_gan.data.toy import GAUSSIAN_COV, GAUSSIAN_MEAN
from keras_gan.errors import check_integer, one_line

logger = logging.getLogger("keras_gan.data")


def _make_options(
    image_size: int | None,
    channels: int | None,
    num_examples: int | None,
    gaussian_mean: Sequence[float],
    gaussian_cov: Sequence[Sequence[float]],
    background: str = DEFAULT_BACKGROUND,
) -> Options:
    try:
        mean = tuple(float(value) for value in gaussian_mean)
        cov = tuple(tuple(float(value) for value in row) for row in gaussian_cov)
    except (TypeError, ValueError) as error:
        raise DataError(
            f"gaussian_mean must be a list of numbers and gaussian_cov a list of rows of numbers "
            f"({one_line(error, max_length=200)}); e.g. gaussian_cov=[[1.0, 0.6], [0.6, 0.8]]"
        ) from error
    return Options(image_size, channels, num_examples, mean, cov, parse_background(background))


def _check_arguments(batch_size: Any, image_size: Any, channels: Any, num_examples: Any) -> None:
    if batch_size is not None:
        check_integer("batch_size", batch_size, error=DataError)
    if image_size is not None:
        check_integer("image_size", image_size, error=DataError, hint=" (e.g. 32 or 64)")
    if channels is not None and channels not in (1, 3):
        raise DataError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    if num_examples is not None:
        check_integer("num_examples", num_examples, error=DataError)


def _repeat_from(dataset: tf.data.Dataset, start_epoch: int) -> tf.data.Dataset:
    """One reshuffled pass repeated without end, from pass `start_epoch`'s first batch."""
    stream = dataset.repeat()
    batches = int(dataset.cardinality())
    if start_epoch and batches > 0:
        logger.info(
            "Data order: skipping %d batches to epoch %d's place in the seeded order.",
            start_epoch * batches,
            start_epoch + 1,
        )
        stream = stream.skip(start_epoch * batches)
    elif start_epoch:
        logger.warning(
            "Data order: the number of batches is unknown, so epoch %d starts a new pass from "
            "the first batch instead of its place in the seeded order.",
            start_epoch + 1,
        )
    return stream


def describe(
    source: str | os.PathLike,
    split: str = "train",
    image_size: int | None = None,
    channels: int | None = None,
    data_dir: str | os.PathLike | None = None,
    num_examples: int | None = None,
    gaussian_mean: Sequence[float] = GAUSSIAN_MEAN,
    gaussian_cov: Sequence[Sequence[float]] = GAUSSIAN_COV,
    background: str = DEFAULT_BACKGROUND,
) -> DatasetInfo:
    """Describe what `load` with the same arguments would yield, without decoding or downloading.

    Reads file headers, TFDS metadata and the offline decision only: what a CLI needs to build
    networks and print a summary.

    Args:
        source: a dataset name, a folder or an `.npz`/`.npy` file (see docs/data.md).
        split: a split name with an optional slice, e.g. `"train[:10%]"`.
        image_size: resize to `image_size` x `image_size` (non-square images are centre-cropped).
        channels: 1 (grayscale) or 3 (RGB); `None` keeps the data's own.
        data_dir: a folder searched first for local copies of dataset names.
        num_examples: keep the first N examples (the number of points for `gaussian`).
        gaussian_mean: the mean of the `gaussian` toy.
        gaussian_cov: the covariance of the `gaussian` toy (positive definite).
        background: the colour transparent pixels are composited onto (see `load`).

    Returns:
        The `DatasetInfo`; its `warnings` say e.g. that the shipped digits stand in for MNIST.

    Raises:
        DataError: for a bad argument or source, with a one-line message that says what to do.
    """
    _check_arguments(None, image_size, channels, num_examples)
    options = _make_options(
        image_size, channels, num_examples, gaussian_mean, gaussian_cov, background
    )
    parsed = parse_split(split)
    return resolve(source, parsed, data_dir, options).info(parsed, options)


def load(
    source: str | os.PathLike,
    split: str = "train",
    batch_size: int = 64,
    image_size: int | None = None,
    channels: int | None = None,
    with_labels: bool = False,
    shuffle: bool = True,
    seed: int | None = None,
    drop_remainder: bool = True,
    data_dir: str | os.PathLike | None = None,
    num_examples: int | None = None,
    gaussian_mean: Sequence[float] = GAUSSIAN_MEAN,
    gaussian_cov: Sequence[Sequence[float]] = GAUSSIAN_COV,
    return_info: bool = False,
    cache_dir: str | os.PathLike | None = None,
    start_epoch: int | None = None,
    background: str = DEFAULT_BACKGROUND,
) -> tf.data.Dataset | tuple[tf.data.Dataset, DatasetInfo]:
    """Batches of float32 NHWC images in [-1, 1], as a `tf.data.Dataset`.

    `gaussian` yields float32 points of shape `(batch, D)` instead, not rescaled. Warnings (e.g.
    skipped files, the offline MNIST fallback) are logged once on the `keras_gan.data` logger,
    and the copy used in one INFO line.

    Args:
        source: a dataset name, a folder or an `.npz`/`.npy` file (see docs/data.md).
        split: a split name with an optional slice, e.g. `"train[:10%]"`.
        batch_size: examples per batch.
        image_size: resize to `image_size` x `image_size` (non-square images are centre-cropped).
        channels: 1 (grayscale) or 3 (RGB); `None` keeps the data's own.
        with_labels: yield `(images, labels)` with int32 labels, for conditional GANs.
        shuffle: shuffle the whole set (for a cached image folder, within a buffer), reshuffled
            every epoch.
        seed: makes the shuffling and the `gaussian` points reproducible.
        drop_remainder: drop a last, smaller batch.
        data_dir: a folder searched first for local copies of dataset names.
        num_examples: keep the first N examples (the number of points for `gaussian`).
        gaussian_mean: the mean of the `gaussian` toy.
        gaussian_cov: the covariance of the `gaussian` toy (positive definite).
        return_info: also return the `DatasetInfo`.
        cache_dir: a folder where an image folder's decoded images are cached after the first
            pass, so later passes and later runs read them instead of decoding the files again
            (sources held in memory ignore it). A cache of another state of the folder, or one
            cut short, is deleted and rebuilt.
        start_epoch: `None` for one pass (iterate again for another, reshuffled). A number for
            an endless stream of passes starting with pass `start_epoch`, pass `e` in the
            order pass `e` of an uninterrupted stream has, which is how a resumed run sees the
            batches it would have seen. Image folders start there without decoding earlier
            passes; other sources skip the earlier passes' batches.
        background: the colour that transparent pixels of image files (an alpha channel, or a
            transparent palette entry) are composited onto: a colour name Pillow knows
            (`"white"`, `"black"`), `"#rrggbb"` or `"#rgb"`. Opaque images ignore it.

    Returns:
        The dataset, or `(dataset, info)` when `return_info`.

    Raises:
        DataError: for a bad argument, source or file, with a one-line message.
    """
    _check_arguments(batch_size, image_size, channels, num_examples)
    if start_epoch is not None:
        check_integer("start_epoch", start_epoch, minimum=0, error=DataError)
    options = _make_options(
        image_size, channels, num_examples, gaussian_mean, gaussian_cov, background
    )
    settings = PipelineSettings(
        batch_size,
        bool(with_labels),
        bool(shuffle),
        seed,
        bool(drop_remainder),
        None if cache_dir is None else os.fspath(cache_dir),
        start_epoch,
    )
    parsed = parse_split(split)
    resolved = resolve(source, parsed, data_dir, options)
    try:
        dataset, info = resolved.dataset(parsed, options, settings)
    except DownloadError as error:
        if resolved.name != "mnist":
            raise
        reason = one_line(error.__cause__ or error, max_length=200)
        resolved = MnistDigits("mnist", fallback_warning(reason))
        dataset, info = resolved.dataset(parsed, options, settings)
    if start_epoch is not None and not resolved.starts_at_epoch:
        dataset = _repeat_from(dataset, start_epoch)
    for warning in info.warnings:
        logger.warning(warning)
    logger.info("Using %s", info.summary())
    return (dataset, info) if return_info else dataset
