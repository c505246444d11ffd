"""TensorFlow Datasets as a source: a prepared copy on disk, or one to download first.

Splits that fit in `IN_MEMORY_LIMIT_BYTES` are read as one array like the other in-memory
sources; larger ones (or images of varying size) stream: decode and resize per image, `cache()`
the uint8 images, shuffle with a 10,000-image buffer. `celeb_a` gets the DCGAN faces setting.
"""

from __future__ import annotations

import math
import os
from typing import Any

import tensorflow as tf

from keras_gan.data import arrays
from keras_gan.data.base import (
    DataError,
    DatasetInfo,
    DownloadError,
    Options,
    PipelineSettings,
    Split,
    data_hint,
    no_labels_message,
)
from keras_gan.data.sources import Source
from keras_gan.errors import one_line

CELEB_A_CROP = 108
CELEB_A_IMAGE_SIZE = 64
IN_MEMORY_LIMIT_BYTES = 1 << 30
STREAM_SHUFFLE_BUFFER = 10_000


def import_tfds() -> Any:
    """`tensorflow_datasets`, imported on first use.

    Raises:
        DataError: when it is not installed.
    """
    try:
        import tensorflow_datasets
    except ImportError as error:
        raise DataError(
            f"tensorflow-datasets is not installed ({one_line(error, max_length=200)}); "
            "pip install tensorflow-datasets, or use a folder of images, IDX files or an "
            ".npz/.npy file"
        ) from error
    return tensorflow_datasets


def base_name(name: str) -> str:
    """`celeb_a/align:2.0.1` -> `celeb_a`."""
    return name.split("/")[0].split(":")[0]


def tfds_knows(name: str) -> bool:
    """Whether `name` is a registered TFDS dataset (local registry only, no network)."""
    try:
        tfds = import_tfds()
    except DataError:
        return False
    try:
        tfds.builder_cls(base_name(name))
    except Exception:  # DatasetNotFoundError and friends: not a TFDS name.
        return False
    return True


def tfds_prepared(name: str, data_dir: str) -> bool:
    """Whether `data_dir` holds a prepared copy of `name`.

    Checks the disk first, to keep TFDS from logging about missing folders.
    """
    if not os.path.isdir(os.path.join(data_dir, base_name(name))):
        return False
    try:
        return bool(import_tfds().builder(name, data_dir=data_dir).is_prepared())
    except Exception:  # A broken or foreign folder is simply not a usable copy.
        return False


def default_tfds_dir() -> str:
    """`$TFDS_DATA_DIR`, else `~/tensorflow_datasets`."""
    return os.environ.get("TFDS_DATA_DIR") or os.path.join(
        os.path.expanduser("~"), "tensorflow_datasets"
    )


class TfdsSource(Source):
    """A TFDS image dataset, prepared on disk or to be downloaded before use.

    Args:
        name: the TFDS name, with an optional config and version (`celeb_a`, `mnist:3.*`).
        data_dir: the TFDS data dir; `None` for `default_tfds_dir()`.
        place: why this copy was chosen, for `origin` (e.g. `"network reachable"`).
        download: whether `dataset` must download and prepare it first.
    """

    def __init__(self, name: str, data_dir: str | None, place: str, download: bool) -> None:
        self.name = name
        self.data_dir = data_dir
        self.download = download
        target = data_dir or default_tfds_dir()
        self.origin = f"TFDS {'download into' if download else 'copy in'} {target} ({place})"
        self.builder = import_tfds().builder(name, data_dir=target)
        self.is_celeb_a = base_name(name) == "celeb_a"
        self.image_key, self.label_key = self._feature_keys()

    def _feature_keys(self) -> tuple[str, str | None]:
        tfds = import_tfds()
        features = self.builder.info.features
        items = list(features.items()) if hasattr(features, "items") else []
        images = [key for key, value in items if isinstance(value, tfds.features.Image)]
        if not images:
            raise DataError(
                f"TFDS dataset {self.name!r} has no image feature; pick an image dataset"
            )
        labels = [key for key, value in items if isinstance(value, tfds.features.ClassLabel)]
        image_key = "image" if "image" in images else images[0]
        label_key = "label" if "label" in labels else (labels[0] if labels else None)
        return image_key, label_key

    def _split_count(self, split: Split) -> int | None:
        splits = self.builder.info.splits
        if not splits:
            return None
        if split.name not in splits:
            raise DataError(
                f"TFDS dataset {self.name!r} has no split {split.name!r} (splits: "
                f"{', '.join(splits)}); pick one of them"
            )
        try:
            return int(splits[split.text].num_examples)
        except Exception as error:  # TFDS rejects bad slices with several error types.
            raise DataError(
                f"Bad split {split.text!r} for {self.name}: {one_line(error, max_length=200)}"
            ) from error

    def _size(self, options: Options) -> int | None:
        return options.image_size or (CELEB_A_IMAGE_SIZE if self.is_celeb_a else None)

    def _crop(self) -> int | None:
        return CELEB_A_CROP if self.is_celeb_a else None

    def info(self, split: Split, options: Options) -> DatasetInfo:
        feature = self.builder.info.features[self.image_key]
        height, width, depth = (dim if dim is not None else 0 for dim in feature.shape)
        default_size = CELEB_A_IMAGE_SIZE if self.is_celeb_a else None
        if self._size(options) is None and (not height or not width):
            raise DataError(
                f"Images of {self.name} vary in size; pass image_size (--image-size) to resize them"
            )
        count = self._split_count(split)
        if count is not None and options.num_examples is not None:
            count = min(count, options.num_examples)
        labels = None if self.label_key is None else self.builder.info.features[self.label_key]
        return DatasetInfo(
            name=self.name,
            origin=self.origin,
            split=split.text,
            element_shape=arrays.final_shape((height, width, depth or 3), options, default_size),
            num_examples=count,
            num_classes=None if labels is None else int(labels.num_classes),
            class_names=None if labels is None else tuple(labels.names),
        )

    def prepare(self) -> None:
        """Download and prepare the dataset.

        Raises:
            DownloadError: with the first line of whatever TFDS raised.
        """
        try:
            self.builder.download_and_prepare()
        except Exception as error:  # Downloads fail in many ways; report the first line.
            raise DownloadError(
                f"TFDS could not download {self.name!r}: {one_line(error, max_length=200)}; "
                f"{data_hint(self.name)}"
            ) from error
        self.download = False

    def dataset(
        self, split: Split, options: Options, settings: PipelineSettings
    ) -> tuple[tf.data.Dataset, DatasetInfo]:
        if self.download:
            self.prepare()
        info = self.info(split, options)
        if settings.with_labels and info.num_classes is None:
            raise DataError(no_labels_message(self.name))
        count = info.num_examples
        if count is not None:
            arrays.check_split_size(count, settings, self.name, split.text)
        native = self.builder.info.features[self.image_key].shape
        fits = count is not None and None not in native
        if fits and count * math.prod(native) <= IN_MEMORY_LIMIT_BYTES:
            return self._in_memory(split, options, settings), info
        return self._streamed(split, options, settings, info, count), info

    def _in_memory(
        self, split: Split, options: Options, settings: PipelineSettings
    ) -> tf.data.Dataset:
        tfds = import_tfds()
        whole = tfds.as_numpy(
            self.builder.as_dataset(split=split.text, batch_size=-1, shuffle_files=False)
        )
        images = arrays.as_nhwc_uint8(whole[self.image_key], self.name)[: options.num_examples]
        images = arrays.prepare_arrays(
            images, self._size(options), options.channels, self._crop(), options.background
        )
        labels = None
        if settings.with_labels:
            labels = arrays.as_labels(whole[self.label_key][: len(images)], len(images), self.name)
        return arrays.pipeline_from_arrays(images, labels, settings)

    def _streamed(
        self,
        split: Split,
        options: Options,
        settings: PipelineSettings,
        info: DatasetInfo,
        count: int | None,
    ) -> tf.data.Dataset:
        size, crop, channels = self._size(options), self._crop(), options.channels
        image_key, label_key = self.image_key, self.label_key

        def prepare(example: dict[str, tf.Tensor]) -> Any:
            image = arrays.prepare_tensor(
                example[image_key], size, channels, crop, options.background
            )
            image = tf.ensure_shape(image, info.element_shape)
            if settings.with_labels:
                return image, tf.cast(example[label_key], tf.int32)
            return image

        dataset = self.builder.as_dataset(split=split.text, shuffle_files=False)
        if options.num_examples is not None:
            dataset = dataset.take(options.num_examples)
        dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).cache()
        if settings.shuffle:
            buffer = min(count or STREAM_SHUFFLE_BUFFER, STREAM_SHUFFLE_BUFFER)
            dataset = dataset.shuffle(buffer, seed=settings.seed, reshuffle_each_iteration=True)
        return arrays.finish_pipeline(dataset, settings)
