"""The MLP generator and discriminator, for flattened images and low-dimensional toy data."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers

from keras_gan.networks.blocks import (
    check_num_classes,
    dense_stack,
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
    output_activation: str | None = None,
    num_classes: int | None = None,
    label_embedding_dim: int = 16,
) -> keras.Model:
    """Fully connected G: z -> hidden layers -> prod(image_shape) -> reshape.

    Args:
        image_shape: the shape of one sample.
        latent_dim: the size of z.
        generator_hidden: hidden widths; `()` gives the linear x = Az + b of the Gaussian toy.
        activation: the hidden layers' activation.
        generator_dropout: dropout rate after each hidden layer (0 for none).
        output_activation: defaults to tanh for images and linear for flat vectors.
        num_classes: makes the model take `[z, label]` (a conditional generator).
        label_embedding_dim: the size of the label embedding concatenated to z.
    """
    check_num_classes(num_classes)
    image_shape = tuple(image_shape)
    inputs, x = generator_inputs(latent_dim, num_classes, label_embedding_dim)
    x = dense_stack(x, generator_hidden, activation, generator_dropout, leaky_slope=None)
    x = layers.Dense(math.prod(image_shape), name="to_pixels")(x)
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
    spectral_norm: bool = False,
    num_classes: int | None = None,
) -> keras.Model:
    """Fully connected D: flatten -> hidden layers with LeakyReLU (and dropout) -> one logit.

    Args:
        image_shape: the shape of one sample.
        discriminator_hidden: hidden widths.
        discriminator_dropout: dropout rate after each hidden layer.
        leaky_slope: the LeakyReLU slope.
        spectral_norm: spectral normalisation of every Dense layer (Miyato et al. 2018).
        num_classes: makes the model take `[image, label]`, a projection discriminator.
    """
    check_num_classes(num_classes)
    image = keras.Input(tuple(image_shape), name="image")
    labels = label_input() if num_classes else None
    x = layers.Flatten()(image)
    for width in discriminator_hidden:
        x = maybe_spectral(layers.Dense(width), spectral_norm)(x)
        x = layers.LeakyReLU(leaky_slope)(x)
        if discriminator_dropout:
            x = layers.Dropout(discriminator_dropout)(x)
    logit = projection_logit(x, labels, num_classes, spectral_norm)
    inputs = [image, labels] if num_classes else image
    return keras.Model(inputs, logit, name="mlp_discriminator")
