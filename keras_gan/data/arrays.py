"""Array checks and pipeline finishing shared by every image source.

Images travel as uint8 NHWC until the last step, which batches them and rescales whole batches
to float32 in [-1, 1]. See docs/data.md for the value conventions.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from keras_gan.data.base import DataError, Options, PipelineSettings

RESIZE_CHUNK = 2048


def shape_error(shape: tuple[int, ...], where: str) -> DataError:
    """The error for an array that is not a stack of images, with a hint for flat rows."""
    hint = ""
    if len(shape) == 2 and math.isqrt(shape[1]) ** 2 == shape[1]:
        side = math.isqrt(shape[1])
        hint = f" (flattened images? reshape them first, e.g. x.reshape(-1, {side}, {side}))"
    return DataError(
        f"{where}: images must have shape (N, H, W) or (N, H, W, C) with C in 1, 3, 4; "
        f"got {shape}{hint}"
    )


def shape_from_dims(dims: tuple[int, ...], where: str) -> tuple[int, tuple[int, int, int]]:
    """`(count, (H, W, C))` from an array's shape, by the same rules as `as_nhwc_uint8`."""
    if len(dims) == 3:
        return dims[0], (dims[1], dims[2], 1)
    if len(dims) == 4 and dims[-1] in (1, 3, 4):
        return dims[0], (dims[1], dims[2], dims[3])
    if len(dims) == 4 and dims[1] in (1, 3, 4):
        return dims[0], (dims[2], dims[3], dims[1])
    raise shape_error(dims, where)


def as_nhwc_uint8(array: np.ndarray, where: str) -> np.ndarray:
    """Validate an image array and return it as uint8 `(N, H, W, C)`, C in 1, 3 or 4.

    Args:
        array: `(N, H, W)`, `(N, H, W, C)` or `(N, C, H, W)` images; integers in [0, 255] or
            floats in [0, 1], [-1, 1] or [0, 255].
        where: the file or dataset named in error messages.

    Returns:
        The images as uint8 NHWC (the same array when it already is one).

    Raises:
        DataError: for another shape, dtype or value range, or an empty array.
    """
    array = np.asarray(array)
    if array.ndim == 3:
        array = array[..., np.newaxis]
    elif array.ndim == 4 and array.shape[-1] not in (1, 3, 4) and array.shape[1] in (1, 3, 4):
        array = np.transpose(array, (0, 2, 3, 1))
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4):
        raise shape_error(array.shape, where)
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


def as_labels(labels: np.ndarray, count: int, where: str) -> np.ndarray:
    """Validate labels and return them as int32 of shape `(count,)`; one-hot rows are decoded.

    Raises:
        DataError: for the wrong shape or count, or values that are not class indices.
    """
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


def final_shape(
    native: tuple[int, int, int], options: Options, default_size: int | None = None
) -> tuple[int, int, int]:
    """The `(H, W, C)` a pipeline yields for images of shape `native` (RGBA gives RGB)."""
    height, width, channels = native
    channels = options.channels or (3 if channels == 4 else channels)
    size = options.image_size or default_size
    if size is not None:
        height = width = size
    return (height, width, channels)


def composite(images: tf.Tensor, background: tuple[int, int, int]) -> tf.Tensor:
    """uint8 RGBA -> RGB alpha-blended onto `background`, rounded as image folders do."""
    rgb, alpha = tf.cast(images[..., :3], tf.int32), tf.cast(images[..., 3:], tf.int32)
    under = tf.constant(background, tf.int32)
    return tf.cast((rgb * alpha + under * (255 - alpha) + 127) // 255, tf.uint8)


def prepare_tensor(
    images: tf.Tensor,
    image_size: int | None,
    channels: int | None,
    crop: int | None = None,
    background: tuple[int, int, int] = (255, 255, 255),
) -> tf.Tensor:
    """Crop, resize and convert the channels of uint8 images (HWC or NHWC).

    RGBA images are composited onto `background` first. Non-square images are centre-cropped
    to a square (at most `crop` pixels wide) before resizing; shrinking is bilinear with
    antialiasing, so it averages like area resizing.

    Returns:
        uint8 images.
    """
    if images.shape[-1] == 4:
        images = composite(images, background)
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


def prepare_arrays(
    images: np.ndarray,
    image_size: int | None,
    channels: int | None,
    crop: int | None = None,
    background: tuple[int, int, int] = (255, 255, 255),
) -> np.ndarray:
    """`prepare_tensor` on an in-memory uint8 NHWC array, in chunks so floats stay small."""
    native = tuple(images.shape[1:])
    target = final_shape(native, Options(image_size, channels, None))
    if crop is None and target == native:
        return images
    prepared = np.empty((len(images), *target), dtype=np.uint8)
    for start in range(0, len(images), RESIZE_CHUNK):
        chunk = tf.constant(images[start : start + RESIZE_CHUNK])
        prepared[start : start + RESIZE_CHUNK] = prepare_tensor(
            chunk, image_size, channels, crop, background
        )
    return prepared


def to_unit_range(images: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]; exact at both ends (255 / 127.5 == 2)."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def check_batch(batch_size: int, count: int, drop_remainder: bool, name: str) -> None:
    """Refuse a batch size that would yield no batch at all.

    Raises:
        DataError: when `drop_remainder` and `batch_size > count`.
    """
    if drop_remainder and batch_size > count:
        raise DataError(
            f"batch size {batch_size} is larger than the {count} examples of {name}, so "
            "drop_remainder would yield no batch; use a batch size <= "
            f"{count} or drop_remainder=False"
        )


def check_split_size(count: int, settings: PipelineSettings, name: str, split: str) -> None:
    """Refuse an empty split, or one too small for a single batch (`check_batch`).

    Raises:
        DataError: with a one-line message naming the split and what to change.
    """
    if count == 0:
        raise DataError(f"split {split!r} of {name} is empty; widen the slice")
    check_batch(settings.batch_size, count, settings.drop_remainder, name)


def batch(dataset: tf.data.Dataset, settings: PipelineSettings) -> tf.data.Dataset:
    """Batch uint8 images (or `(images, labels)`) as `settings` asks."""
    return dataset.batch(
        settings.batch_size,
        drop_remainder=settings.drop_remainder,
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def rescale_and_prefetch(dataset: tf.data.Dataset, settings: PipelineSettings) -> tf.data.Dataset:
    """Rescale batches of uint8 images to float32 [-1, 1] (labels untouched), then prefetch."""
    if settings.with_labels:
        dataset = dataset.map(
            lambda images, labels: (to_unit_range(images), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    else:
        dataset = dataset.map(to_unit_range, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def finish_pipeline(dataset: tf.data.Dataset, settings: PipelineSettings) -> tf.data.Dataset:
    """Batch uint8 images (or `(images, labels)`), rescale whole batches to [-1, 1], prefetch."""
    return rescale_and_prefetch(batch(dataset, settings), settings)


def pipeline_from_arrays(
    images: np.ndarray, labels: np.ndarray | None, settings: PipelineSettings
) -> tf.data.Dataset:
    """The in-memory pipeline: slices -> seeded shuffle of the whole set -> `finish_pipeline`.

    Args:
        images: uint8 NHWC images, already cropped, resized and channel-converted.
        labels: int32 labels, used when `settings.with_labels`.
        settings: batching and shuffling settings.

    Returns:
        Batches of float32 images in [-1, 1] (with labels when asked), reshuffled every epoch.
    """
    if settings.with_labels and labels is not None:
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    else:
        dataset = tf.data.Dataset.from_tensor_slices(images)
    if settings.shuffle:
        dataset = dataset.shuffle(len(images), seed=settings.seed, reshuffle_each_iteration=True)
    return finish_pipeline(dataset, settings)
