"""The registry of architectures: `register` a builder pair by name, `build` it by name.

`build` hands each builder the options its signature accepts, so an option neither accepts is
an error, not a silent no-op.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class _Architecture:
    build_generator: Callable[..., keras.Model]
    build_discriminator: Callable[..., keras.Model]


_REGISTRY: dict[str, _Architecture] = {}


def register(
    name: str,
    build_generator: Callable[..., keras.Model],
    build_discriminator: Callable[..., keras.Model],
    *,
    overwrite: bool = False,
) -> None:
    """Make an architecture available to `build` (and `train.py --arch NAME`).

    Args:
        name: the architecture's name.
        build_generator: `(image_shape, latent_dim, **options) -> keras.Model`.
        build_discriminator: `(image_shape, **options) -> keras.Model`.
        overwrite: replace an architecture already registered under `name`.

    Raises:
        ValueError: when `name` is taken and `overwrite` is False.
    """
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"Architecture {name!r} is already registered; pass overwrite=True.")
    _REGISTRY[name] = _Architecture(build_generator, build_discriminator)


def available() -> list[str]:
    """Names of the registered architectures."""
    return sorted(_REGISTRY)


def _accepted_options(function: Callable, options: dict) -> dict:
    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(options)
    return {key: value for key, value in options.items() if key in parameters}


def build(
    name: str,
    image_shape: Sequence[int],
    latent_dim: int,
    *,
    discriminator_shape: Sequence[int] | None = None,
    **options,
) -> tuple[keras.Model, keras.Model]:
    """Build the `(generator, discriminator)` pair registered as `name`.

    Args:
        name: a registered architecture (`available()`), e.g. `"dcgan"` or `"mlp"`.
        image_shape: the shape of one sample, e.g. `(28, 28, 1)` or `(2,)`.
        latent_dim: the size of the noise vector z.
        discriminator_shape: the shape D takes, when not `image_shape` (e.g. packed samples,
            `keras_gan.packing.packed_shape`).
        **options: each goes to every builder whose signature names it.

    Returns:
        `(generator, discriminator)`, two `keras.Model`s.

    Raises:
        ValueError: for an unknown name, bad sizes, or an option that no builder accepts.
    """
    if name not in _REGISTRY:
        raise ValueError(f"Unknown architecture {name!r}; choose one of {', '.join(available())}.")
    if int(latent_dim) <= 0:
        raise ValueError(f"latent_dim must be positive, got {latent_dim}.")
    image_shape = tuple(int(d) for d in image_shape)
    if not image_shape or any(d <= 0 for d in image_shape):
        raise ValueError(f"image_shape must be positive sizes, got {image_shape}.")
    architecture = _REGISTRY[name]
    g_options = _accepted_options(architecture.build_generator, options)
    d_options = _accepted_options(architecture.build_discriminator, options)
    unknown = set(options) - set(g_options) - set(d_options)
    if unknown:
        raise ValueError(f"Architecture {name!r} has no option(s) {', '.join(sorted(unknown))}.")
    generator = architecture.build_generator(image_shape, int(latent_dim), **g_options)
    d_shape = image_shape if discriminator_shape is None else tuple(discriminator_shape)
    discriminator = architecture.build_discriminator(d_shape, **d_options)
    return generator, discriminator
