"""A folder of image files as a streaming source: flat, or one subfolder per class.

The folder is scanned once; headers (size and mode) are read without decoding for `describe`;
the pipeline decodes files with Pillow on tf.data's threads as batches are needed, optionally
caching the decoded images to a file (`keras_gan.data.streaming`). Unreadable and non-image
files are skipped and reported. Rules in docs/data.md.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf
from PIL import Image

from keras_gan.data import arrays, streaming
from keras_gan.data.base import (
    DataError,
    DatasetInfo,
    Options,
    PipelineSettings,
    Split,
    no_labels_message,
)
from keras_gan.data.sources import Source
from keras_gan.errors import one_line

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
GRAYSCALE_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})
ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
WHITE = (255, 255, 255)
# Files whose headers are read to catch a folder of nothing but broken files early, when
# `image_size` and `channels` are both given (and so no header needs reading).
SAMPLED_HEADERS = 64


def is_hidden(name: str) -> bool:
    """Whether a file or folder name is hidden (starts with a dot); hidden ones are ignored."""
    return name.startswith(".")


def is_image_file(name: str) -> bool:
    """Whether `name` has one of the `IMAGE_EXTENSIONS` (any case)."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


def has_transparency(image: Image.Image) -> bool:
    """Whether `image` has an alpha channel or a transparent colour (PNG/GIF `transparency`)."""
    if image.mode in ALPHA_MODES:
        return True
    return image.mode in ("P", "L", "RGB") and "transparency" in image.info


def composite(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """`image` alpha-blended onto `background`: `a * rgb + (1 - a) * background`, rounded.

    Args:
        image: any Pillow image with transparency (see `has_transparency`).
        background: the RGB under transparent pixels.

    Returns:
        An RGB image; fully transparent pixels are exactly `background`.
    """
    rgba = image.convert("RGBA")
    # Pillow rounds (a * rgb + (255 - a) * bg) / 255 to the nearest integer (checked for every
    # alpha, colour and background value), twice as fast as the same sum in NumPy.
    under = Image.new("RGBA", rgba.size, (*background, 255))
    return Image.alpha_composite(under, rgba).convert("RGB")


def decode_image(
    path: str,
    grayscale: bool,
    image_size: int | None,
    background: tuple[int, int, int] = WHITE,
) -> np.ndarray:
    """Decode one file with Pillow into uint8 HWC, centre-cropped and resized when asked.

    Transparent pixels (an alpha channel, or a palette or colour marked transparent) are
    composited onto `background` first, then converted to grey when `grayscale`.

    Args:
        path: the image file.
        grayscale: `True` for one channel ("L"), `False` for RGB.
        image_size: the side of the square result; `None` keeps the native size.
        background: the RGB that transparent pixels are composited onto.

    Returns:
        A uint8 array of shape `(H, W, 1)` or `(H, W, 3)`.
    """
    with Image.open(path) as image:
        if has_transparency(image):
            image = composite(image, background)
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


class ImageFolder(Source):
    """A folder of image files, flat or one subfolder per class, decoded as it streams.

    It builds the endless stream `start_epoch` asks for itself (`starts_at_epoch`), so a
    resumed run decodes no image of the epochs before it.

    Labels are the indices of the sorted class subfolder names. Without `image_size` all images
    must share a size; without `channels` the result is grayscale when every image is, else RGB.

    Args:
        root: the folder.
        options: the request's `image_size`, `channels` and `background` (they decide what is
            decoded).

    Attributes:
        files: every candidate image path, in a stable (sorted) order.
        labels: the class index of each entry of `files` (empty for a flat folder).
        class_names: the sorted subfolder names, or `None` for a flat folder.
    """

    starts_at_epoch = True

    def __init__(self, root: str, options: Options) -> None:
        self.name = root
        self.root = root
        self.origin = f"image folder {root}"
        self.image_size = options.image_size
        self.channels = options.channels
        self.background = options.background
        self.files: list[str] = []
        self.labels: list[int] = []
        self.other_files: list[str] = []
        self.class_names: tuple[str, ...] | None = None
        self._unreadable: dict[str, str] = {}
        self._modes: dict[str, tuple[tuple[int, int], bool]] = {}
        self.skipped = streaming.SkippedFiles()
        self._scan()

    def _scan(self) -> None:
        try:
            names = sorted(name for name in os.listdir(self.root) if not is_hidden(name))
        except OSError as error:
            raise DataError(
                f"Cannot list {self.root}: {one_line(error, max_length=200)}; check the path"
            ) from error
        subfolders = [name for name in names if os.path.isdir(os.path.join(self.root, name))]
        files = [name for name in names if not os.path.isdir(os.path.join(self.root, name))]
        top_images = [name for name in files if is_image_file(name)]
        if subfolders and top_images:
            raise DataError(
                f"{self.root} mixes images at the top level ({top_images[0]}) with class "
                f"subfolders ({subfolders[0]}/); move the top-level images into a class folder"
            )
        if subfolders:
            self.class_names = tuple(subfolders)
            for label, folder in enumerate(subfolders):
                for directory, dirnames, filenames in os.walk(os.path.join(self.root, folder)):
                    dirnames[:] = sorted(name for name in dirnames if not is_hidden(name))
                    for filename in sorted(filenames):
                        if not is_hidden(filename):
                            self._add(os.path.join(directory, filename), label)
        else:
            for filename in files:
                self._add(os.path.join(self.root, filename), None)
        if not self.files:
            raise DataError(
                f"No images found in {self.root} (looked for {', '.join(IMAGE_EXTENSIONS)}, flat "
                "or in class subfolders); put images there or pass another folder"
            )
        self.other_files.extend(name for name in files if not is_image_file(name))

    def _add(self, path: str, label: int | None) -> None:
        if is_image_file(path):
            self.files.append(path)
            if label is not None:
                self.labels.append(label)
        elif label is not None:
            self.other_files.append(path)

    def _probe_files(self, paths: list[str] | None = None) -> None:
        """Read the headers of `paths` (default: every file): size and mode, no decoding."""
        if self._modes or self._unreadable:
            return
        for path in self.files if paths is None else paths:
            try:
                with Image.open(path) as image:
                    self._modes[path] = (image.size, image.mode in GRAYSCALE_MODES)
            except Exception as error:  # Pillow raises many types for bad files: skip them all.
                self._unreadable[path] = one_line(error, max_length=200)

    def layout(self) -> tuple[tuple[int, int, int], int]:
        """The final `(H, W, C)` and the number of readable candidates.

        Reads headers only, and none when both `image_size` and `channels` are given.

        Raises:
            DataError: when no file is readable, or sizes differ without `image_size`.
        """
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

    def check_split(self, split: str) -> None:
        """Refuse any split but `train`: a folder is one set of images."""
        if split != "train":
            raise DataError(
                f"An image folder has one split, 'train', not {split!r}; use split='train' or "
                "point at another folder"
            )

    def _count(self, split: Split, options: Options) -> tuple[tuple[int, int, int], int]:
        self.check_split(split.name)
        shape, count = self.layout()
        count = len(range(count)[split.bounds(count)])
        if options.num_examples is not None:
            count = min(count, options.num_examples)
        return shape, count

    def info(self, split: Split, options: Options) -> DatasetInfo:
        shape, count = self._count(split, options)
        return DatasetInfo(
            name=self.name,
            origin=self.origin,
            split=split.text,
            element_shape=shape,
            num_examples=count,
            num_classes=None if self.class_names is None else len(self.class_names),
            class_names=self.class_names,
            warnings=self.skipped_warnings(),
        )

    def _candidates(self, split: Split, options: Options) -> tuple[list[str], list[int] | None]:
        """The files this request streams (readable headers, split slice, `num_examples`)."""
        label_of = dict(zip(self.files, self.labels, strict=False))
        paths = [path for path in self.files if path not in self._unreadable]
        paths = paths[split.bounds(len(paths))][: options.num_examples]
        labels = None if self.class_names is None else [label_of[path] for path in paths]
        return paths, labels

    def _check_readable(self, paths: list[str]) -> None:
        """Without a full header scan, read a spread of headers so that a folder of nothing
        but broken files fails now, not as an empty epoch."""
        if self._modes or self._unreadable:
            return
        step = max(1, len(paths) // SAMPLED_HEADERS)
        self._probe_files(paths[::step][:SAMPLED_HEADERS])
        if not self._modes:
            self._raise_all_unreadable()

    def dataset(
        self, split: Split, options: Options, settings: PipelineSettings
    ) -> tuple[tf.data.Dataset, DatasetInfo]:
        info = self.info(split, options)
        if settings.with_labels and info.num_classes is None:
            raise DataError(no_labels_message(self.name))
        paths, labels = self._candidates(split, options)
        arrays.check_split_size(len(paths), settings, self.name, split.text)
        self._check_readable(paths)
        shape = info.element_shape
        grayscale = shape[-1] == 1

        def decode(path: str) -> np.ndarray:
            return decode_image(path, grayscale, self.image_size, self.background)

        cache_file = None
        if settings.cache_dir is not None:
            labelled = settings.with_labels and labels is not None  # what the cache holds
            settings_text = f"{shape} {self.image_size} {self.background} {labelled}"
            key = streaming.cache_key(self.root, paths, settings_text)
            cache_file = streaming.prepare_cache(settings.cache_dir, key)
        minimum = settings.batch_size if settings.drop_remainder else 1
        self.skipped.expect(self.root, len(paths), minimum)
        mapped = streaming.decoding_map(decode, shape, self.skipped)
        batches = streaming.stream_files(paths, labels, mapped, settings, cache_file)
        info = dataclasses.replace(info, num_examples=len(paths), skipped_files=self.skipped)
        return arrays.rescale_and_prefetch(batches, settings), info

    def skipped_warnings(self) -> tuple[str, ...]:
        """One warning naming the unreadable and non-image files skipped so far, if any."""
        unreadable, others = len(self._unreadable), len(self.other_files)
        if not unreadable and not others:
            return ()
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
        skipped = unreadable + others
        return (f"Skipped {skipped} of {total} files in {self.root}: {'; '.join(parts)}",)
