"""The `Source` interface every kind of data implements, and its in-memory base class.

`lookup.resolve` turns a name or path into a `Source`; `load` and `describe` then call only
`Source.info` and `Source.dataset`. Warnings travel in `DatasetInfo.warnings`.
"""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from keras_gan.data import arrays
from keras_gan.data.base import (
    DataError,
    DatasetInfo,
    Options,
    PipelineSettings,
    Split,
    no_labels_message,
)


class Source(abc.ABC):
    """One kind of data (a folder, a file, a TFDS dataset, a toy), resolved for one request.

    Attributes:
        name: the dataset name or path, as `DatasetInfo.name` reports it.
        origin: where the data comes from, in words, as `DatasetInfo.origin` reports it.
        starts_at_epoch: whether `dataset` builds the endless stream that `start_epoch` asks for.
    """

    name: str
    origin: str
    # Whether `dataset` honours `settings.start_epoch` itself; otherwise `load` repeats the
    # single pass and skips to the epoch's batches (cheap for data held in memory).
    starts_at_epoch: bool = False

    @abc.abstractmethod
    def info(self, split: Split, options: Options) -> DatasetInfo:
        """What `dataset` would yield, from headers and metadata only (no decoding, no download).

        Args:
            split: the parsed split, e.g. `train[:10%]`.
            options: image size, channels, number of examples (and the toy's parameters).

        Returns:
            The `DatasetInfo`; its `warnings` are those known before reading the data.

        Raises:
            DataError: for a split or option this source cannot serve.
        """

    @abc.abstractmethod
    def dataset(
        self, split: Split, options: Options, settings: PipelineSettings
    ) -> tuple[tf.data.Dataset, DatasetInfo]:
        """The finished pipeline: batches of float32 in [-1, 1] (points for toys), prefetched.

        Args:
            split: the parsed split.
            options: as for `info`.
            settings: batch size, labels, shuffling, seed and `drop_remainder`.

        Returns:
            `(dataset, info)`, where `info` describes what was actually read and its `warnings`
            hold everything the user should be told about this load (`load` logs them once).

        Raises:
            DataError: for unreadable data or a request the data cannot satisfy.
            DownloadError: when a download failed although the network was reachable.
        """


@dataclass(frozen=True)
class Header:
    """Cheap facts about one split of an in-memory source, read without decoding images."""

    num_examples: int
    shape: tuple[int, int, int]
    num_classes: int | None
    class_names: tuple[str, ...] | None = None
    warnings: tuple[str, ...] = ()


class Arrays(NamedTuple):
    """One split read into memory: uint8 NHWC images, optional int32 labels, and warnings."""

    images: np.ndarray
    labels: np.ndarray | None
    warnings: tuple[str, ...] = ()


def labelled_header(
    count: int, shape: tuple[int, int, int], labels: np.ndarray | None, names: tuple | None
) -> Header:
    """A `Header` whose classes are counted from `labels` (`names` kept when they match)."""
    if labels is None:
        return Header(count, shape, None)
    num_classes = int(labels.max()) + 1 if labels.size else 0
    return Header(count, shape, num_classes, names if names and len(names) == num_classes else None)


class InMemorySource(Source):
    """A source whose splits fit in memory as uint8 NHWC arrays (plus optional labels).

    Subclasses implement `header` and `read`; this class slices the split, applies
    `image_size`/`channels` once to the whole array and builds the in-memory pipeline.
    """

    @abc.abstractmethod
    def header(self, split: str) -> Header:
        """The count, native `(H, W, C)` and classes of split `split`, without decoding.

        Raises:
            DataError: when the split does not exist or the headers are unreadable.
        """

    @abc.abstractmethod
    def read(self, split: str) -> Arrays:
        """Every image (and label) of split `split`, decoded, with warnings about skipped data.

        Raises:
            DataError: when the split does not exist or no image can be read.
        """

    def _count(self, split: Split, total: int, options: Options) -> int:
        count = len(range(total)[split.bounds(total)])
        if options.num_examples is not None:
            count = min(count, options.num_examples)
        return count

    def info(self, split: Split, options: Options) -> DatasetInfo:
        header = self.header(split.name)
        return DatasetInfo(
            name=self.name,
            origin=self.origin,
            split=split.text,
            element_shape=arrays.final_shape(header.shape, options),
            num_examples=self._count(split, header.num_examples, options),
            num_classes=header.num_classes,
            class_names=header.class_names,
            warnings=header.warnings,
        )

    def dataset(
        self, split: Split, options: Options, settings: PipelineSettings
    ) -> tuple[tf.data.Dataset, DatasetInfo]:
        info = self.info(split, options)
        if settings.with_labels and info.num_classes is None:
            raise DataError(no_labels_message(self.name))
        images, labels, warnings = self.read(split.name)
        selection = split.bounds(len(images))
        images = images[selection][: options.num_examples]
        arrays.check_split_size(len(images), settings, self.name, split.text)
        images = arrays.prepare_arrays(
            images, options.image_size, options.channels, background=options.background
        )
        if labels is not None:
            labels = labels[selection][: options.num_examples]
        info = dataclasses.replace(
            info,
            element_shape=tuple(images.shape[1:]),
            num_examples=len(images),
            warnings=info.warnings + tuple(warnings),
        )
        return arrays.pipeline_from_arrays(images, labels, settings), info
