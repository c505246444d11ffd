"""Keras's `BatchNormalization` computed by TensorFlow's fused kernel on CPUs.

Keras 3 builds batch normalisation (Ioffe & Szegedy 2015) out of separate ops: casts to
float32, the moments, a subtraction, multiplications and their gradients, a dozen kernels
per layer and step where tf.keras called one `FusedBatchNormV3` (keras-team/keras-core#225,
"BatchNorm is slow"). With XLA off, as Keras leaves it on CPUs, each of them is a separate
pass over the activations. On the 2-core CPU of docs/benchmarks.md ("Fused batch
normalisation", `benchmarks/batch_norm.py`) the fused kernel made the default DCGAN step
1.26x faster at 28x28 and 1.38x at 64x64 in `mixed_bfloat16`, 1.08x and 1.15x in float32.

`FusedBatchNormalization` is a `BatchNormalization`: the same arguments, weights, config and
results (the moving variance is the same biased batch variance Keras averages). It takes the
fused kernel only where that is the same computation and measured: the TensorFlow backend,
no GPU or TPU (where Keras's XLA compilation fuses the ops anyway; not measured there),
2-D or 4-D inputs normalised over the last axis, no mask, renorm or cross-replica
(`synchronized`) statistics. Anything else is Keras's own `call`. Exported generators
(`generator.keras`, `generator_best.keras`) name Keras's layer (`with_keras_batch_norm`), so
they load without keras_gan.
"""

from __future__ import annotations

import functools

import keras

FUSED_DTYPES = ("float32", "bfloat16", "float16")


@functools.cache
def fused_kernel_available() -> bool:
    """Whether layers take TensorFlow's fused kernel: the TensorFlow backend and no GPU or TPU."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not (tf.config.list_physical_devices("GPU") or tf.config.list_physical_devices("TPU"))


@keras.saving.register_keras_serializable(package="keras_gan")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` through `tf.compat.v1.nn.fused_batch_norm` on CPUs."""

    def _takes_fused_kernel(self, inputs, mask) -> bool:
        rank = len(inputs.shape)
        return (
            fused_kernel_available()
            and mask is None
            and not self.renorm
            and not self.synchronized
            and rank in (2, 4)
            and self.axis in (-1, rank - 1)
            and keras.backend.standardize_dtype(inputs.dtype) in FUSED_DTYPES
        )

    def call(self, inputs, training=None, mask=None):
        if not self._takes_fused_kernel(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        channels, flat = inputs.shape[-1], len(inputs.shape) == 2
        images = tf.reshape(inputs, (-1, 1, 1, channels)) if flat else inputs
        scale = self.gamma if self.scale else tf.ones((channels,), "float32")
        offset = self.beta if self.center else tf.zeros((channels,), "float32")
        if training and self.trainable:
            outputs, mean, unbiased_variance = tf.compat.v1.nn.fused_batch_norm(
                images, scale, offset, epsilon=self.epsilon, is_training=True
            )
            # The kernel returns the batch variance with Bessel's correction; Keras averages
            # the biased one, which is what normalised the batch.
            count = tf.cast(tf.size(images) // channels, "float32")
            variance = unbiased_variance * (count - 1.0) / count
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(
                self.moving_variance * self.momentum + variance * (1.0 - self.momentum)
            )
        else:
            outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
                images,
                scale,
                offset,
                mean=self.moving_mean,
                variance=self.moving_variance,
                epsilon=self.epsilon,
                is_training=False,
            )
        if flat:
            outputs = tf.reshape(outputs, tf.shape(inputs))
        return tf.cast(outputs, self.compute_dtype)


def batch_normalization(fused: bool = True, **options) -> keras.layers.BatchNormalization:
    """A `FusedBatchNormalization` (`fused=True`, the builders' default) or Keras's own layer,
    for the builders' `fused_batch_norm` option: the same results either way, so `False` only
    reproduces the speed of runs before the fused kernel.

    Raises:
        ValueError: when `fused` is not a bool (e.g. a mistyped `--network-option`).
    """
    if not isinstance(fused, bool):
        raise ValueError(f"fused_batch_norm must be true or false, got {fused!r}.")
    layer_class = FusedBatchNormalization if fused else keras.layers.BatchNormalization
    return layer_class(**options)


def with_keras_batch_norm(model: keras.Model) -> keras.Model:
    """`model`, or a copy with Keras's own `BatchNormalization` in place of each of its
    `FusedBatchNormalization` layers (same config and weights), so that an exported generator
    loads with plain `keras.saving.load_model`, without keras_gan, as it did before the fused
    layer. A model `keras.models.clone_model` cannot copy (a subclass) is returned as it is.
    """
    if not any(isinstance(layer, FusedBatchNormalization) for layer in model.layers):
        return model

    def clone_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        layer_class = layer.__class__
        if isinstance(layer, FusedBatchNormalization):
            layer_class = keras.layers.BatchNormalization
        return layer_class.from_config(layer.get_config())

    try:
        copy = keras.models.clone_model(model, clone_function=clone_layer)
    except ValueError:
        return model
    copy.set_weights(model.get_weights())
    return copy
