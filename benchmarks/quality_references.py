"""The two Keras reference GANs of `benchmarks/quality.py` (Fashion-MNIST only).

`tutorial`: the keras.io "DCGAN overriding train_step" pattern with the TensorFlow DCGAN
tutorial's 28x28 networks; `paper`: the same with the DCGAN paper's settings.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 100


def tutorial_generator(output_float32: bool = False) -> keras.Model:
    """The TensorFlow DCGAN tutorial's MNIST generator (tensorflow.org/tutorials/generative/
    dcgan). ``output_float32``: the last layer in float32, as the Keras mixed precision guide
    asks for the model's output."""
    return keras.Sequential(
        [
            keras.Input((LATENT_DIM,)),
            layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(
                1,
                5,
                strides=2,
                padding="same",
                use_bias=False,
                activation="tanh",
                dtype="float32" if output_float32 else None,
            ),
        ],
        name="tutorial_generator",
    )


def tutorial_discriminator(output_float32: bool = False) -> keras.Model:
    """The TensorFlow DCGAN tutorial's MNIST discriminator (one logit)."""
    return keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Conv2D(64, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Conv2D(128, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1, dtype="float32" if output_float32 else None),
        ],
        name="tutorial_discriminator",
    )


class KerasIoGAN(keras.Model):
    """The keras.io "DCGAN overriding train_step" model, as a Keras user writes it today.

    D sees real and fake images in one concatenated batch (fake = 1, real = 0, plus 0.05
    uniform label noise, "an important trick" in that example); G is trained to make D say 0.
    Both networks run with ``training=True`` as in the TensorFlow tutorial (BatchNorm, Dropout).
    """

    def __init__(self, discriminator: keras.Model, generator: keras.Model, latent_dim: int):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn) -> None:
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self) -> list:
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(noise, training=True)
        combined = ops.concatenate([ops.cast(generated, "float32"), real_images], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined, training=True)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights, strict=True)
        )

        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        misleading_labels = ops.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(noise, training=True), training=True)
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights, strict=True))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


def build_reference(learning_rate: float, beta_1: float, output_float32: bool) -> keras.Model:
    model = KerasIoGAN(
        tutorial_discriminator(output_float32), tutorial_generator(output_float32), LATENT_DIM
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    return model
