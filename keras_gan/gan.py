"""The GAN as a `keras.Model`: one `train_step` plays one round of the game.

Goodfellow et al. 2014, Algorithm 1: `d_steps` (k) discriminator updates, then one generator
update, each player with its own optimizer. Train it with `compile` and `fit` like any Keras
model; noise comes from a `keras.random.SeedGenerator` the model owns (fresh at every step,
saved with the model). Usage, `tf.distribute` and the weight average: docs/gan.md.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_gan import augment as augment_module
from keras_gan import latent, packing, replicas
from keras_gan import losses as losses_module
from keras_gan.ema import averaged_copy, update_average, warmed_up_momentum
from keras_gan.gan_compile import TwoPlayerCompile, default_optimizer
from keras_gan.gan_metrics import GanMetrics, discriminator_accuracy, gradient_norm
from keras_gan.generation import (
    DEFAULT_BATCH_SIZE,
    cycling_labels,
    run_generator,
    sampling_generator,
)

# Registers the project's own layers (Maxout), so that `import keras_gan.gan` is all a new
# process needs before `keras.saving.load_model` of any GAN this project builds.
from keras_gan.networks import blocks as _custom_layers  # noqa: F401

__all__ = ["GAN", "default_optimizer", "discriminator_accuracy", "sampling_generator"]

_SEED_STATE_KEY = "noise_seed_state"


@keras.saving.register_keras_serializable(package="keras_gan")
class GAN(TwoPlayerCompile, GanMetrics, keras.Model):
    """A generator and a discriminator trained against each other by `fit()`.

    Args:
        generator: model mapping noise `(batch, latent_dim)` to samples in [-1, 1].
        discriminator: model mapping samples to one raw score (logit) per example.
        latent_dim: size of the noise vector z ~ N(0, I).
        d_steps: discriminator updates per generator update (k in Algorithm 1). Each uses
            fresh noise against the same real batch, as the keras.io WGAN-GP example does.
        seed: seed of the noise stream; `None` draws one at random.
        num_classes: makes a class-conditional GAN (Mirza & Osindero 2014): the generator takes
            `[z, label]`, the discriminator `[image, label]`, `fit` expects `(images, labels)`
            batches, and each fake batch carries the real batch's labels so that fakes follow
            the data's class balance.
        ema_momentum: keep `generator_ema`, an exponential moving average of the generator's
            variables, `avg = m * avg + (1 - m) * w` after every generator update (Yazici et
            al. 2019; see `keras_gan.ema`), with m warmed up as `min(m, (1 + t) / (10 + t))`
            after t updates, and sample from it (`sampling_generator`).
            `None`: no average.
        augment: augment D's inputs, real and fake, in both phases (`keras_gan.augment`):
            `None`/"off", "diffaugment" (Zhao et al. 2020: each op always), "ada" (Karras et
            al. 2020: each op with an adaptive probability p) or an `Augmentation`. Images only.
        pack: PacGAN's m (Lin et al. 2018): D judges m samples at once, concatenated along the
            last axis (`keras_gan.packing`), so it must be built on
            `packing.packed_shape(sample_shape, m)`; the (per-replica) batch must be a multiple
            of m. Not defined for a conditional GAN (each sample has its own label).
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        d_steps: int = 1,
        seed: int | None = None,
        num_classes: int | None = None,
        ema_momentum: float | None = None,
        augment: str | augment_module.Augmentation | dict | None = None,
        pack: int = 1,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if int(latent_dim) <= 0:
            raise ValueError(f"latent_dim must be positive, got {latent_dim}.")
        if int(d_steps) < 1:
            raise ValueError(f"d_steps must be at least 1, got {d_steps}.")
        if ema_momentum is not None and not 0.0 <= float(ema_momentum) < 1.0:
            raise ValueError(f"ema_momentum must lie in [0, 1), got {ema_momentum}.")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.d_steps = int(d_steps)
        self.seed = seed
        self.num_classes = int(num_classes) if num_classes else None
        self._check_conditional_inputs()
        self.pack = packing.check_pack(pack)
        self.augmentation = augment_module.get(augment)
        packing.check_networks(
            generator, discriminator, self.pack, self.conditional, self.augmentation is not None
        )
        self.ema_momentum = None if ema_momentum is None else float(ema_momentum)
        self.generator_ema = None if ema_momentum is None else averaged_copy(generator)
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.d_optimizer: keras.optimizers.Optimizer | None = None
        self.g_optimizer: keras.optimizers.Optimizer | None = None
        self.adversarial_loss: losses_module.AdversarialLoss | None = None
        self._init_trackers()
        if generator.built and discriminator.built:
            self.built = True

    @property
    def conditional(self) -> bool:
        """Whether both networks take class labels."""
        return self.num_classes is not None

    def _check_conditional_inputs(self) -> None:
        for role, model in (("generator", self.generator), ("discriminator", self.discriminator)):
            takes_labels = len(model.inputs) == 2 if getattr(model, "inputs", None) else False
            if takes_labels != self.conditional:
                wanted = "[inputs, labels]" if self.conditional else "a single input"
                raise ValueError(
                    f"The {role} must take {wanted}"
                    + (f" for num_classes={self.num_classes}" if self.conditional else "")
                    + "; build both networks with the same num_classes as the GAN."
                )

    @property
    def sampling_generator(self) -> keras.Model:
        """The generator to draw samples from.

        `generator_ema` (the moving average of the generator's weights) when the GAN keeps
        one, else `generator`.
        """
        return self.generator if self.generator_ema is None else self.generator_ema

    def call(self, inputs: Any, training: bool = False) -> Any:
        """Run the sampling generator on noise `z` (`[z, labels]` for a conditional GAN)."""
        return self.sampling_generator(inputs, training=training)

    def _generator_inputs(self, z: Any, labels: Any) -> Any:
        return [z, labels] if self.conditional else z

    def _discriminator_inputs(self, images: Any, labels: Any) -> Any:
        return [images, labels] if self.conditional else images

    def _view(self, images: Any, augment: bool = True) -> Any:
        """What D sees of a batch: augmented (in training), then packed."""
        if augment and self.augmentation is not None:
            images = self.augmentation.augment(images, self._replica_seed())
        return packing.pack(images, self.pack)

    def _discriminate(self, images: Any, labels: Any, training: bool = True) -> Any:
        return self.discriminator(self._discriminator_inputs(images, labels), training=training)

    def _replica_seed(self) -> Any:
        """The next seed of the noise stream, this replica's own (`replicas.replica_seed`)."""
        return replicas.replica_seed(self.seed_generator)

    def sample_noise(self, batch_size: Any) -> Any:
        """z ~ N(0, I) of shape `(batch_size, latent_dim)` from the model's seed generator."""
        return tf.random.stateless_normal((batch_size, self.latent_dim), seed=self._replica_seed())

    def generate(
        self,
        n_or_z: int | Any,
        labels: int | Any | None = None,
        *,
        seed: int | None = None,
        training: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> np.ndarray:
        """Samples from `sampling_generator` through `generation.run_generator`.

        Args:
            n_or_z: a number of samples (noise `keras_gan.latent.sample_noise(n, latent_dim,
                seed)`, so a seed gives bit-identical images everywhere) or the noise itself.
            labels: conditional GANs only: one class for all samples or one per sample; by
                default the classes take turns (`cycling_labels`).
            seed: the seed of the noise when `n_or_z` is a number.
            training: run BatchNorm with batch statistics instead of its moving ones.
            batch_size: samples per call of the generator.

        Returns:
            float32 NumPy array in [-1, 1], one sample per row.
        """
        if isinstance(n_or_z, (int, np.integer)):
            if n_or_z < 0:
                raise ValueError(f"Cannot generate {n_or_z} samples.")
            z = latent.sample_noise(int(n_or_z), self.latent_dim, seed)
        else:
            z = np.asarray(n_or_z, dtype="float32")
        label_array = self._labels_for(z.shape[0], labels)
        return run_generator(
            self.sampling_generator, z, label_array, batch_size=batch_size, training=training
        )

    def _labels_for(self, count: int, labels: Any) -> np.ndarray | None:
        if not self.conditional:
            if labels is not None:
                raise ValueError("This GAN is not conditional: it takes no labels.")
            return None
        if labels is None:
            return cycling_labels(count, self.num_classes)
        label_array = np.broadcast_to(np.asarray(labels, dtype="int32"), (count,)).copy()
        if count and (label_array.min() < 0 or label_array.max() >= self.num_classes):
            raise ValueError(
                f"Labels must lie in 0..{self.num_classes - 1}, got {sorted(set(label_array))}."
            )
        return label_array

    def _unpack(self, data: Any) -> tuple[Any, Any]:
        """(images, labels or None) from a batch `x`, `(x,)` or `(x, y[, weights])`."""
        images, labels = (
            (data[0], data[1] if len(data) > 1 else None)
            if isinstance(data, (tuple, list))
            else (data, None)
        )
        if self.conditional and labels is None:
            raise ValueError("A conditional GAN trains on (images, labels) batches.")
        if not self.conditional:
            return images, None
        return images, ops.reshape(ops.cast(labels, "int32"), (-1,))

    def _reduce(self, per_example: Any, global_batch_size: Any) -> Any:
        """Sum over examples / global batch size (see `keras_gan.replicas`)."""
        return ops.sum(per_example) / ops.cast(global_batch_size, "float32")

    def _global(self, batch_size: Any, global_batch_size: Any) -> Any:
        return (
            replicas.global_batch_size(batch_size)
            if global_batch_size is None
            else global_batch_size
        )

    def _regularization(self, model: keras.Model) -> Any:
        """Weight regularisers' losses, scaled down so that the replicas' sum counts them once."""
        if not model.losses:
            return 0.0
        total = ops.sum(ops.stack([ops.cast(loss, "float32") for loss in model.losses]))
        return total / float(replicas.num_replicas())

    def _apply(self, optimizer, scaled_loss, tape, variables) -> tuple[Any, Any]:
        """Apply the gradient of a loss already passed through `optimizer.scale_loss`.

        That scaling happens inside the tape (a no-op unless it is a `LossScaleOptimizer`).
        Returns the gradient's unscaled global norm (`gan_metrics.gradient_norm`).
        """
        gradients = tape.gradient(scaled_loss, variables)
        norm = gradient_norm(gradients, optimizer)
        optimizer.apply_gradients(zip(gradients, variables, strict=True))
        return norm

    def discriminator_step(
        self, real: Any, labels: Any = None, global_batch_size: Any = None
    ) -> dict[str, Any]:
        """One discriminator update against fresh fakes; only D's trainable weights move.

        The generator runs outside the gradient tape (no wasted backward pass through G) in
        training mode, so its BatchNorm layers see batch statistics as in the G phase. D sees
        both batches augmented and packed (`_view`); the gradient penalty interpolates what D
        sees. `global_batch_size` (all replicas' samples) is computed when not given.
        """
        self._check_compiled()
        loss_fn = self.adversarial_loss
        batch_size = ops.shape(real)[0]
        global_batch_size = self._global(batch_size, global_batch_size)
        noise = self._generator_inputs(self.sample_noise(batch_size), labels)
        fake = ops.stop_gradient(self.generator(noise, training=True))
        real_view, fake_view = self._view(real), self._view(fake)
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_logits = self._discriminate(real_view, labels)
            fake_logits = self._discriminate(fake_view, labels)
            per_example = loss_fn.discriminator_loss(real_logits, fake_logits)
            penalty = None
            if loss_fn.gradient_penalty_weight:
                interpolation = tf.random.stateless_uniform(
                    ops.shape(real_view)[:1], seed=self._replica_seed()
                )
                penalty = losses_module.gradient_penalty(
                    lambda x: self._discriminate(x, labels), real_view, fake_view, interpolation
                )
                per_example = per_example + loss_fn.gradient_penalty_weight * penalty
            loss = self._reduce(per_example, global_batch_size / self.pack)
            loss = loss + self._regularization(self.discriminator)
            scaled_loss = self.d_optimizer.scale_loss(loss)
        grad_norm = self._apply(self.d_optimizer, scaled_loss, tape, variables)
        if self.augmentation is not None and self.augmentation.adaptive:
            signs = self.augmentation.real_signs(loss_fn, ops.stop_gradient(real_logits))
            self.augmentation.observe(signs, batch_size)
        return {
            "per_example": per_example,
            "real_logits": real_logits,
            "fake_logits": fake_logits,
            "gradient_penalty": penalty,
            "grad_norm": grad_norm,
        }

    def generator_step(
        self, batch_size: Any, labels: Any = None, global_batch_size: Any = None
    ) -> dict[str, Any]:
        """One generator update through the fixed discriminator; only G's weights move.

        D runs in training mode and sees the fakes augmented and packed, as in the D phase.
        """
        self._check_compiled()
        global_batch_size = self._global(batch_size, global_batch_size)
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            noise = self._generator_inputs(self.sample_noise(batch_size), labels)
            fake = self.generator(noise, training=True)
            fake_logits = self._discriminate(self._view(fake), labels)
            per_example = self.adversarial_loss.generator_loss(fake_logits)
            loss = self._reduce(per_example, global_batch_size / self.pack)
            loss = loss + self._regularization(self.generator)
            scaled_loss = self.g_optimizer.scale_loss(loss)
        grad_norm = self._apply(self.g_optimizer, scaled_loss, tape, variables)
        return {"per_example": per_example, "grad_norm": grad_norm}

    def train_step(self, data: Any) -> dict[str, Any]:
        """k discriminator steps, then one generator step (Goodfellow et al. 2014, Alg. 1).

        The fake batch is sized like the real one, so a partial last batch trains too.
        """
        real, labels = self._unpack(data)
        batch_size = ops.shape(real)[0]
        global_batch_size = replicas.global_batch_size(batch_size)
        for _ in range(self.d_steps):
            self._update_discriminator_metrics(
                self.discriminator_step(real, labels, global_batch_size)
            )
        self._update_generator_metrics(self.generator_step(batch_size, labels, global_batch_size))
        if self.generator_ema is not None:
            self.update_generator_average()
        return replicas.step_logs(self.metrics)

    def update_generator_average(self) -> None:
        """Move `generator_ema` towards `generator` by `ema_momentum`, warmed up over the
        generator's first updates (`ema.warmed_up_momentum`, `ema.update_average`)."""
        momentum = warmed_up_momentum(self.ema_momentum, self.g_optimizer.iterations)
        update_average(self.generator_ema, self.generator, momentum)

    def test_step(self, data: Any) -> dict[str, Any]:
        """Both players' losses and D's outputs on held-out data (packed, not augmented),
        without updating anything."""
        self._check_compiled()
        real, labels = self._unpack(data)
        batch_size = ops.shape(real)[0]
        noise = self._generator_inputs(self.sample_noise(batch_size), labels)
        fake = self.generator(noise, training=False)
        real_logits = self._discriminate(self._view(real, False), labels, training=False)
        fake_logits = self._discriminate(self._view(fake, False), labels, training=False)
        loss_fn = self.adversarial_loss
        self._update_discriminator_metrics(
            {
                "per_example": loss_fn.discriminator_loss(real_logits, fake_logits),
                "real_logits": real_logits,
                "fake_logits": fake_logits,
            }
        )
        self.g_loss_tracker.update_state(loss_fn.generator_loss(fake_logits))
        return replicas.step_logs(self.metrics)

    def save_own_variables(self, store: Any) -> None:
        """Save the noise stream's position with the weights, so a resumed run continues it."""
        super().save_own_variables(store)
        store[_SEED_STATE_KEY] = ops.convert_to_numpy(self.seed_generator.state)

    def load_own_variables(self, store: Any) -> None:
        # Keras's H5 weight store has keys() but no __contains__.
        if _SEED_STATE_KEY in store.keys():  # noqa: SIM118
            self.seed_generator.state.assign(store[_SEED_STATE_KEY])

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "d_steps": self.d_steps,
            "seed": self.seed,
            "num_classes": self.num_classes,
            "ema_momentum": self.ema_momentum,
            "augment": (
                None
                if self.augmentation is None
                else keras.saving.serialize_keras_object(self.augmentation)
            ),
            "pack": self.pack,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> GAN:
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(
                config[key], custom_objects=custom_objects
            )
        return cls(**config)
