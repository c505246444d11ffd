"""Sources stored as array files: MNIST-format IDX files, `.npz`, `.npy` and CIFAR-10 batches.

Headers are read without loading the arrays, so `describe` stays cheap. Keras's CIFAR-10 cache
is pickled; it is read with an unpickler that only builds arrays, so a planted file cannot run
code. The layouts each file may have are in docs/data.md.
"""

from __future__ import annotations

import gzip
import math
import os
import pickle
import struct
import zipfile
from typing import Any, ClassVar

import numpy as np

from keras_gan.data.arrays import as_labels, as_nhwc_uint8, shape_from_dims
from keras_gan.data.base import CLASS_NAMES, DataError
from keras_gan.data.sources import Arrays, Header, InMemorySource, labelled_header
from keras_gan.errors import one_line

IDX_SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def idx_path(directory: str, split: str, kind: str) -> str | None:
    """The IDX file of `kind` (`"images"` or `"labels"`) for `split` in `directory`, if any."""
    prefix = IDX_SPLIT_PREFIX.get(split, split)
    rank = 3 if kind == "images" else 1
    for separator in ("-", "."):
        for suffix in ("", ".gz"):
            path = os.path.join(directory, f"{prefix}-{kind}{separator}idx{rank}-ubyte{suffix}")
            if os.path.isfile(path):
                return path
    return None


def read_idx(path: str, header_only: bool = False) -> tuple[tuple[int, ...], np.ndarray | None]:
    """Parse an IDX file of uint8 data (gzip'd when its name ends in `.gz`).

    Returns:
        `(dims, data)`, with `data` `None` when `header_only`.

    Raises:
        DataError: for a file that is not uint8 IDX, unreadable or truncated.
    """
    try:
        with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as stream:
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
            f"Cannot read IDX file {path}: {one_line(error, max_length=200)}; re-download it"
        ) from error
    expected = math.prod(dims)
    if len(payload) < expected:
        raise DataError(
            f"IDX file {path} is truncated ({len(payload)} of {expected} bytes); re-download it"
        )
    return dims, np.frombuffer(payload, dtype=np.uint8, count=expected).reshape(dims)


class IdxSource(InMemorySource):
    """MNIST-format IDX files in one folder (`train-images-idx3-ubyte[.gz]`, `t10k-...`)."""

    def __init__(self, name: str, directory: str, place: str) -> None:
        self.name = name
        self.directory = directory
        self.origin = f"IDX files in {directory} ({place})"

    def _images_path(self, split: str) -> str:
        path = idx_path(self.directory, split, "images")
        if path is None:
            available = [s for s in IDX_SPLIT_PREFIX if idx_path(self.directory, s, "images")]
            raise DataError(
                f"No {split!r} split in {self.directory} (found: {', '.join(available)}); ask "
                f"for one of those or add {IDX_SPLIT_PREFIX.get(split, split)}-images-idx3-ubyte"
            )
        return path

    def _labels(self, split: str, count: int) -> np.ndarray | None:
        path = idx_path(self.directory, split, "labels")
        if path is None:
            return None
        _, labels = read_idx(path)
        return as_labels(labels, count, path)

    def header(self, split: str) -> Header:
        path = self._images_path(split)
        dims, _ = read_idx(path, header_only=True)
        if len(dims) not in (3, 4):
            raise DataError(
                f"{path} holds an array of rank {len(dims)}, not images; check the file"
            )
        count = dims[0]
        shape = (dims[1], dims[2], dims[3] if len(dims) == 4 else 1)
        return labelled_header(count, shape, self._labels(split, count), CLASS_NAMES.get(self.name))

    def read(self, split: str) -> Arrays:
        path = self._images_path(split)
        _, images = read_idx(path)
        images = as_nhwc_uint8(images, path)
        return Arrays(images, self._labels(split, len(images)))


def _npy_header(stream: Any) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    return shape, dtype


class NpzSource(InMemorySource):
    """Images (and labels) in an `.npz` file: `x_<split>`, or `x`/`images` for `train`."""

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
                f"{path} is not a readable .npz file ({one_line(error, max_length=200)}); "
                "save it with numpy.savez"
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
        """Whether the file holds images for `split`."""
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
                f"Cannot read {key!r} from {self.path}: {one_line(error, max_length=200)}; "
                "re-save it with numpy"
            ) from error

    def header(self, split: str) -> Header:
        image_key = self._image_key(split)
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(image_key + ".npy") as member:
                dims, _ = _npy_header(member)
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise DataError(
                f"Cannot read {image_key!r} from {self.path}: "
                f"{one_line(error, max_length=200)}; re-save it"
            ) from error
        count, shape = shape_from_dims(tuple(dims), f"{self.path}[{image_key}]")
        _, label_key = self._keys_for(split)
        if label_key is None:
            return Header(count, shape, None)
        labels = as_labels(self._load(label_key), count, f"{self.path}[{label_key}]")
        return labelled_header(count, shape, labels, CLASS_NAMES.get(self.name))

    def read(self, split: str) -> Arrays:
        image_key = self._image_key(split)
        images = as_nhwc_uint8(self._load(image_key), f"{self.path}[{image_key}]")
        _, label_key = self._keys_for(split)
        if label_key is None:
            return Arrays(images, None)
        labels = as_labels(self._load(label_key), len(images), f"{self.path}[{label_key}]")
        return Arrays(images, labels)


class NpySource(InMemorySource):
    """Images in an `.npy` file: one `train` split, no labels."""

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

    def _unreadable(self, error: Exception) -> DataError:
        return DataError(
            f"{self.path} is not a readable .npy file ({one_line(error, max_length=200)}); "
            "save it with numpy.save"
        )

    def header(self, split: str) -> Header:
        self._check_split(split)
        try:
            with open(self.path, "rb") as stream:
                dims, _ = _npy_header(stream)
        except (OSError, ValueError) as error:
            raise self._unreadable(error) from error
        count, shape = shape_from_dims(tuple(dims), self.path)
        return Header(count, shape, None)

    def read(self, split: str) -> Arrays:
        self._check_split(split)
        try:
            array = np.load(self.path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise self._unreadable(error) from error
        return Arrays(as_nhwc_uint8(array, self.path), None)


class CifarSource(InMemorySource):
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
        """Whether every batch file of `split` is there."""
        return split in self._FILES and all(os.path.isfile(path) for path in self._files(split))

    def header(self, split: str) -> Header:
        count = 10_000 * len(self._files(split))
        return Header(count, (32, 32, 3), 10, CLASS_NAMES["cifar10"])

    def read(self, split: str) -> Arrays:
        images, labels = [], []
        for path in self._files(split):
            try:
                with open(path, "rb") as stream:
                    batch = ArrayUnpickler(stream, encoding="bytes").load()
                images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                labels.append(np.asarray(batch[b"labels"]))
            except (OSError, EOFError, KeyError, ValueError, pickle.UnpicklingError) as error:
                raise DataError(
                    f"Cannot read CIFAR-10 batch {path}: {one_line(error, max_length=200)}; "
                    "delete the cache to re-download it"
                ) from error
        stacked = np.ascontiguousarray(np.concatenate(images).transpose(0, 2, 3, 1))
        return Arrays(stacked, as_labels(np.concatenate(labels), len(stacked), path))


class ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and NumPy arrays only.

    The CIFAR-10 python batches Keras downloads are pickles, and a planted file must not be
    able to run code: any other global is refused with `pickle.UnpicklingError`.
    """

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
