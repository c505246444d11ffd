"""Pictures from a trained generator: sample grids, latent walks, latent arithmetic, files.

The library side of ``sample.py``, for scripts and notebooks too::

    from keras_gan import sampling
    generator = sampling.load_generator("runs/mnist-dcgan-20250101-120000")
    sampling.save_png(sampling.sample_grid(generator, 64, seed=0), "grid.png")
    walks = sampling.interpolation_frames(generator, steps=10, seed=0, walks=9, points=4,
                                          closed=True)
    sampling.save_gif(sampling.gif_frames(walks), "walk.gif")
    figure = sampling.arithmetic_figure(generator, "1,2,3 - 4,5,6 + 7,8,9", n=64, seed=0)
    sampling.save_png(figure.image, "arithmetic.png")

Noise always comes from :func:`keras_gan.latent.sample_noise`, so ``n`` samples with a seed are
the images ``GAN.generate(n, seed=seed)`` returns, and sample ``i`` of a grid (row-major: row
``i // cols``, column ``i % cols``) is sample ``i`` of an arithmetic bank drawn with the same
``n`` and seed. A conditional generator (inputs ``[z, labels]``) gets one class for all
samples (``label``), one row per class (``classes``), or by default the classes in turn
(sample ``i`` has class ``i % num_classes``), as ``GAN.generate`` does.

Images are uint8 ``(N, H, W, C)``; pictures are uint8 ``(height, width)`` for grayscale or
``(height, width, 3)`` for colour, as :func:`keras_gan.latent.image_grid` returns them. Files
are written atomically (a temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from keras_gan import latent, training
from keras_gan.callbacks import write_atomically

__all__ = [
    "ArithmeticFigure",
    "GeneratorInfo",
    "Samples",
    "SamplingError",
    "arithmetic_figure",
    "describe_generator",
    "draw_samples",
    "frame_count",
    "generate",
    "gif_frames",
    "grid_image",
    "interpolation_frames",
    "interpolation_strip",
    "load_generator",
    "sample_grid",
    "save_gif",
    "save_npz",
    "save_png",
    "walk_latents",
]

LABEL_EMBEDDING_LAYER = "label_embedding"
DEFAULT_BATCH_SIZE = 256  # as GAN.generate, so the same seed gives bit-identical images


class SamplingError(ValueError):
    """A generator, a label or a request that cannot be sampled; the message is one line."""


def _one_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


# ------------------------------------------------------------------------------- generators
@dataclasses.dataclass(frozen=True)
class GeneratorInfo:
    """What a generator takes and makes: ``z`` of ``latent_dim`` (and a label in
    ``0..num_classes - 1`` when conditional), samples of ``output_shape`` (no batch axis)."""

    latent_dim: int
    output_shape: tuple[int, ...]
    num_classes: int | None = None

    @property
    def conditional(self) -> bool:
        return self.num_classes is not None

    @property
    def is_image(self) -> bool:
        """Whether samples are images ``(H, W)`` or ``(H, W, C)`` with C in {1, 3}."""
        shape = self.output_shape
        return len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3))


def _num_classes(model: keras.Model) -> int:
    """The label embedding's ``input_dim``: the layer named ``label_embedding`` (as
    ``keras_gan.networks`` builds it), else the model's only Embedding layer."""
    embeddings = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    named = [layer for layer in embeddings if layer.name == LABEL_EMBEDDING_LAYER]
    if named or len(embeddings) == 1:
        return int((named or embeddings)[0].input_dim)
    raise SamplingError(
        f"Cannot tell how many classes the two-input model {model.name!r} takes: it has no "
        f"Embedding layer named {LABEL_EMBEDDING_LAYER!r}."
    )


def describe_generator(generator: Any) -> GeneratorInfo:
    """Check that ``generator`` looks like a generator and say what it takes and makes.

    A generator takes noise ``(batch, latent_dim)``, or ``[noise, labels]`` with int labels of
    shape ``(batch,)`` (conditional); anything else raises :class:`SamplingError`.
    """
    if not isinstance(generator, keras.Model):
        raise SamplingError(f"Expected a generator keras.Model, got {type(generator).__name__}.")
    inputs = list(getattr(generator, "inputs", None) or [])
    shapes = [tuple(tensor.shape) for tensor in inputs]
    expected = "noise (batch, latent_dim), or [noise, labels (batch,)]"
    if len(inputs) not in (1, 2) or len(shapes[0]) != 2 or shapes[0][-1] is None:
        shown = ", ".join(str(shape) for shape in shapes) or "nothing"
        raise SamplingError(
            f"Model {generator.name!r} is not a generator: it takes {shown}; a generator "
            f"takes {expected}."
        )
    num_classes = None
    if len(inputs) == 2:
        if len(shapes[1]) != 1 or "int" not in str(inputs[1].dtype):
            raise SamplingError(
                f"Model {generator.name!r} is not a generator: its second input is "
                f"{shapes[1]} {inputs[1].dtype}; a conditional generator takes int labels "
                "of shape (batch,)."
            )
        num_classes = _num_classes(generator)
    output_shape = generator.output_shape
    if not isinstance(output_shape, tuple) or not all(isinstance(d, int) for d in output_shape[1:]):
        raise SamplingError(
            f"Model {generator.name!r} is not a generator: it has outputs {output_shape}; "
            "a generator has one output of a fixed shape."
        )
    return GeneratorInfo(int(shapes[0][-1]), tuple(output_shape[1:]), num_classes)


def _image_info(generator: keras.Model) -> GeneratorInfo:
    info = describe_generator(generator)
    if not info.is_image:
        raise SamplingError(
            f"Model {generator.name!r} makes samples of shape {info.output_shape}, not images "
            "(H, W, 1) or (H, W, 3); there is nothing to draw."
        )
    return info


def load_generator(source: str | os.PathLike) -> keras.Model:
    """The generator of a run directory (see ``training.load_generator``) or of a ``.keras``
    file (a generator, or a GAN checkpoint), loaded with ``safe_mode=True`` and checked with
    :func:`describe_generator`. Every failure is a :class:`SamplingError` (or a
    ``training.TrainingError``) with a one-line message."""
    path = Path(source)
    config = training.load_config(path) if path.is_dir() else None
    model = training.load_generator(path)
    try:
        info = describe_generator(model)
    except SamplingError as error:
        raise SamplingError(f"{source}: {error}") from None
    if config is not None and config.latent_dim not in (None, info.latent_dim):
        raise SamplingError(
            f"{source}: the generator takes z of size {info.latent_dim} but config.json says "
            f"latent_dim {config.latent_dim}; the run directory is inconsistent."
        )
    return model


# ------------------------------------------------------------------------------- labels
def _check_label(info: GeneratorInfo, label: Any) -> int:
    if not info.conditional:
        raise SamplingError("The generator is not conditional: it takes no class labels.")
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        raise SamplingError(f"A class label must be an integer, got {label!r}.")
    if not 0 <= label < info.num_classes:
        raise SamplingError(
            f"Label {label} is out of range: the generator has {info.num_classes} classes "
            f"(0..{info.num_classes - 1})."
        )
    return int(label)


def _resolve_classes(info: GeneratorInfo, classes: str | Sequence[int]) -> list[int]:
    if isinstance(classes, str):
        if classes != "all":
            raise SamplingError(f"classes must be 'all' or a list of labels, got {classes!r}.")
        if not info.conditional:
            raise SamplingError("The generator is not conditional: it takes no class labels.")
        return list(range(info.num_classes))
    resolved = [_check_label(info, label) for label in classes]
    if not resolved:
        raise SamplingError("No classes given.")
    return resolved


def _labels_for(info: GeneratorInfo, count: int, label: int | None) -> np.ndarray | None:
    """One label per sample: ``label`` for all, else the classes in turn (sample ``i`` has
    class ``i % num_classes``, as ``GAN.generate``); None for an unconditional generator."""
    if label is not None:
        return np.full(count, _check_label(info, label), dtype=np.int32)
    if not info.conditional:
        return None
    return (np.arange(count) % info.num_classes).astype(np.int32)


def _exclusive(label: Any, classes: Any) -> None:
    if label is not None and classes is not None:
        raise SamplingError("Give either one label or classes (one row per class), not both.")


# ------------------------------------------------------------------------------- generation
def generate(
    generator: keras.Model,
    z: np.ndarray,
    labels: np.ndarray | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> np.ndarray:
    """Run the generator on noise ``z`` (and ``labels``) in inference mode: float32 samples.

    Batched as ``GAN.generate`` does, so the same noise gives bit-identical images.
    """
    z = np.asarray(z, dtype=np.float32)
    outputs = []
    for start in range(0, len(z), batch_size):
        part = slice(start, start + batch_size)
        inputs = z[part] if labels is None else [z[part], np.asarray(labels[part], np.int32)]
        outputs.append(keras.ops.convert_to_numpy(generator(inputs, training=False)))
    if not outputs:
        return np.zeros((0, *generator.output_shape[1:]), dtype=np.float32)
    return np.concatenate(outputs).astype(np.float32)


def _to_images(samples: np.ndarray) -> np.ndarray:
    """uint8 ``(N, H, W, C)`` from generator output in [-1, 1]."""
    images = latent.to_uint8(samples)
    return images[..., np.newaxis] if images.ndim == 3 else images


@dataclasses.dataclass
class Samples:
    """Samples drawn by :func:`draw_samples`: uint8 ``images`` ``(n, H, W, C)``, the noise
    ``z`` and ``labels`` (None if unconditional) that made them, and the grid's ``cols``."""

    images: np.ndarray
    z: np.ndarray
    labels: np.ndarray | None
    cols: int
    seed: int | None

    def arrays(self) -> dict[str, np.ndarray]:
        """What :func:`save_npz` writes: images, z, labels (if any), seed (-1 for none)."""
        arrays = {"images": self.images, "z": self.z}
        if self.labels is not None:
            arrays["labels"] = self.labels
        arrays["seed"] = np.array(-1 if self.seed is None else self.seed, dtype=np.int64)
        return arrays


def draw_samples(
    generator: keras.Model,
    n: int = 64,
    seed: int | None = None,
    *,
    cols: int | None = None,
    label: int | None = None,
    classes: str | Sequence[int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Samples:
    """``n`` samples from noise ``latent.sample_noise(n, latent_dim, seed)``.

    Conditional generators: ``label`` gives every sample that class, by default the classes
    take turns; ``classes`` (``"all"`` or a list) instead makes one row per class of ``cols``
    samples each (default ``ceil(n / len(classes))``) on the same ``cols`` noise vectors, so
    each column shows one z under every class.
    """
    info = _image_info(generator)
    _exclusive(label, classes)
    if classes is not None:
        rows = _resolve_classes(info, classes)
        per_class = cols if cols is not None else math.ceil(n / len(rows))
        z = np.tile(latent.sample_noise(per_class, info.latent_dim, seed), (len(rows), 1))
        labels = np.repeat(np.asarray(rows, dtype=np.int32), per_class)
        cols = per_class
    else:
        z = latent.sample_noise(n, info.latent_dim, seed)
        labels = _labels_for(info, n, label)
        cols = latent.grid_shape(n, cols)[1]
    images = _to_images(generate(generator, z, labels, batch_size))
    return Samples(images, z, labels, cols, seed)


# ------------------------------------------------------------------------------- pictures
def _upscale(images: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of ``(N, H, W, C)`` images by an integer factor."""
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise SamplingError(f"scale must be a positive integer, got {scale!r}.")
    if scale == 1:
        return images
    return images.repeat(scale, axis=1).repeat(scale, axis=2)


def _cell_origin(index: int, cols: int, height: int, width: int, padding: int) -> tuple[int, int]:
    """(top, left) of cell ``index`` of a :func:`latent.image_grid`."""
    row, col = divmod(index, cols)
    return padding + row * (height + padding), padding + col * (width + padding)


def _number_cells(
    picture: np.ndarray, count: int, cols: int, height: int, width: int, padding: int
) -> np.ndarray:
    """Write each cell's index in its top-left corner, white on a black box."""
    image = Image.fromarray(picture)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(8, min(height, width) // 3))
    white, black = (255, 0) if image.mode == "L" else ((255, 255, 255), (0, 0, 0))
    for index in range(count):
        top, left = _cell_origin(index, cols, height, width, padding)
        box = draw.textbbox((left + 1, top), str(index), font=font)
        draw.rectangle((left, top, box[2], box[3]), fill=black)
        draw.text((left + 1, top), str(index), fill=white, font=font)
    return np.asarray(image)


def grid_image(
    images: np.ndarray,
    cols: int | None = None,
    *,
    padding: int = 2,
    scale: int = 1,
    numbered: bool = False,
) -> np.ndarray:
    """Tile uint8 (or [-1, 1] float) images row by row with :func:`latent.image_grid`.

    Each image is first enlarged ``scale`` times (nearest neighbour); the picture is
    ``rows * H * scale + (rows + 1) * padding`` by ``cols * W * scale + (cols + 1) * padding``
    pixels. ``numbered`` writes each cell's row-major index in its corner.
    """
    cells = _upscale(_to_images(images), scale)
    picture = latent.image_grid(cells, cols=cols, padding=padding)
    if numbered:
        cols = latent.grid_shape(len(cells), cols)[1]
        picture = _number_cells(picture, len(cells), cols, *cells.shape[1:3], padding)
    return picture


def sample_grid(
    generator: keras.Model,
    n: int = 64,
    seed: int | None = None,
    cols: int | None = None,
    *,
    label: int | None = None,
    classes: str | Sequence[int] | None = None,
    padding: int = 2,
    scale: int = 1,
    numbered: bool = False,
) -> np.ndarray:
    """A uint8 picture of :func:`draw_samples` in a grid (sample ``i`` at row ``i // cols``,
    column ``i % cols``; ``cols`` defaults to ``ceil(sqrt(n))``, or one row per class)."""
    samples = draw_samples(generator, n, seed, cols=cols, label=label, classes=classes)
    return grid_image(samples.images, samples.cols, padding=padding, scale=scale, numbered=numbered)


# ------------------------------------------------------------------------------- walks
def frame_count(points: int, steps: int, closed: bool) -> int:
    """Frames of a walk through ``points`` latent points with ``steps`` frames per segment:
    ``points * steps`` for a closed loop, ``(points - 1) * steps + 1`` for an open path."""
    return points * steps if closed else (points - 1) * steps + 1


def walk_latents(
    latent_dim: int,
    walks: int = 1,
    points: int = 2,
    steps: int = 8,
    method: str = "slerp",
    seed: int | None = None,
    closed: bool = False,
) -> np.ndarray:
    """``walks`` latent walks ``(walks, frame_count(points, steps, closed), latent_dim)``.

    The points are ``z = latent.sample_noise(walks * points, latent_dim, seed)``; walk ``i``
    goes through ``z[i], z[walks + i], z[2 * walks + i], ...``, so it starts at sample ``i``
    of a grid drawn with the same seed. Paths are :func:`latent.interpolation_path`.
    """
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise SamplingError(f"A walk needs at least 2 points, got {points!r}.")
    if isinstance(walks, bool) or not isinstance(walks, (int, np.integer)) or walks < 1:
        raise SamplingError(f"walks must be a positive integer, got {walks!r}.")
    bank = latent.sample_noise(walks * points, latent_dim, seed).reshape(points, walks, -1)
    return np.stack(
        [latent.interpolation_path(bank[:, walk], steps, method, closed) for walk in range(walks)]
    )


def interpolation_frames(
    generator: keras.Model,
    steps: int = 8,
    method: str = "slerp",
    seed: int | None = None,
    *,
    walks: int = 1,
    points: int = 2,
    closed: bool = False,
    label: int | None = None,
    classes: str | Sequence[int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> np.ndarray:
    """Images along latent walks: uint8 ``(walks, frames, H, W, C)`` (see :func:`walk_latents`
    and :func:`frame_count`); ``method`` is one of ``latent.INTERPOLATION_METHODS``.

    Conditional generators: walk ``i`` has class ``label``, or by default ``i % num_classes``;
    ``classes`` instead makes one walk per class, all along the same latent path.
    """
    info = _image_info(generator)
    _exclusive(label, classes)
    rows = None if classes is None else _resolve_classes(info, classes)
    count = 1 if rows is not None else walks
    path = walk_latents(info.latent_dim, count, points, steps, method, seed, closed)
    if rows is not None:
        path = np.repeat(path, len(rows), axis=0)
        walk_labels = np.asarray(rows, dtype=np.int32)
    else:
        walk_labels = _labels_for(info, count, label)
    frames = path.shape[1]
    labels = None if walk_labels is None else np.repeat(walk_labels, frames)
    images = _to_images(generate(generator, path.reshape(-1, info.latent_dim), labels, batch_size))
    return images.reshape(path.shape[0], frames, *images.shape[1:])


def interpolation_strip(
    frames: np.ndarray, *, padding: int = 2, scale: int = 1, numbered: bool = False
) -> np.ndarray:
    """One row per walk of :func:`interpolation_frames` output: a uint8 picture."""
    walks, count = frames.shape[:2]
    return grid_image(
        frames.reshape(walks * count, *frames.shape[2:]),
        count,
        padding=padding,
        scale=scale,
        numbered=numbered,
    )


def gif_frames(
    frames: np.ndarray, cols: int | None = None, *, padding: int = 2, scale: int = 1
) -> list[np.ndarray]:
    """One picture per time step, each a grid of the walks (``cols`` defaults to
    ``ceil(sqrt(walks))``), for :func:`save_gif`."""
    return [
        grid_image(frames[:, step], cols, padding=padding, scale=scale)
        for step in range(frames.shape[1])
    ]


# ------------------------------------------------------------------------------- arithmetic
@dataclasses.dataclass
class ArithmeticFigure:
    """Latent arithmetic drawn as in Radford et al. 2016, Fig. 7.

    ``image`` shows each group's samples with the image of its mean z below them, the
    operators, and the result in the centre of a 3x3 grid whose other cells add small noise
    (:func:`latent.neighbourhood`). ``group_means`` ``(groups, latent_dim)``, ``result``
    ``(latent_dim,)`` and ``neighbourhood`` ``(9, latent_dim)`` (row 0 is ``result``) are the
    latent vectors; ``result_box`` is ``(top, left, height, width)`` of the result's cell.
    """

    image: np.ndarray
    terms: list[tuple[int, list[int]]]
    group_means: np.ndarray
    result: np.ndarray
    neighbourhood: np.ndarray
    result_box: tuple[int, int, int, int]


def _operator_cell(symbol: str, height: int, width: int, channels: int) -> np.ndarray:
    """A white cell with a black ``+``, ``-`` or ``=`` drawn in bars."""
    cell = np.full((height, width, channels), 255, dtype=np.uint8)
    thickness = max(1, round(min(height, width) / 12))
    half = max(1, round(min(height, width) * 0.3))
    cy, cx = height // 2, width // 2
    top = cy - thickness // 2

    def bar(row: int) -> None:
        cell[row : row + thickness, cx - half : cx + half] = 0

    if symbol == "=":
        gap = max(thickness, half // 2)
        bar(top - gap)
        bar(top + gap)
    else:
        bar(top)
    if symbol == "+":
        left = cx - thickness // 2
        cell[cy - half : cy + half, left : left + thickness] = 0
    return cell


def _place(canvas: np.ndarray, cell: np.ndarray, top: int, left: int) -> None:
    canvas[top : top + cell.shape[0], left : left + cell.shape[1]] = cell


def arithmetic_figure(
    generator: keras.Model,
    expression: str,
    n: int = 64,
    seed: int | None = None,
    *,
    label: int | None = None,
    noise_scale: float = 0.25,
    padding: int = 2,
    scale: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ArithmeticFigure:
    """Latent arithmetic on the ``n`` samples a grid with the same ``n`` and ``seed`` shows.

    ``expression`` is ``"1,2,3 - 4,5,6 + 7,8,9"``: groups of sample indices (row-major grid
    positions) whose mean z are combined as written (:func:`latent.arithmetic`). Conditional
    generators: members keep the class they have in the grid; each mean and the result get
    ``label``, or else the class of their group's first sample (the result: the last group's,
    the one the offset is applied to).
    """
    info = _image_info(generator)
    bank = latent.sample_noise(n, info.latent_dim, seed)
    terms = latent.parse_arithmetic(expression)
    try:
        group_means, result = latent.arithmetic(bank, terms)
    except ValueError as error:
        raise SamplingError(str(error)) from None
    rng_seed = None if seed is None else [seed, 1]
    around = latent.neighbourhood(result, 9, noise_scale, np.random.default_rng(rng_seed))
    bank_labels = _labels_for(info, n, label)
    members = np.concatenate([indices for _, indices in terms])
    if bank_labels is None:
        member_labels = mean_labels = result_labels = None
    else:
        firsts = np.array([bank_labels[indices[0]] for _, indices in terms], dtype=np.int32)
        member_labels = bank_labels[members]
        mean_labels = firsts
        result_labels = np.full(9, firsts[-1], dtype=np.int32)
    # Centre cell of the 3x3 block is the result itself (neighbourhood row 0).
    block = around[[1, 2, 3, 4, 0, 5, 6, 7, 8]]
    pictures = [
        generate(generator, bank[members], member_labels, batch_size),
        generate(generator, group_means, mean_labels, batch_size),
        generate(generator, block, result_labels, batch_size),
    ]
    member_images, mean_images, block_images = (
        _upscale(_to_images(images), scale) for images in pictures
    )
    height, width, channels = member_images.shape[1:]
    sizes = [len(indices) for _, indices in terms]
    total_cells = sum(sizes) + len(terms) + 3  # members, one operator per group ("="), result
    canvas = np.full(
        (3 * height + 4 * padding, total_cells * width + (total_cells + 1) * padding, channels),
        255,
        dtype=np.uint8,
    )
    row_top = [padding + row * (height + padding) for row in range(3)]
    left, member = padding, 0
    for number, (sign, _) in enumerate(terms):
        if number:
            symbol = "+" if sign > 0 else "-"
            _place(canvas, _operator_cell(symbol, height, width, channels), row_top[1], left)
            left += width + padding
        group_width = sizes[number] * width + (sizes[number] - 1) * padding
        for offset in range(sizes[number]):
            _place(canvas, member_images[member], row_top[0], left + offset * (width + padding))
            member += 1
        _place(canvas, mean_images[number], row_top[1], left + (group_width - width) // 2)
        left += group_width + padding
    _place(canvas, _operator_cell("=", height, width, channels), row_top[1], left)
    left += width + padding
    for index, image in enumerate(block_images):
        row, col = divmod(index, 3)
        _place(canvas, image, row_top[row], left + col * (width + padding))
    canvas = canvas[..., 0] if channels == 1 else canvas
    box = (row_top[1], left + width + padding, height, width)
    return ArithmeticFigure(canvas, terms, group_means, result, around, box)


# ------------------------------------------------------------------------------- files
def _picture(image: np.ndarray) -> Image.Image:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise SamplingError(f"Pictures must be uint8, got {image.dtype}.")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
        raise SamplingError(
            f"A picture must be (height, width) or (height, width, 3), got {image.shape}."
        )
    return Image.fromarray(image)


def _write_bytes(path: str | os.PathLike, content: bytes) -> Path:
    return write_atomically(path, lambda temp: temp.write_bytes(content))


def save_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """Write a uint8 picture as a PNG, atomically; returns the path."""
    buffer = io.BytesIO()
    _picture(image).save(buffer, format="PNG")
    return _write_bytes(path, buffer.getvalue())


def save_gif(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 10) -> Path:
    """Write uint8 pictures as an animated GIF that loops forever (``loop=0``), atomically.

    Each frame shows for ``1000 / fps`` ms. Pillow merges a frame identical to the one before
    it into that frame, so the file has one frame per picture unless pictures repeat.
    """
    if len(frames) == 0:
        raise SamplingError("No frames to write.")
    if not fps > 0:
        raise SamplingError(f"fps must be positive, got {fps!r}.")
    images = [_picture(frame) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(1, round(1000 / fps)),
        loop=0,
    )
    return _write_bytes(path, buffer.getvalue())


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """Write arrays to an uncompressed ``.npz``, atomically (any file name; nothing is
    appended). For samples: ``save_npz(path, **samples.arrays())``."""
    if not arrays:
        raise SamplingError("No arrays to write.")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return _write_bytes(path, buffer.getvalue())
