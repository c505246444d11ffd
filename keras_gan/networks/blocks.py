"""Pieces the architectures share: label inputs and embeddings (conditional GANs), the
projection logit, spectral normalisation, maxout units, and output activation rules.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers


def label_input() -> keras.KerasTensor:
    return keras.Input((), dtype="int32", name="label")


def concat_label_embedding(z, labels, num_classes: int, embedding_dim: int):
    """cGAN generator input: z concatenated with a learned label embedding (Mirza &
    Osindero 2014, with an embedding in place of the one-hot code)."""
    embedded = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(labels)
    return layers.Concatenate(name="z_and_label")([z, embedded])


def generator_inputs(
    latent_dim: int, num_classes: int | None, label_embedding_dim: int
) -> tuple[keras.KerasTensor | list[keras.KerasTensor], keras.KerasTensor]:
    """A generator's inputs and its first tensor: `z`, or `[z, label]` with the label embedding
    concatenated to `z` when `num_classes` is given.

    Returns:
        `(inputs, x)` for `keras.Model(inputs, ...)` and the first layer.
    """
    z = keras.Input((latent_dim,), name="z")
    if not num_classes:
        return z, z
    labels = label_input()
    return [z, labels], concat_label_embedding(z, labels, num_classes, label_embedding_dim)


def projection_logit(features, labels, num_classes: int, spectral_norm: bool, init=None):
    """Projection discriminator logit psi(phi(x)) + <embed(y), phi(x)> (Miyato & Koyama 2018,
    Eq. 3); without labels, just psi(phi(x))."""
    dense_options = {"kernel_initializer": init} if init is not None else {}
    logit = maybe_spectral(
        layers.Dense(1, dtype="float32", name="logit", **dense_options), spectral_norm
    )(features)
    if labels is None:
        return logit
    embedding = layers.Embedding(num_classes, features.shape[-1], name="label_projection")
    projection = layers.Dot(axes=1, dtype="float32", name="projection")(
        [embedding(labels), features]
    )
    return layers.Add(dtype="float32", name="conditional_logit")([logit, projection])


def check_num_classes(num_classes: int | None) -> None:
    if num_classes is not None and int(num_classes) < 2:
        raise ValueError(
            f"num_classes must be at least 2 for a conditional GAN, got {num_classes}."
        )


def output_activation_for(image_shape: Sequence[int], output_activation: str | None) -> str:
    """tanh for images (data in [-1, 1]); linear for flat vectors such as 2-D toy points."""
    if output_activation is not None:
        return output_activation
    return "tanh" if len(image_shape) >= 2 else "linear"


@keras.saving.register_keras_serializable(package="keras_gan")
class Maxout(layers.Layer):
    """The maximum over `pieces` groups of the last axis (Goodfellow et al. 2013, "Maxout
    Networks"): a `Dense(units * pieces)` followed by `Maxout(pieces)` is a maxout layer of
    `units`, the discriminator unit of the 2-D experiments of GAN, VEEGAN and PacGAN."""

    def __init__(self, pieces: int, **kwargs) -> None:
        super().__init__(**kwargs)
        if pieces < 1:
            raise ValueError(f"Maxout needs at least one piece, got {pieces}.")
        self.pieces = int(pieces)

    def call(self, inputs):
        units = inputs.shape[-1] // self.pieces
        grouped = keras.ops.reshape(inputs, (-1, *inputs.shape[1:-1], units, self.pieces))
        return keras.ops.max(grouped, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] // self.pieces)

    def get_config(self) -> dict:
        return {**super().get_config(), "pieces": self.pieces}


def maybe_spectral(layer: layers.Layer, spectral_norm: bool) -> layers.Layer:
    """Wrap `layer` in spectral normalisation (Miyato et al. 2018) when asked."""
    if not spectral_norm:
        return layer
    return layers.SpectralNormalization(layer, dtype=layer.dtype_policy)
