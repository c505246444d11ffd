"""The MLP generator and discriminator, for flattened images and low-dimensional toy data."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers

from keras_gan.networks.batch_norm import batch_normalization
from keras_gan.networks.blocks import (
    Maxout,
    check_num_classes,
    generator_inputs,
    label_input,
    maybe_spectral,
    output_activation_for,
    projection_logit,
)


def build_mlp_generator(
    image_shape: Sequence[int],
    latent_dim: int,
    *,
    generator_hidden: Sequence[int] = (256, 512, 1024),
    activation: str = "relu",
    generator_dropout: float = 0.0,
    generator_batchnorm: bool = False,
    init_std: float | None = None,
    output_activation: str | None = None,
    num_classes: int | None = None,
    label_embedding_dim: int = 16,
    fused_batch_norm: bool = True,
) -> keras.Model:
    """Fully connected G: z -> hidden layers -> prod(image_shape) -> reshape.

    Args:
        image_shape: the shape of one sample.
        latent_dim: the size of z.
        generator_hidden: hidden widths; `()` gives the linear x = Az + b of the Gaussian toy.
        activation: the hidden layers' activation.
        generator_dropout: dropout rate after each hidden layer (0 for none).
        generator_batchnorm: batch normalisation before each hidden activation (bias-free
            layers), as in the 2-D experiments of PacGAN (Lin et al. 2018).
        init_std: kernels drawn from N(0, init_std) (PacGAN: 0.02); None keeps Keras's default.
        output_activation: defaults to tanh for images and linear for flat vectors.
        num_classes: makes the model take `[z, label]` (a conditional generator).
        label_embedding_dim: the size of the label embedding concatenated to z.
        fused_batch_norm: BatchNorm through TensorFlow's fused kernel on CPUs
            (`FusedBatchNormalization`, same results); False keeps Keras's own layer.
    """
    check_num_classes(num_classes)
    image_shape = tuple(image_shape)
    inputs, x = generator_inputs(latent_dim, num_classes, label_embedding_dim)
    for width in generator_hidden:
        x = layers.Dense(width, use_bias=not generator_batchnorm, **_init(init_std))(x)
        if generator_batchnorm:
            x = batch_normalization(fused_batch_norm)(x)
        x = layers.Activation(activation)(x)
        if generator_dropout:
            x = layers.Dropout(generator_dropout)(x)
    x = layers.Dense(math.prod(image_shape), name="to_pixels", **_init(init_std))(x)
    x = layers.Activation(
        output_activation_for(image_shape, output_activation), dtype="float32", name="output"
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
    discriminator_maxout: int = 1,
    init_std: float | None = None,
    spectral_norm: bool = False,
    num_classes: int | None = None,
) -> keras.Model:
    """Fully connected D: flatten -> hidden layers with LeakyReLU (and dropout) -> one logit.

    Args:
        image_shape: the shape of one sample.
        discriminator_hidden: hidden widths.
        discriminator_dropout: dropout rate after each hidden layer.
        leaky_slope: the LeakyReLU slope.
        discriminator_maxout: above 1, maxout units of that many pieces replace LeakyReLU
            (Goodfellow et al. 2013; PacGAN's 2-D discriminator uses 5).
        init_std: kernels drawn from N(0, init_std); None keeps Keras's default.
        spectral_norm: spectral normalisation of every Dense layer (Miyato et al. 2018).
        num_classes: makes the model take `[image, label]`, a projection discriminator.
    """
    check_num_classes(num_classes)
    image = keras.Input(tuple(image_shape), name="image")
    labels = label_input() if num_classes else None
    x = layers.Flatten()(image)
    pieces = discriminator_maxout
    if not isinstance(pieces, int) or pieces < 1:
        raise ValueError(f"discriminator_maxout must be a positive integer, got {pieces!r}.")
    for width in discriminator_hidden:
        x = maybe_spectral(layers.Dense(width * pieces, **_init(init_std)), spectral_norm)(x)
        x = Maxout(pieces)(x) if pieces > 1 else layers.LeakyReLU(leaky_slope)(x)
        if discriminator_dropout:
            x = layers.Dropout(discriminator_dropout)(x)
    logit = projection_logit(x, labels, num_classes, spectral_norm)
    inputs = [image, labels] if num_classes else image
    return keras.Model(inputs, logit, name="mlp_discriminator")


def _init(init_std: float | None) -> dict:
    """Dense keyword arguments for kernels drawn from N(0, init_std), or none for the default."""
    if init_std is None:
        return {}
    return {"kernel_initializer": keras.initializers.RandomNormal(stddev=init_std)}
