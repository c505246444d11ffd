"""Pictures composed from generated images: numbered grids and latent-arithmetic figures.

`keras_gan.sampling` re-exports the public names. Images are uint8 `(N, H, W, C)`; pictures are
uint8 `(height, width)` or `(height, width, 3)`, as `keras_gan.latent.image_grid` returns them.
The arithmetic figure follows Radford et al. 2016, Fig. 7 (see docs/sampling.md).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from keras_gan import latent
from keras_gan.errors import is_integer
from keras_gan.generation import (
    DEFAULT_BATCH_SIZE,
    SamplingError,
    describe_generator,
    run_generator,
)

__all__ = [
    "ArithmeticFigure",
    "arithmetic_canvas",
    "arithmetic_figure",
    "grid_image",
    "number_cells",
    "operator_cell",
    "to_images",
    "upscale",
]


def to_images(samples: np.ndarray) -> np.ndarray:
    """uint8 `(N, H, W, C)` from generator output in [-1, 1] (or uint8 images)."""
    images = latent.to_uint8(samples)
    return images[..., np.newaxis] if images.ndim == 3 else images


def upscale(images: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of `(N, H, W, C)` images by an integer factor."""
    if not is_integer(scale) or scale < 1:
        raise SamplingError(f"scale must be a positive integer, got {scale!r}.")
    if scale == 1:
        return images
    return images.repeat(scale, axis=1).repeat(scale, axis=2)


def _cell_origin(index: int, cols: int, height: int, width: int, padding: int) -> tuple[int, int]:
    """(top, left) of cell `index` of a `latent.image_grid`."""
    row, col = divmod(index, cols)
    return padding + row * (height + padding), padding + col * (width + padding)


def number_cells(
    picture: np.ndarray, count: int, cols: int, height: int, width: int, padding: int
) -> np.ndarray:
    """Write each grid cell's index in its top-left corner, white on a black box.

    Args:
        picture: a grid from `latent.image_grid`.
        count: how many cells to number.
        cols: the grid's columns.
        height: a cell's height in pixels.
        width: a cell's width in pixels.
        padding: the pixels between and around the cells.

    Returns:
        The numbered picture, a new uint8 array.
    """
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
    """Tile uint8 (or [-1, 1] float) images row by row with `latent.image_grid`.

    The picture is `rows * H * scale + (rows + 1) * padding` by
    `cols * W * scale + (cols + 1) * padding` pixels.

    Args:
        images: `(N, H, W, C)` or `(N, H, W)`.
        cols: columns of the grid; defaults to `ceil(sqrt(N))`.
        padding: white pixels between and around the cells.
        scale: enlarge each image this many times first (nearest neighbour).
        numbered: write each cell's row-major index in its corner.

    Returns:
        A uint8 picture.
    """
    cells = upscale(to_images(images), scale)
    picture = latent.image_grid(cells, cols=cols, padding=padding)
    if numbered:
        cols = latent.grid_shape(len(cells), cols)[1]
        picture = number_cells(picture, len(cells), cols, *cells.shape[1:3], padding)
    return picture


def operator_cell(symbol: str, height: int, width: int, channels: int) -> np.ndarray:
    """A white cell with a black `+`, `-` or `=` drawn in bars."""
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


def arithmetic_canvas(
    terms: list[tuple[int, list[int]]],
    member_images: np.ndarray,
    mean_images: np.ndarray,
    block_images: np.ndarray,
    padding: int,
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Lay out latent arithmetic as in Radford et al. 2016, Fig. 7.

    Row 0 holds each group's members, row 1 each group's mean between the operators, then `=`
    and the middle row of a 3x3 block of results whose centre is the result itself.

    Args:
        terms: the parsed expression, `(sign, indices)` per group.
        member_images: uint8 `(members, H, W, C)`, the groups' members in order.
        mean_images: uint8 `(groups, H, W, C)`, one image per group mean.
        block_images: uint8 `(9, H, W, C)`, the 3x3 block in row-major order.
        padding: white pixels between and around the cells.

    Returns:
        The uint8 picture and the result cell's `(top, left, height, width)`.
    """
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
            _place(canvas, operator_cell(symbol, height, width, channels), row_top[1], left)
            left += width + padding
        group_width = sizes[number] * width + (sizes[number] - 1) * padding
        for offset in range(sizes[number]):
            _place(canvas, member_images[member], row_top[0], left + offset * (width + padding))
            member += 1
        _place(canvas, mean_images[number], row_top[1], left + (group_width - width) // 2)
        left += group_width + padding
    _place(canvas, operator_cell("=", height, width, channels), row_top[1], left)
    left += width + padding
    for index, image in enumerate(block_images):
        row, col = divmod(index, 3)
        _place(canvas, image, row_top[row], left + col * (width + padding))
    canvas = canvas[..., 0] if channels == 1 else canvas
    return canvas, (row_top[1], left + width + padding, height, width)


@dataclasses.dataclass
class ArithmeticFigure:
    """Latent arithmetic drawn as in Radford et al. 2016, Fig. 7.

    Args:
        image: each group's samples with the image of its mean z below them, the operators,
            and the result in the centre of a 3x3 grid whose other cells add small noise
            (`latent.neighbourhood`).
        terms: the parsed expression.
        group_means: `(groups, latent_dim)`.
        result: `(latent_dim,)`.
        neighbourhood: `(9, latent_dim)`; row 0 is `result`.
        result_box: `(top, left, height, width)` of the result's cell.
    """

    image: np.ndarray
    terms: list[tuple[int, list[int]]]
    group_means: np.ndarray
    result: np.ndarray
    neighbourhood: np.ndarray
    result_box: tuple[int, int, int, int]


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
    """Latent arithmetic on the `n` samples a grid with the same `n` and `seed` shows.

    `expression` is `"1,2,3 - 4,5,6 + 7,8,9"`: groups of sample indices (row-major grid
    positions) whose mean z are combined as written (`latent.arithmetic`). Conditional
    generators: members keep the class they have in the grid; each mean and the result get
    `label`, or else the class of their group's first sample (the result: the last group's,
    the one the offset is applied to).
    """
    info = describe_generator(generator, images=True)
    bank = latent.sample_noise(n, info.latent_dim, seed)
    terms = latent.parse_arithmetic(expression)
    try:
        group_means, result = latent.arithmetic(bank, terms)
    except ValueError as error:
        raise SamplingError(str(error)) from None
    rng_seed = None if seed is None else [seed, 1]
    around = latent.neighbourhood(result, 9, noise_scale, np.random.default_rng(rng_seed))
    bank_labels = info.labels_for(n, label)
    members = np.concatenate([indices for _, indices in terms])
    if bank_labels is None:
        member_labels = mean_labels = result_labels = None
    else:
        mean_labels = np.array([bank_labels[indices[0]] for _, indices in terms], np.int32)
        member_labels = bank_labels[members]
        result_labels = np.full(9, mean_labels[-1], dtype=np.int32)
    # Centre cell of the 3x3 block is the result itself (neighbourhood row 0).
    block = around[[1, 2, 3, 4, 0, 5, 6, 7, 8]]
    pictures = [
        run_generator(generator, bank[members], member_labels, batch_size=batch_size),
        run_generator(generator, group_means, mean_labels, batch_size=batch_size),
        run_generator(generator, block, result_labels, batch_size=batch_size),
    ]
    cells = [upscale(to_images(images), scale) for images in pictures]
    canvas, box = arithmetic_canvas(terms, *cells, padding)
    return ArithmeticFigure(canvas, terms, group_means, result, around, box)
