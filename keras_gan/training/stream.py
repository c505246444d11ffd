"""The data a run reads: one endless stream of seeded passes, placed at the epoch a run
starts or resumes at, so that epoch `e` always sees the same batches (docs/training.md).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from keras_gan import data, performance
from keras_gan.run_dir import RunPaths
from keras_gan.training.config import TrainConfig

__all__ = ["data_stream", "describe_data", "load_data"]

logger = logging.getLogger("keras_gan.training")


def _data_options(config: TrainConfig) -> dict[str, Any]:
    """The options that say which images (or points) the run's data are, for describe and load."""
    return {
        "image_size": config.image_size,
        "channels": config.channels,
        "data_dir": config.data_dir,
        "num_examples": config.num_examples,
        "background": config.background,
    }


def describe_data(config: TrainConfig) -> data.DatasetInfo:
    """What `keras_gan.data.describe` says about the run's data, with the run's options."""
    return data.describe(config.dataset, **_data_options(config))


def load_data(config: TrainConfig, start_epoch: int | None = None) -> tuple[Any, Any]:
    """The dataset and its `DatasetInfo` (whose `skipped_files` a streamed folder fills)."""
    cache = RunPaths(Path(config.run_dir)).data_cache if config.cache_data else None
    return data.load(
        config.dataset,
        batch_size=config.batch_size,
        with_labels=config.conditional,
        shuffle=True,
        seed=config.seed,
        drop_remainder=True,
        start_epoch=start_epoch,
        cache_dir=None if cache is None else performance.worker_path(cache),
        return_info=True,
        **_data_options(config),
    )


def data_stream(
    config: TrainConfig, info: data.DatasetInfo, initial_epoch: int
) -> tuple[Any, int | None, Any]:
    """What `fit` reads, the steps of an epoch, and the stream's counter of skipped files.

    The counter is `DatasetInfo.skipped_files`: `None` unless the data streams files.

    One endless stream of seeded passes over the data (each pass in a new order that depends
    only on the seed and the pass), started at epoch `initial_epoch`'s place in it, so that
    epoch `e` always sees the same batches: an epoch is one pass, or `steps_per_epoch` batches
    of the stream. `data.load(start_epoch=...)` finds the place (an image folder without
    decoding the passes before it). Data of unknown length is read one pass per epoch.
    """
    per_pass = info.batches_per_epoch(config.batch_size)
    steps = config.steps_per_epoch or per_pass
    if steps is None:
        stream, loaded = load_data(config)
        return stream, None, loaded.skipped_files
    if not per_pass:
        stream, loaded = load_data(config, start_epoch=0)
        return stream.skip(initial_epoch * steps), steps, loaded.skipped_files
    start_pass, skipped = divmod(initial_epoch * steps, per_pass)
    stream, loaded = load_data(config, start_epoch=start_pass)
    if skipped:
        logger.info("Data order: skipping %d batches into pass %d.", skipped, start_pass + 1)
        stream = stream.skip(skipped)
    return stream, steps, loaded.skipped_files
