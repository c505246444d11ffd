"""The DCGAN generator and discriminator (Radford et al. 2016) for any power-of-two size.

G: project z, then stride-2 transposed convs + BatchNorm + ReLU, tanh output. D: stride-2 convs
+ LeakyReLU (BatchNorm after the first), a float32 logit.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from keras_gan.networks.batch_norm import batch_normalization
from keras_gan.networks.blocks import (
    check_num_classes,
    generator_inputs,
    label_input,
    maybe_spectral,
    projection_logit,
)

# Radford et al. 2016, Sec. 4: "All weights were initialized from a zero-centered Normal
# distribution with standard deviation 0.02".
DCGAN_INIT_STDDEV = 0.02


def dcgan_start_size(image_size: int, max_start: int = 7) -> tuple[int, int]:
    """How a DCGAN reaches `image_size`: `image_size = start * 2**n_upsamplings`.

    28 -> (7, 2) as in the TensorFlow MNIST DCGAN; 32 -> (4, 3); 64 -> (4, 4) as in
    Radford et al. 2016, Fig. 1.

    Returns:
        `(start, n_upsamplings)` with `start <= max_start` and `n_upsamplings >= 1`.

    Raises:
        ValueError: for sizes the DCGAN cannot build.
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


def _check_extra_layers(extra_layers: int) -> None:
    """A count, so that a mistyped `--network-option extra_layers=-1` is refused, not read as 0."""
    if isinstance(extra_layers, bool) or not isinstance(extra_layers, int) or extra_layers < 0:
        raise ValueError(f"extra_layers must be a whole number >= 0, got {extra_layers!r}.")


def _init():
    return keras.initializers.RandomNormal(0.0, DCGAN_INIT_STDDEV)


def _batch_norm(fused: bool):
    """BatchNorm with gamma ~ N(1, 0.02) as in the DCGAN reference code."""
    return batch_normalization(
        fused,
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
    fused_batch_norm: bool = True,
) -> keras.Model:
    """DCGAN G (Radford et al. 2016, Fig. 1): z projected to start x start x C, then stride-2
    transposed convs + BatchNorm + ReLU halving the channels, tanh output.

    Args:
        image_shape: `(H, W, C)`, square, H a size `dcgan_start_size` accepts.
        latent_dim: the size of z.
        base_filters: channels just before the output (the paper's 64x64 net has 128).
        kernel_size: 4 divides the stride, avoiding checkerboard artefacts (Odena et al.
            2016); the paper used 5.
        extra_layers: stride-1 conv blocks per resolution (`n_extra_layers` in the WGAN code).
        num_classes: makes the model take `[z, label]`, the label embedding concatenated to z.
        label_embedding_dim: the size of that embedding.
        fused_batch_norm: BatchNorm through TensorFlow's fused kernel on CPUs
            (`FusedBatchNormalization`, same results); False keeps Keras's own layer.
    """
    check_num_classes(num_classes)
    _check_extra_layers(extra_layers)
    start, doublings, channels = _dcgan_geometry(image_shape)
    filters = base_filters * 2 ** (doublings - 1)
    inputs, x = generator_inputs(latent_dim, num_classes, label_embedding_dim)
    x = layers.Dense(start * start * filters, use_bias=False, kernel_initializer=_init())(x)
    x = layers.Reshape((start, start, filters))(x)
    x = _batch_norm(fused_batch_norm)(x)
    x = layers.ReLU()(x)
    for step in range(doublings):
        for _ in range(extra_layers):
            x = layers.Conv2D(
                filters, 3, padding="same", use_bias=False, kernel_initializer=_init()
            )(x)
            x = _batch_norm(fused_batch_norm)(x)
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
        x = _batch_norm(fused_batch_norm)(x)
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
    fused_batch_norm: bool = True,
) -> keras.Model:
    """DCGAN D (Radford et al. 2016): stride-2 convs + LeakyReLU(0.2) doubling the channels,
    no normalisation on the first layer, then one logit.

    Args:
        image_shape: `(H, W, C)`, as for `build_dcgan_generator`.
        base_filters: channels of the first conv layer.
        kernel_size: the conv kernels' size.
        extra_layers: stride-1 conv blocks per resolution.
        leaky_slope: the LeakyReLU slope.
        normalization: `"batch"` (the paper), `"layer"` (for WGAN-GP, whose per-example
            gradient penalty BatchNorm breaks; Gulrajani et al. 2017, Sec. 4) or `"none"`
            (e.g. with `spectral_norm=True`).
        spectral_norm: spectral normalisation of every conv and the logit (Miyato et al. 2018).
        num_classes: makes the model take `[image, label]`, a projection discriminator
            (Miyato & Koyama 2018).
        fused_batch_norm: BatchNorm through TensorFlow's fused kernel on CPUs
            (`FusedBatchNormalization`, same results); False keeps Keras's own layer.
    """
    check_num_classes(num_classes)
    _check_extra_layers(extra_layers)
    if normalization not in ("batch", "layer", "none"):
        raise ValueError(f"normalization must be batch, layer or none, got {normalization!r}.")
    _, doublings, _ = _dcgan_geometry(image_shape)
    image = keras.Input(tuple(image_shape), name="image")
    labels = label_input() if num_classes else None
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
        x = maybe_spectral(conv, spectral_norm)(x)
        if step > 0 and normalization == "batch":
            x = _batch_norm(fused_batch_norm)(x)
        elif step > 0 and normalization == "layer":
            x = layers.LayerNormalization(axis=(1, 2, 3))(x)
        x = layers.LeakyReLU(leaky_slope)(x)
        for _ in range(extra_layers):
            conv = layers.Conv2D(filters, 3, padding="same", kernel_initializer=_init())
            x = maybe_spectral(conv, spectral_norm)(x)
            x = layers.LeakyReLU(leaky_slope)(x)
        if step < doublings - 1:
            filters *= 2
    x = layers.Flatten()(x)
    logit = projection_logit(x, labels, num_classes, spectral_norm, init=_init())
    inputs = [image, labels] if num_classes else image
    return keras.Model(inputs, logit, name="dcgan_discriminator")
