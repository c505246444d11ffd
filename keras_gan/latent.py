"""Latent-space helpers: noise, interpolation, latent arithmetic and image grids.

Noise z ~ N(0, I); lerp and slerp (White 2016, "Sampling Generative Networks"); latent vector
arithmetic (Radford et al. 2016, Sec. 6.3.2); image grids. Everything works on NumPy arrays and
nothing here touches files. A latent batch is `(n, latent_dim)` float32; generator images are
floats in [-1, 1] of shape `(n, H, W, C)` with C in {1, 3} (or `(n, H, W)`), as
`GAN.generate` returns them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from keras_gan.errors import check_integer

__all__ = [
    "arithmetic",
    "grid_shape",
    "image_grid",
    "interpolate",
    "interpolation_path",
    "label_grid_noise",
    "lerp",
    "neighbourhood",
    "parse_arithmetic",
    "sample_noise",
    "slerp",
    "to_uint8",
]

Seed = int | np.random.Generator | None
ArithmeticTerms = list[tuple[int, list[int]]]

INTERPOLATION_METHODS = ("slerp", "lerp")

# Below this angle (radians) between two vectors slerp and lerp differ by less than
# angle**2 / 8 of the vectors' length, so lerp is used and the division by sin(angle) avoided.
_PARALLEL_ANGLE = 1e-6


def _generator(seed: Seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def sample_noise(n: int, latent_dim: int, seed: Seed = None) -> np.ndarray:
    """`n` latent vectors z ~ N(0, I), the prior of Goodfellow et al. 2014.

    Args:
        n: how many vectors (0 is allowed).
        latent_dim: the size of each.
        seed: an integer (the same one gives the same array: NumPy PCG64), a `Generator` to
            draw several arrays from one stream, or `None` for fresh noise.

    Returns:
        float32 `(n, latent_dim)`.
    """
    n = check_integer("n", n, minimum=0)
    latent_dim = check_integer("latent_dim", latent_dim)
    return _generator(seed).standard_normal((n, latent_dim), dtype=np.float32)


def label_grid_noise(
    num_classes: int,
    per_class: int,
    latent_dim: int,
    seed: Seed = None,
    same_noise_per_column: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Noise and labels for a conditional sample grid with one row per class.

    With `same_noise_per_column` every row reuses the same `per_class` noise vectors, so a
    column holds one z under every label, the layout of the conditional-GAN figures (Mirza &
    Osindero 2014, Fig. 2). `seed` is as for `sample_noise`.

    Returns:
        `z` float32 `(num_classes * per_class, latent_dim)` and `labels` int32 in row order
        (`[0] * per_class + [1] * per_class + ...`), for `generator([z, labels])` and
        `image_grid(images, cols=per_class)`.
    """
    num_classes = check_integer("num_classes", num_classes)
    per_class = check_integer("per_class", per_class)
    if same_noise_per_column:
        z = np.tile(sample_noise(per_class, latent_dim, seed), (num_classes, 1))
    else:
        z = sample_noise(num_classes * per_class, latent_dim, seed)
    labels = np.repeat(np.arange(num_classes, dtype=np.int32), per_class)
    return z, labels


def neighbourhood(z: ArrayLike, n: int = 9, scale: float = 0.25, seed: Seed = None) -> np.ndarray:
    """`z` followed by `n - 1` nearby points `z + scale * N(0, I)`.

    Radford et al. 2016, Fig. 7 put an arithmetic result amid 3x3 cells that add U(-0.25,
    0.25) noise, a quarter of their U(-1, 1) prior's spread; with N(0, I) that is std 0.25.

    Returns:
        `(n, dim)` for one `z` of shape `(dim,)`; row 0 is `z` (the centre of a 3x3 grid).
    """
    n = check_integer("n", n)
    z = np.asarray(z)
    if z.ndim != 1:
        raise ValueError(f"z must be one latent vector of shape (latent_dim,), got {z.shape}.")
    if scale < 0:
        raise ValueError(f"scale must be non-negative, got {scale}.")
    dtype = _float_dtype(z)
    noise = _generator(seed).standard_normal((n - 1, z.shape[0]))
    neighbours = z.astype(np.float64) + scale * noise
    return np.concatenate([z[np.newaxis].astype(dtype), neighbours.astype(dtype)])


def _float_dtype(*arrays: np.ndarray) -> np.dtype:
    """float32 for float32 inputs, float64 for float64 or integer inputs."""
    return np.result_type(*(array.dtype for array in arrays), np.float32)


def _expand_t(t: np.ndarray, vector_ndim: int) -> np.ndarray:
    """`t` of shape T reshaped to T + (1,) * vector_ndim, so outputs are stacked over T."""
    return t.reshape(t.shape + (1,) * vector_ndim)


def lerp(a: ArrayLike, b: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Linear interpolation `(1 - t) * a + t * b`; exact at t = 0 and t = 1.

    Returns:
        Shaped like `a` for a scalar `t`; for `t` of shape T, `T + a.shape` (one interpolant
        per value of `t`).
    """
    a, b, t = np.asarray(a), np.asarray(b), np.asarray(t, dtype=np.float64)
    dtype = _float_dtype(a, b)
    start, end = np.broadcast_arrays(a.astype(np.float64), b.astype(np.float64))
    weight = _expand_t(t, start.ndim)
    return ((1.0 - weight) * start + weight * end).astype(dtype)


def slerp(a: ArrayLike, b: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Spherical linear interpolation along the great circle from `a` to `b`.

    White 2016, "Sampling Generative Networks", Sec. 2.1: in high dimension N(0, I) samples lie
    near a sphere, and lerp's midpoints fall inside it (norm shrunk by about 1/sqrt(2)),
    where the generator saw no training noise; slerp stays on the shell:
    `slerp(a, b, t) = sin((1 - t) w) / sin(w) * a + sin(t w) / sin(w) * b`, `w = angle(a, b)`.
    For endpoints of equal norm every interpolant has that norm. Where the angle is (nearly) 0
    or pi, or an endpoint is zero, the great circle is undefined or the formula unstable, and
    lerp is used (as in White's reference code); for opposite vectors that path passes
    through the origin.

    Returns:
        Shaped like `a` for a scalar `t`, else `T + a.shape` for `t` of shape T. Vectors lie
        along the last axis (leading axes broadcast).
    """
    a, b, t = np.asarray(a), np.asarray(b), np.asarray(t, dtype=np.float64)
    dtype = _float_dtype(a, b)
    start, end = np.broadcast_arrays(a.astype(np.float64), b.astype(np.float64))
    if start.ndim == 0:
        raise ValueError("slerp needs vectors, got scalars.")
    start_norm = np.linalg.norm(start, axis=-1, keepdims=True)
    end_norm = np.linalg.norm(end, axis=-1, keepdims=True)
    degenerate = (start_norm == 0) | (end_norm == 0)
    safe_start = start / np.where(degenerate, 1.0, start_norm)
    safe_end = end / np.where(degenerate, 1.0, end_norm)
    # Kahan's formula: accurate angles near 0 and pi, where arccos of the dot product is not.
    angle = 2.0 * np.arctan2(
        np.linalg.norm(safe_start - safe_end, axis=-1, keepdims=True),
        np.linalg.norm(safe_start + safe_end, axis=-1, keepdims=True),
    )
    sin_angle = np.sin(angle)
    use_lerp = degenerate | (sin_angle < math.sin(_PARALLEL_ANGLE))
    safe_sin = np.where(use_lerp, 1.0, sin_angle)
    weight = _expand_t(t, start.ndim)
    spherical = (
        np.sin((1.0 - weight) * angle) / safe_sin * start + np.sin(weight * angle) / safe_sin * end
    )
    linear = (1.0 - weight) * start + weight * end
    return np.where(use_lerp, linear, spherical).astype(dtype)


def _interpolator(method: str):
    if method == "slerp":
        return slerp
    if method == "lerp":
        return lerp
    raise ValueError(
        f"Unknown interpolation method {method!r}; "
        f"choose one of {', '.join(INTERPOLATION_METHODS)}."
    )


def interpolate(
    z_start: ArrayLike, z_end: ArrayLike, steps: int, method: str = "slerp"
) -> np.ndarray:
    """`steps` evenly spaced points from `z_start` to `z_end`, both endpoints included.

    `method` is `"slerp"` (White 2016, the default) or `"lerp"`.

    Returns:
        `(steps, latent_dim)` for vectors of shape `(latent_dim,)`.
    """
    interpolator = _interpolator(method)
    steps = check_integer("steps", steps, minimum=2)
    z_start, z_end = np.asarray(z_start), np.asarray(z_end)
    if z_start.ndim != 1 or z_start.shape != z_end.shape:
        raise ValueError(
            "z_start and z_end must be two latent vectors of the same shape (latent_dim,), "
            f"got {z_start.shape} and {z_end.shape}."
        )
    return interpolator(z_start, z_end, np.linspace(0.0, 1.0, steps))


def interpolation_path(
    points: ArrayLike, steps_per_segment: int, method: str = "slerp", closed: bool = False
) -> np.ndarray:
    """A walk through latent points, one segment per pair.

    Each segment contributes `steps_per_segment` frames, from its start point up to but
    excluding its end point, so `points[i]` is frame `i * steps_per_segment`. A `closed` path
    returns from the last point to the first, stopping one step short of it, so the frames
    loop seamlessly (e.g. as a GIF).

    Returns:
        For `points` `(k, latent_dim)`: `((k - 1) * steps_per_segment + 1, latent_dim)` for an
        open path (ending on `points[-1]`), `(k * steps_per_segment, latent_dim)` if closed.
    """
    interpolator = _interpolator(method)
    steps_per_segment = check_integer("steps_per_segment", steps_per_segment)
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[0] < 2:
        raise ValueError(
            f"points must be at least two latent vectors (k >= 2, latent_dim), got {points.shape}."
        )
    ends = np.roll(points, -1, axis=0) if closed else points[1:]
    starts = points[: len(ends)]
    t = np.arange(steps_per_segment) / steps_per_segment
    frames = interpolator(starts, ends, t)  # (steps_per_segment, segments, latent_dim)
    frames = np.swapaxes(frames, 0, 1).reshape(-1, points.shape[1])
    if not closed:
        frames = np.concatenate([frames, points[-1:].astype(frames.dtype)])
    return frames


_INDEX = re.compile(r"\d+")
_OPERATOR = re.compile(r"\s*([+-])\s*")


def parse_arithmetic(expression: str) -> ArithmeticTerms:
    """Parse `"1,2,3 - 4,5,6 + 7,8,9"` into `[(1, [1, 2, 3]), (-1, [4, 5, 6]), (1, [7, 8, 9])]`.

    Groups of comma-separated non-negative indices joined by `+` or `-`, as in Radford et
    al. 2016, Sec. 6.3.2 ("smiling woman - neutral woman + neutral man", each concept the mean
    of a few samples' z). The first group may carry a `+` but not a `-`.

    Returns:
        `(sign, indices)` per group, in order.

    Raises:
        ValueError: with a one-line message, for any other input.
    """
    if not isinstance(expression, str):
        raise ValueError(
            f"Arithmetic expression must be a string, got {type(expression).__name__}."
        )
    text = expression.strip()
    if not text:
        raise ValueError("Arithmetic expression is empty; expected e.g. '1,2,3 - 4,5,6 + 7,8,9'.")
    if text[0] == "+":
        text = text[1:].lstrip()
    elif text[0] == "-":
        raise ValueError(
            f"Arithmetic expression {expression!r} must start with a group of indices, not '-'."
        )
    pieces = _OPERATOR.split(text)  # group, operator, group, operator, ..., group
    signs = [1] + [1 if operator == "+" else -1 for operator in pieces[1::2]]
    terms: ArithmeticTerms = []
    for number, (sign, group) in enumerate(zip(signs, pieces[0::2], strict=True), start=1):
        if not group.strip():
            raise ValueError(
                f"Arithmetic expression {expression!r} has an empty group (number {number}); "
                "each '+' or '-' must sit between two groups of indices."
            )
        indices = []
        for item in group.split(","):
            item = item.strip()
            if not _INDEX.fullmatch(item):
                shown = repr(item) if item else "an empty index"
                raise ValueError(
                    f"Arithmetic expression {expression!r}: {shown} in group {number} is not a "
                    "non-negative integer index; write groups like '1,2,3'."
                )
            indices.append(int(item))
        terms.append((sign, indices))
    return terms


def arithmetic(
    z_bank: ArrayLike, expression: str | Sequence[tuple[int, Sequence[int]]]
) -> tuple[np.ndarray, np.ndarray]:
    """Latent vector arithmetic (Radford et al. 2016, Sec. 6.3.2, Fig. 7).

    Each group of `expression` (a string for `parse_arithmetic`, or its parsed terms) is
    replaced by the mean of the rows of `z_bank` `(n, latent_dim)` it indexes, which the paper
    found far more stable than single samples; the means are combined as written.

    Returns:
        `(group_means, result)`: the unsigned means `(groups, latent_dim)` in the
        expression's order, and `result = sum(sign * mean)` `(latent_dim,)`.
    """
    z_bank = np.asarray(z_bank)
    if z_bank.ndim != 2 or z_bank.shape[0] == 0:
        raise ValueError(f"z_bank must have shape (n >= 1, latent_dim), got {z_bank.shape}.")
    terms = parse_arithmetic(expression) if isinstance(expression, str) else expression
    if not terms:
        raise ValueError("Arithmetic expression has no groups.")
    size = z_bank.shape[0]
    for _, indices in terms:
        if len(indices) == 0:
            raise ValueError("Arithmetic expression has an empty group.")
        for index in indices:
            if not 0 <= index < size:
                raise ValueError(
                    f"Latent index {index} is out of range: the bank holds {size} vectors "
                    f"(valid indices 0..{size - 1})."
                )
    dtype = _float_dtype(z_bank)
    bank = z_bank.astype(np.float64)
    group_means = np.stack([bank[list(indices)].mean(axis=0) for _, indices in terms])
    signs = np.array([sign for sign, _ in terms], dtype=np.float64)
    result = signs @ group_means
    return group_means.astype(dtype), result.astype(dtype)


def to_uint8(images: ArrayLike) -> np.ndarray:
    """Map floats in [-1, 1] to uint8 [0, 255]: -1 -> 0, 0 -> 128, 1 -> 255.

    Values outside the range are clipped and NaN (a diverged generator) becomes 0.

    Returns:
        uint8 array of the same shape; a uint8 input comes back unchanged (copied).
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.copy()
    scaled = (np.nan_to_num(images.astype(np.float64), nan=-1.0) + 1.0) * 127.5
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def grid_shape(n: int, cols: int | None = None) -> tuple[int, int]:
    """`(rows, cols)` for `n` images: cols defaults to ceil(sqrt(n)), rows = ceil(n / cols)."""
    n = check_integer("n", n)
    cols = math.ceil(math.sqrt(n)) if cols is None else check_integer("cols", cols)
    return math.ceil(n / cols), cols


def image_grid(
    images: ArrayLike, cols: int | None = None, padding: int = 2, pad_value: int = 255
) -> np.ndarray:
    """Tile `N` images into one uint8 picture, row by row.

    `images` are `(N, H, W, C)` with C in {1, 3}, or `(N, H, W)`, as floats in [-1, 1] (see
    `to_uint8`) or uint8. The grid has `grid_shape(N, cols)` cells separated and surrounded by
    `padding` pixels of `pad_value` (white keeps cells apart on black-background data), so it
    is `rows * H + (rows + 1) * padding` by `cols * W + (cols + 1) * padding`.

    Returns:
        `(height, width, 3)` for colour, `(height, width)` for grayscale: the shapes
        `PIL.Image.fromarray` takes.
    """
    try:
        pixels = to_uint8(images)
    except ValueError as error:
        raise ValueError(f"Images must all have the same shape ({error}).") from None
    if pixels.ndim == 3:
        pixels = pixels[..., np.newaxis]
    if pixels.ndim != 4 or pixels.shape[-1] not in (1, 3):
        raise ValueError(
            f"Images must have shape (N, H, W), (N, H, W, 1) or (N, H, W, 3), got {pixels.shape}."
        )
    padding = check_integer("padding", padding, minimum=0)
    if isinstance(pad_value, bool) or not 0 <= pad_value <= 255:
        raise ValueError(f"pad_value must be an integer in [0, 255], got {pad_value!r}.")
    count, height, width, channels = pixels.shape
    if count == 0:
        raise ValueError("No images to put in a grid.")
    rows, cols = grid_shape(count, cols)
    grid = np.full(
        (rows * height + (rows + 1) * padding, cols * width + (cols + 1) * padding, channels),
        pad_value,
        dtype=np.uint8,
    )
    for index, image in enumerate(pixels):
        row, col = divmod(index, cols)
        top = padding + row * (height + padding)
        left = padding + col * (width + padding)
        grid[top : top + height, left : left + width] = image
    return grid[..., 0] if channels == 1 else grid
