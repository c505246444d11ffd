"""Generator and discriminator builders, and a registry of architectures by name.

A builder pair is two functions::

    build_generator(image_shape, latent_dim, **options) -> keras.Model   # z -> image
    build_discriminator(image_shape, **options) -> keras.Model          # image -> logit

:func:`build` looks a pair up by name and hands each function the options its signature
accepts, so ``networks.build("dcgan", (64, 64, 3), 100, base_filters=128)`` sets the width of
both networks and an option neither accepts is an error, not a silent no-op. Register your
own pair with :func:`register`.

Both builders end in a float32 layer (G's output activation, D's logit) so that they stay
correct under a ``mixed_bfloat16``/``mixed_float16`` dtype policy.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
from keras import layers

__all__ = [
    "available",
    "build",
    "build_dcgan_discriminator",
    "build_dcgan_generator",
    "build_mlp_discriminator",
    "build_mlp_generator",
    "dcgan_start_size",
    "register",
]

# Radford et al. 2016, Sec. 4: "All weights were initialized from a zero-centered Normal
# distribution with standard deviation 0.02".
DCGAN_INIT_STDDEV = 0.02


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
    """Make an architecture available to :func:`build` (and ``train.py --arch NAME``)."""
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
    name: str, image_shape: Sequence[int], latent_dim: int, **options
) -> tuple[keras.Model, keras.Model]:
    """Build the ``(generator, discriminator)`` pair registered as ``name``.

    Each option goes to every builder whose signature names it; an option that no builder
    accepts raises ``ValueError``.
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
    discriminator = architecture.build_discriminator(image_shape, **d_options)
    return generator, discriminator


def _label_input() -> keras.KerasTensor:
    return keras.Input((), dtype="int32", name="label")


def _concat_label_embedding(z, labels, num_classes: int, embedding_dim: int):
    """cGAN generator input: z concatenated with a learned label embedding (Mirza &
    Osindero 2014, with an embedding in place of the one-hot code)."""
    embedded = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(labels)
    return layers.Concatenate(name="z_and_label")([z, embedded])


def _projection_logit(features, labels, num_classes: int, spectral_norm: bool, init=None):
    """Projection discriminator logit psi(phi(x)) + <embed(y), phi(x)> (Miyato & Koyama 2018,
    Eq. 3); without labels, just psi(phi(x))."""
    dense_options = {"kernel_initializer": init} if init is not None else {}
    logit = _maybe_spectral(
        layers.Dense(1, dtype="float32", name="logit", **dense_options), spectral_norm
    )(features)
    if labels is None:
        return logit
    embedding = layers.Embedding(num_classes, features.shape[-1], name="label_projection")
    projection = layers.Dot(axes=1, dtype="float32", name="projection")(
        [embedding(labels), features]
    )
    return layers.Add(dtype="float32", name="conditional_logit")([logit, projection])


def _check_num_classes(num_classes: int | None) -> None:
    if num_classes is not None and int(num_classes) < 2:
        raise ValueError(
            f"num_classes must be at least 2 for a conditional GAN, got {num_classes}."
        )


def _output_activation_for(image_shape: Sequence[int], output_activation: str | None) -> str:
    """tanh for images (data in [-1, 1]); linear for flat vectors such as 2-D toy points."""
    if output_activation is not None:
        return output_activation
    return "tanh" if len(image_shape) >= 2 else "linear"


def _dense_stack(
    x, units: Sequence[int], activation: str, dropout: float, leaky_slope: float | None
) -> keras.KerasTensor:
    for width in units:
        x = layers.Dense(width)(x)
        x = (
            layers.LeakyReLU(leaky_slope)(x)
            if leaky_slope is not None
            else layers.Activation(activation)(x)
        )
        if dropout:
            x = layers.Dropout(dropout)(x)
    return x


def build_mlp_generator(
    image_shape: Sequence[int],
    latent_dim: int,
    *,
    generator_hidden: Sequence[int] = (256, 512, 1024),
    activation: str = "relu",
    generator_dropout: float = 0.0,
    output_activation: str | None = None,
    num_classes: int | None = None,
    label_embedding_dim: int = 16,
) -> keras.Model:
    """Fully connected G: z -> hidden layers -> prod(image_shape) -> reshape.

    ``generator_hidden=()`` gives the linear generator x = Az + b of the 2-D Gaussian toy.
    ``output_activation`` defaults to tanh for images and linear for flat vectors.
    With ``num_classes`` the model takes ``[z, label]`` (a conditional generator).
    """
    _check_num_classes(num_classes)
    image_shape = tuple(image_shape)
    z = keras.Input((latent_dim,), name="z")
    inputs, x = z, z
    if num_classes:
        labels = _label_input()
        inputs = [z, labels]
        x = _concat_label_embedding(z, labels, num_classes, label_embedding_dim)
    x = _dense_stack(x, generator_hidden, activation, generator_dropout, leaky_slope=None)
    x = layers.Dense(math.prod(image_shape), name="to_pixels")(x)
    x = layers.Activation(
        _output_activation_for(image_shape, output_activation), dtype="float32", name="output"
    )(x)
    if len(image_shape) > 1:
        x = layers.Reshape(image_shape, dtype="float32")(x)
    return keras.Model(inputs, x, name="mlp_generator")


def build_mlp_discriminator(
    image_shape: Sequence[int],
    *,
    discriminator_hidden: Sequence[int] = (512, 256),
    discriminator_dropout: float = 0.3,
    leaky_slope: float = 0.2,
    spectral_norm: bool = False,
    num_classes: int | None = None,
) -> keras.Model:
    """Fully connected D: flatten -> hidden layers with LeakyReLU (and dropout) -> one logit.

    With ``num_classes`` the model takes ``[image, label]`` and is a projection discriminator.
    """
    _check_num_classes(num_classes)
    image = keras.Input(tuple(image_shape), name="image")
    labels = _label_input() if num_classes else None
    x = layers.Flatten()(image)
    for width in discriminator_hidden:
        x = _maybe_spectral(layers.Dense(width), spectral_norm)(x)
        x = layers.LeakyReLU(leaky_slope)(x)
        if discriminator_dropout:
            x = layers.Dropout(discriminator_dropout)(x)
    logit = _projection_logit(x, labels, num_classes, spectral_norm)
    inputs = [image, labels] if num_classes else image
    return keras.Model(inputs, logit, name="mlp_discriminator")


def _maybe_spectral(layer: layers.Layer, spectral_norm: bool) -> layers.Layer:
    """Wrap ``layer`` in spectral normalisation (Miyato et al. 2018) when asked."""
    if not spectral_norm:
        return layer
    return layers.SpectralNormalization(layer, dtype=layer.dtype_policy)


def dcgan_start_size(image_size: int, max_start: int = 7) -> tuple[int, int]:
    """(start, n_upsamplings) with image_size = start * 2**n_upsamplings and start <= max_start.

    28 -> (7, 2) as in the TensorFlow MNIST DCGAN; 32 -> (4, 3); 64 -> (4, 4) as in
    Radford et al. 2016, Fig. 1. Raises ValueError for sizes the DCGAN cannot build.
    """
    size, doublings = int(image_size), 0
    while size > max_start and size % 2 == 0:
        size //= 2
        doublings += 1
    if size > max_start or doublings == 0:
        raise ValueError(
            f"dcgan cannot build images of size {image_size}: the size must be s * 2**k with "
            f"k >= 1 and s <= {max_start} (e.g. 28, 32, 64, 128)."
        )
    return size, doublings


def _dcgan_geometry(image_shape: Sequence[int]) -> tuple[int, int, int]:
    if len(image_shape) != 3:
        raise ValueError(f"dcgan needs images of shape (H, W, C), got {tuple(image_shape)}.")
    height, width, channels = image_shape
    if height != width:
        raise ValueError(f"dcgan needs square images, got {height}x{width}.")
    start, doublings = dcgan_start_size(height)
    return start, doublings, channels


def _init():
    return keras.initializers.RandomNormal(0.0, DCGAN_INIT_STDDEV)


def _batch_norm():
    """BatchNorm with gamma ~ N(1, 0.02) as in the DCGAN reference code."""
    return layers.BatchNormalization(
        momentum=0.9,
        epsilon=1e-5,
        gamma_initializer=keras.initializers.RandomNormal(1.0, DCGAN_INIT_STDDEV),
    )


def build_dcgan_generator(
    image_shape: Sequence[int],
    latent_dim: int,
    *,
    base_filters: int = 64,
    kernel_size: int = 4,
    extra_layers: int = 0,
    num_classes: int | None = None,
    label_embedding_dim: int = 16,
) -> keras.Model:
    """DCGAN G (Radford et al. 2016, Fig. 1): project z to start x start x C, then stride-2
    transposed convs + BatchNorm + ReLU halving the channels, tanh output.

    Width: ``base_filters`` channels just before the output (the paper's 64x64 net is
    ``base_filters=128``). Depth: ``extra_layers`` stride-1 conv blocks per resolution
    (as ``n_extra_layers`` in the WGAN reference code). ``kernel_size=4`` divides the stride,
    avoiding checkerboard artefacts (Odena et al. 2016); the paper used 5.
    With ``num_classes`` the model takes ``[z, label]``, the label embedding concatenated to z.
    """
    _check_num_classes(num_classes)
    start, doublings, channels = _dcgan_geometry(image_shape)
    filters = base_filters * 2 ** (doublings - 1)
    z = keras.Input((latent_dim,), name="z")
    inputs, x = z, z
    if num_classes:
        labels = _label_input()
        inputs = [z, labels]
        x = _concat_label_embedding(z, labels, num_classes, label_embedding_dim)
    x = layers.Dense(start * start * filters, use_bias=False, kernel_initializer=_init())(x)
    x = layers.Reshape((start, start, filters))(x)
    x = _batch_norm()(x)
    x = layers.ReLU()(x)
    for step in range(doublings):
        for _ in range(extra_layers):
            x = layers.Conv2D(
                filters, 3, padding="same", use_bias=False, kernel_initializer=_init()
            )(x)
            x = _batch_norm()(x)
            x = layers.ReLU()(x)
        if step == doublings - 1:
            break
        filters //= 2
        x = layers.Conv2DTranspose(
            filters,
            kernel_size,
            strides=2,
            padding="same",
            use_bias=False,
            kernel_initializer=_init(),
        )(x)
        x = _batch_norm()(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(
        channels, kernel_size, strides=2, padding="same", kernel_initializer=_init()
    )(x)
    image = layers.Activation("tanh", dtype="float32", name="output")(x)
    return keras.Model(inputs, image, name="dcgan_generator")


def build_dcgan_discriminator(
    image_shape: Sequence[int],
    *,
    base_filters: int = 64,
    kernel_size: int = 4,
    extra_layers: int = 0,
    leaky_slope: float = 0.2,
    normalization: str = "batch",
    spectral_norm: bool = False,
    num_classes: int | None = None,
) -> keras.Model:
    """DCGAN D (Radford et al. 2016): stride-2 convs + LeakyReLU(0.2) doubling the channels,
    no normalisation on the first layer, then one logit.

    ``normalization``: "batch" (the paper), "layer" (for WGAN-GP, whose per-example gradient
    penalty BatchNorm breaks; Gulrajani et al. 2017, Sec. 4) or "none" (e.g. with
    ``spectral_norm=True``, Miyato et al. 2018). With ``num_classes`` the model takes
    ``[image, label]`` and is a projection discriminator (Miyato & Koyama 2018).
    """
    _check_num_classes(num_classes)
    if normalization not in ("batch", "layer", "none"):
        raise ValueError(f"normalization must be batch, layer or none, got {normalization!r}.")
    _, doublings, _ = _dcgan_geometry(image_shape)
    image = keras.Input(tuple(image_shape), name="image")
    labels = _label_input() if num_classes else None
    x = image
    filters = base_filters
    for step in range(doublings):
        conv = layers.Conv2D(
            filters,
            kernel_size,
            strides=2,
            padding="same",
            kernel_initializer=_init(),
            use_bias=step == 0 or normalization != "batch",
        )
        x = _maybe_spectral(conv, spectral_norm)(x)
        if step > 0 and normalization == "batch":
            x = _batch_norm()(x)
        elif step > 0 and normalization == "layer":
            x = layers.LayerNormalization(axis=(1, 2, 3))(x)
        x = layers.LeakyReLU(leaky_slope)(x)
        for _ in range(extra_layers):
            conv = layers.Conv2D(filters, 3, padding="same", kernel_initializer=_init())
            x = _maybe_spectral(conv, spectral_norm)(x)
            x = layers.LeakyReLU(leaky_slope)(x)
        if step < doublings - 1:
            filters *= 2
    x = layers.Flatten()(x)
    logit = _projection_logit(x, labels, num_classes, spectral_norm, init=_init())
    inputs = [image, labels] if num_classes else image
    return keras.Model(inputs, logit, name="dcgan_discriminator")


register("mlp", build_mlp_generator, build_mlp_discriminator)
register("dcgan", build_dcgan_generator, build_dcgan_discriminator)
