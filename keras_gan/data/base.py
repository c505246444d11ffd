"""The types every data source shares: errors, requests (split, options) and `DatasetInfo`.

No TensorFlow here: a source's answer to `describe` is plain data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from keras_gan.errors import KerasGanError

if TYPE_CHECKING:
    from keras_gan.data.streaming import SkippedFiles

IDX_NAMES = ("mnist", "fashion_mnist", "kmnist")
DEFAULT_BACKGROUND = "white"  # what transparent pixels are composited onto
CLASS_NAMES = {
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


class DataError(KerasGanError):
    """A bad data request; `str(error)` is one line that says what to do."""


class DownloadError(DataError):
    """A TFDS download that failed although the network probe succeeded."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a model builder needs to know about a source before training.

    Attributes:
        name: the dataset name, or the path of a folder or file.
        origin: where the data comes from, in words (the copy used, or the download).
        split: the split as asked for, e.g. `"train[:10%]"`.
        element_shape: `(H, W, C)` after `image_size`/`channels` for images, `(D,)` for points.
        num_examples: the number of examples; `None` when unknown before a download. For
            folders with both `image_size` and `channels` given it counts candidate files, not
            yet decoded.
        num_classes: the number of classes, `None` when the source has no labels.
        class_names: the names of the classes, when known.
        warnings: one-line messages the user should see (e.g. the offline MNIST fallback);
            `load` logs each once on the `keras_gan.data` logger.
        skipped_files: for the stream `load` returns of a source that decodes files as it
            goes (an image folder), its live `streaming.SkippedFiles` counter of the files
            left out because they failed to decode; `None` otherwise (and from `describe`).
    """

    name: str
    origin: str
    split: str
    element_shape: tuple[int, ...]
    num_examples: int | None
    num_classes: int | None
    class_names: tuple[str, ...] | None = None
    warnings: tuple[str, ...] = ()
    skipped_files: SkippedFiles | None = field(default=None, compare=False, repr=False)

    @property
    def is_image(self) -> bool:
        """`True` for image sources, `False` for point clouds such as `gaussian`."""
        return len(self.element_shape) == 3

    @property
    def image_shape(self) -> tuple[int, int, int] | None:
        """`(H, W, C)` of the images the pipeline yields, or `None` for points."""
        if not self.is_image:
            return None
        height, width, channels = self.element_shape
        return (height, width, channels)

    def batches_per_epoch(self, batch_size: int, drop_remainder: bool = True) -> int | None:
        """How many batches one pass yields.

        Args:
            batch_size: examples per batch.
            drop_remainder: whether a last, smaller batch is dropped.

        Returns:
            The number of batches, or `None` when the number of examples is unknown.
        """
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
class Options:
    """The per-request settings that change what a source yields (and so its `DatasetInfo`).

    `background` is the RGB that transparent pixels are composited onto.
    """

    image_size: int | None
    channels: int | None
    num_examples: int | None
    gaussian_mean: tuple[float, ...] = ()
    gaussian_cov: tuple[tuple[float, ...], ...] = ()
    background: tuple[int, int, int] = (255, 255, 255)


@dataclass(frozen=True)
class PipelineSettings:
    """The per-request settings that change only how the pipeline batches, shuffles and caches.

    `cache_dir` is where a streaming source (an image folder) keeps its decoded images; sources
    held in memory ignore it. `start_epoch`, when set, asks for an endless stream of passes
    starting with pass `start_epoch`, each in an order that depends only on the seed and the
    pass (`Source.starts_at_epoch` says whether a source builds it itself).
    """

    batch_size: int
    with_labels: bool
    shuffle: bool
    seed: int | None
    drop_remainder: bool
    cache_dir: str | None = None
    start_epoch: int | None = None


@dataclass(frozen=True)
class Split:
    """A split name with an optional TFDS-style slice such as `train[:10%]`."""

    text: str
    name: str
    start: str | None
    stop: str | None

    @property
    def sliced(self) -> bool:
        """Whether a slice was given."""
        return self.start is not None or self.stop is not None

    def bounds(self, count: int) -> slice:
        """The slice of `count` examples this split selects."""
        return slice(_slice_bound(self.start, count), _slice_bound(self.stop, count))


_SPLIT_PATTERN = re.compile(r"^(?P<name>\w+)(?:\[(?P<start>-?\d+%?)?:(?P<stop>-?\d+%?)?\])?$")


def _slice_bound(bound: str | None, count: int) -> int | None:
    if bound is None:
        return None
    if bound.endswith("%"):
        return round(count * int(bound[:-1]) / 100)
    return int(bound)


def parse_split(split: str) -> Split:
    """Parse `"train"` or `"train[:10%]"` (TFDS slice syntax: indices or percentages).

    Raises:
        DataError: when `split` is not a string of that form.
    """
    if not isinstance(split, str):
        raise DataError(f"split must be a string such as 'train' or 'test[:50%]', got {split!r}")
    match = _SPLIT_PATTERN.match(split.strip())
    if match is None:
        raise DataError(
            f"Cannot parse split {split!r}; use a name such as 'train' or 'train[:10%]'"
        )
    return Split(split.strip(), match["name"], match["start"], match["stop"])


def parse_background(background: str) -> tuple[int, int, int]:
    """The RGB of a background colour: a name Pillow knows (`"white"`), `"#rrggbb"` or `"#rgb"`.

    Raises:
        DataError: for anything else, or a colour with an alpha part.
    """
    from PIL import ImageColor  # Pillow: only when a colour is parsed

    try:
        rgb = ImageColor.getrgb(background.strip()) if isinstance(background, str) else None
    except ValueError:
        rgb = None
    if rgb is None or len(rgb) != 3:
        raise DataError(
            f"background must be an opaque colour such as white, black or #rrggbb, got "
            f"{background!r}"
        )
    return (int(rgb[0]), int(rgb[1]), int(rgb[2]))


def data_hint(name: str) -> str:
    """How to provide `name` without network, in words a CLI user can follow."""
    if name in IDX_NAMES:
        files = f"the IDX files (train-images-idx3-ubyte.gz, ...) or {name}.npz"
    elif name == "cifar10":
        files = "cifar-10-batches-py/ or cifar10.npz"
    else:
        files = f"{name}.npz (or a TFDS copy prepared online with `tfds build {name}`)"
    return (
        f"put {files} in a folder and pass it as data_dir (--data-dir), or run once online so "
        "TFDS downloads it"
    )


def no_labels_message(name: str) -> str:
    """The error for `with_labels=True` on a source without labels."""
    return (
        f"{name} has no class labels; drop with_labels (--conditional), or use a labelled "
        "source (class subfolders, an .npz with y, or mnist/fashion_mnist/cifar10)"
    )


def hyphenated(name: str) -> str:
    """`fashion_mnist` -> `fashion-mnist`, the spelling of Keras's cache folders."""
    return name.replace("_", "-")
