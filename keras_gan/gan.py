"""The GAN as a ``keras.Model``: one ``train_step`` plays one round of the game.

Goodfellow et al. 2014, Algorithm 1: ``d_steps`` (k) discriminator updates, then one
generator update, each player with its own optimizer. Users train it with ``fit()`` and their
own callbacks, exactly like any other Keras model::

    gan = GAN(generator, discriminator, latent_dim=100)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                loss="non_saturating")
    gan.fit(dataset, epochs=20)

Noise comes from a ``keras.random.SeedGenerator`` owned by the model, so it is fresh at every
step of a compiled ``train_step`` and part of the saved state. Losses are summed over the
examples and divided by the *global* batch size, the reduction that gives the right gradient
when ``tf.distribute`` sums the replicas' gradients.

Under ``tf.distribute`` (build the networks, the GAN and ``compile`` inside
``strategy.scope()``, then ``fit`` on a dataset batched by the global batch size): the global
batch size is all-reduced from the replicas' own sizes, each replica draws its own noise
stream, and the optimizers' variables are created at ``compile``. BatchNorm statistics are
per replica (Keras ``BatchNormalization(synchronized=True)`` would share them).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_gan import latent
from keras_gan import losses as losses_module

__all__ = ["GAN", "default_optimizer", "discriminator_accuracy", "sampling_generator"]

_SEED_STATE_KEY = "noise_seed_state"


def default_optimizer() -> keras.optimizers.Optimizer:
    """Adam(2e-4, beta_1=0.5), the DCGAN setting (Radford et al. 2016, Sec. 4)."""
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


def _num_replicas() -> int:
    return tf.distribute.get_strategy().num_replicas_in_sync


def _replica_id() -> Any:
    context = tf.distribute.get_replica_context()
    return 0 if context is None else context.replica_id_in_sync_group


def _multi_worker(strategy: tf.distribute.Strategy) -> bool:
    """Whether ``strategy`` is a MultiWorkerMirroredStrategy over more than one task."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    jobs = strategy.cluster_resolver.cluster_spec().as_dict()
    return sum(len(jobs.get(job, ())) for job in ("chief", "worker")) > 1


def _step_logs(metrics: list[keras.metrics.Metric]) -> dict[str, Any]:
    """The metrics' results, as ``train_step``/``test_step`` return them.

    Under multi-worker training Keras 3 reduces these per step with
    ``strategy.reduce("MEAN", value, axis=0)``, which fails on scalars
    (tensorflow/tensorflow#72388), so there they are returned with shape (1,).
    """
    logs = {metric.name: metric.result() for metric in metrics}
    if _multi_worker(tf.distribute.get_strategy()):
        logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
    return logs


def _global_batch_size(local_batch_size: Any) -> Any:
    """Examples in this step summed over all replicas (float32).

    One replica: the local size. Several: an all-reduce of the local sizes, so that an uneven
    split (a partial last batch spread over the replicas) still divides by the true total.
    """
    local = ops.cast(local_batch_size, "float32")
    context = tf.distribute.get_replica_context()
    replicas = _num_replicas()
    if replicas == 1:
        return local
    if context is None:  # cross-replica context: assume an even split
        return local * float(replicas)
    return context.all_reduce(tf.distribute.ReduceOp.SUM, local)


@keras.saving.register_keras_serializable(package="keras_gan")
class GAN(keras.Model):
    """A generator and a discriminator trained against each other by ``fit()``.

    Args:
        generator: model mapping noise ``(batch, latent_dim)`` to samples in [-1, 1].
        discriminator: model mapping samples to one raw score (logit) per example.
        latent_dim: size of the noise vector z ~ N(0, I).
        d_steps: discriminator updates per generator update (k in Algorithm 1). Each uses
            fresh noise against the same real batch, as the keras.io WGAN-GP example does.
        seed: seed of the noise stream; ``None`` draws one at random.
        num_classes: makes a class-conditional GAN (Mirza & Osindero 2014): the generator takes
            ``[z, label]``, the discriminator ``[image, label]``, ``fit`` expects
            ``(images, labels)`` batches, and each fake batch carries the real batch's labels
            so that fakes follow the data's class balance.
        ema_momentum: keep ``generator_ema``, an exponential moving average of the generator's
            variables, ``avg = m * avg + (1 - m) * w`` after every generator update (Yazici et
            al. 2019), and sample from it (:attr:`sampling_generator`). BatchNorm moving
            statistics are averaged like the weights. ``None``: no average.
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
        self.ema_momentum = None if ema_momentum is None else float(ema_momentum)
        self.generator_ema = None if ema_momentum is None else _averaged_copy(generator)
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.d_optimizer: keras.optimizers.Optimizer | None = None
        self.g_optimizer: keras.optimizers.Optimizer | None = None
        self.adversarial_loss: losses_module.AdversarialLoss | None = None
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.d_accuracy_tracker = keras.metrics.Mean(name="d_accuracy")
        self.gradient_penalty_tracker = keras.metrics.Mean(name="gradient_penalty")
        if generator.built and discriminator.built:
            self.built = True

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        d_optimizer: keras.optimizers.Optimizer | str | None = None,
        g_optimizer: keras.optimizers.Optimizer | str | None = None,
        loss: str | losses_module.AdversarialLoss = "non_saturating",
        *,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: bool | str = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        """Set each player's optimizer and the adversarial loss.

        Optimizers default to :func:`default_optimizer`. Under a ``mixed_float16`` policy each
        is wrapped in a ``LossScaleOptimizer`` (as ``keras.Model.compile`` does for its one).
        ``jit_compile`` ("auto", True, False: XLA) and ``steps_per_execution`` go to
        ``keras.Model.compile``; ``keras_gan.performance.compile_options`` parses them from
        flags. When both networks are built, the optimizers' variables are created here, in the
        model's ``tf.distribute`` scope (see :meth:`build_optimizers`).
        """
        super().compile(
            optimizer=None,
            run_eagerly=run_eagerly,
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
        )
        d_optimizer = keras.optimizers.get(d_optimizer) if d_optimizer else default_optimizer()
        g_optimizer = keras.optimizers.get(g_optimizer) if g_optimizer else default_optimizer()
        if d_optimizer is g_optimizer:
            raise ValueError("d_optimizer and g_optimizer must be two different optimizers.")
        if auto_scale_loss and self._uses_float16():
            d_optimizer, g_optimizer = (
                opt
                if isinstance(opt, keras.optimizers.LossScaleOptimizer)
                else keras.optimizers.LossScaleOptimizer(opt, name=f"{role}_loss_scale")
                for role, opt in (("d", d_optimizer), ("g", g_optimizer))
            )
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.adversarial_loss = losses_module.get(loss)
        self._gan_compile_config = {
            "d_optimizer": d_optimizer,
            "g_optimizer": g_optimizer,
            "loss": self.adversarial_loss,
            "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution,
            # The argument, not its resolution: "auto" re-resolves on the loading machine.
            "jit_compile": jit_compile,
            "auto_scale_loss": auto_scale_loss,
        }
        if self.generator.built and self.discriminator.built:
            self.build_optimizers()

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

    def _uses_float16(self) -> bool:
        return "float16" in (
            self.generator.dtype_policy.compute_dtype,
            self.discriminator.dtype_policy.compute_dtype,
        ) and "bfloat16" not in (
            self.generator.dtype_policy.compute_dtype,
            self.discriminator.dtype_policy.compute_dtype,
        )

    def get_compile_config(self) -> dict:
        if not getattr(self, "_gan_compile_config", None):
            return {}
        return {
            key: keras.saving.serialize_keras_object(value)
            for key, value in self._gan_compile_config.items()
        }

    def compile_from_config(self, config: dict) -> None:
        """Recompile from :meth:`get_compile_config` and create the optimizers' variables so
        that their saved state (moments, iteration counts) loads back for resuming."""
        config = {
            key: keras.saving.deserialize_keras_object(value) for key, value in config.items()
        }
        self.compile(**config)
        self.build_optimizers()

    def build_optimizers(self) -> None:
        """Create both optimizers' variables now, in the model's ``tf.distribute`` scope.

        Needed before loading a checkpoint into them, and before ``fit`` under a strategy:
        ``keras.Model`` builds only ``self.optimizer`` up front, and an optimizer built lazily
        inside a distributed train function fails (variables created in a replica context).
        """
        self._check_compiled()
        with self.distribute_strategy.scope():
            for optimizer, model in (
                (self.d_optimizer, self.discriminator),
                (self.g_optimizer, self.generator),
            ):
                if not optimizer.built:
                    optimizer.build(model.trainable_variables)

    # ------------------------------------------------------------------ metrics
    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        trackers = [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.d_real_tracker,
            self.d_fake_tracker,
            self.d_accuracy_tracker,
        ]
        if self.adversarial_loss is not None and self.adversarial_loss.gradient_penalty_weight:
            trackers.append(self.gradient_penalty_tracker)
        return trackers

    # ------------------------------------------------------------------ generation
    @property
    def sampling_generator(self) -> keras.Model:
        """The generator to draw samples from: ``generator_ema`` (the moving average of the
        generator's weights) when the GAN keeps one, else ``generator``."""
        return self.generator if self.generator_ema is None else self.generator_ema

    def call(self, inputs: Any, training: bool = False) -> Any:
        """Run the sampling generator on noise ``z`` (or ``[z, labels]`` for a conditional
        GAN)."""
        return self.sampling_generator(inputs, training=training)

    def _generator_inputs(self, z: Any, labels: Any) -> Any:
        return [z, labels] if self.conditional else z

    def _discriminator_inputs(self, images: Any, labels: Any) -> Any:
        return [images, labels] if self.conditional else images

    def _replica_seed(self) -> Any:
        """The next seed ``[s, k]`` of the model's SeedGenerator, with ``s`` offset by the
        replica id so that each ``tf.distribute`` replica draws its own noise.

        The offset goes on the stream key ``s``, not on the counter ``k``: with ``[s, k + r]``
        replica 1's noise at one call would repeat replica 0's at the next. Every replica
        advances its copy of the state identically, so the copies stay in sync.
        """
        seed = self.seed_generator.next()
        return seed + ops.cast(ops.stack([_replica_id(), 0]), seed.dtype)

    def sample_noise(self, batch_size: Any) -> Any:
        """z ~ N(0, I) of shape (batch_size, latent_dim) from the model's seed generator."""
        return tf.random.stateless_normal((batch_size, self.latent_dim), seed=self._replica_seed())

    def generate(
        self,
        n_or_z: int | Any,
        labels: int | Any | None = None,
        *,
        seed: int | None = None,
        training: bool = False,
        batch_size: int = 256,
    ) -> np.ndarray:
        """Samples from the generator as a float32 NumPy array in [-1, 1].

        ``n_or_z`` is a number of samples (noise from ``keras_gan.latent.sample_noise(n,
        latent_dim, seed)``, so a seed gives the same images everywhere) or the noise itself.
        ``labels`` (conditional GANs only) is one class for all or one per sample; by default
        the classes take turns. BatchNorm uses its moving statistics unless ``training=True``.
        The samples come from :attr:`sampling_generator` (the weight average, if kept).
        """
        if isinstance(n_or_z, (int, np.integer)):
            if n_or_z < 0:
                raise ValueError(f"Cannot generate {n_or_z} samples.")
            z = latent.sample_noise(int(n_or_z), self.latent_dim, seed)
        else:
            z = np.asarray(n_or_z, dtype="float32")
        count = z.shape[0]
        label_array = self._labels_for(count, labels)
        generator = self.sampling_generator
        outputs = [
            ops.convert_to_numpy(
                generator(
                    self._generator_inputs(
                        z[start : start + batch_size],
                        None if label_array is None else label_array[start : start + batch_size],
                    ),
                    training=training,
                )
            )
            for start in range(0, count, batch_size)
        ]
        if not outputs:
            return np.zeros((0, *self.generator.output_shape[1:]), dtype="float32")
        return np.concatenate(outputs).astype("float32")

    def _labels_for(self, count: int, labels: Any) -> np.ndarray | None:
        if not self.conditional:
            if labels is not None:
                raise ValueError("This GAN is not conditional: it takes no labels.")
            return None
        if labels is None:
            return np.arange(count, dtype="int32") % self.num_classes
        label_array = np.broadcast_to(np.asarray(labels, dtype="int32"), (count,)).copy()
        if count and (label_array.min() < 0 or label_array.max() >= self.num_classes):
            raise ValueError(
                f"Labels must lie in 0..{self.num_classes - 1}, got {sorted(set(label_array))}."
            )
        return label_array

    # ------------------------------------------------------------------ training
    def _unpack(self, data: Any) -> tuple[Any, Any]:
        """(images, labels or None) from a batch ``x``, ``(x,)`` or ``(x, y[, weights])``."""
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
        """sum over examples / global batch size (see the module docstring)."""
        return ops.sum(per_example) / ops.cast(global_batch_size, "float32")

    def _global(self, batch_size: Any, global_batch_size: Any) -> Any:
        return _global_batch_size(batch_size) if global_batch_size is None else global_batch_size

    def _regularization(self, model: keras.Model) -> Any:
        """Weight regularisers' losses, scaled down so that the replicas' sum counts them once."""
        if not model.losses:
            return 0.0
        total = ops.sum(ops.stack([ops.cast(loss, "float32") for loss in model.losses]))
        return total / float(_num_replicas())

    def _apply(self, optimizer, scaled_loss, tape, variables) -> None:
        """Apply the gradient of a loss already passed through ``optimizer.scale_loss`` inside
        the tape (a no-op unless the optimizer is a ``LossScaleOptimizer``)."""
        gradients = tape.gradient(scaled_loss, variables)
        optimizer.apply_gradients(zip(gradients, variables, strict=True))

    def _check_compiled(self) -> None:
        if self.adversarial_loss is None:
            raise RuntimeError("Call gan.compile(d_optimizer, g_optimizer, loss) before training.")

    def discriminator_step(
        self, real: Any, labels: Any = None, global_batch_size: Any = None
    ) -> dict[str, Any]:
        """One discriminator update against fresh fakes; only D's trainable weights move.

        The generator runs outside the gradient tape (no wasted backward pass through G) in
        training mode, so its BatchNorm layers see batch statistics as in the G phase.
        ``global_batch_size`` (all replicas' examples) is computed when not given.
        """
        self._check_compiled()
        loss_fn = self.adversarial_loss
        batch_size = ops.shape(real)[0]
        global_batch_size = self._global(batch_size, global_batch_size)
        noise = self._generator_inputs(self.sample_noise(batch_size), labels)
        fake = ops.stop_gradient(self.generator(noise, training=True))
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(
                self._discriminator_inputs(real, labels), training=True
            )
            fake_logits = self.discriminator(
                self._discriminator_inputs(fake, labels), training=True
            )
            per_example = loss_fn.discriminator_loss(real_logits, fake_logits)
            penalty = None
            if loss_fn.gradient_penalty_weight:
                interpolation = tf.random.stateless_uniform(
                    (batch_size,), seed=self._replica_seed()
                )
                penalty = losses_module.gradient_penalty(
                    lambda x: self.discriminator(
                        self._discriminator_inputs(x, labels), training=True
                    ),
                    real,
                    fake,
                    interpolation,
                )
                per_example = per_example + loss_fn.gradient_penalty_weight * penalty
            loss = self._reduce(per_example, global_batch_size)
            loss = loss + self._regularization(self.discriminator)
            scaled_loss = self.d_optimizer.scale_loss(loss)
        self._apply(self.d_optimizer, scaled_loss, tape, variables)
        return {
            "per_example": per_example,
            "real_logits": real_logits,
            "fake_logits": fake_logits,
            "gradient_penalty": penalty,
        }

    def generator_step(
        self, batch_size: Any, labels: Any = None, global_batch_size: Any = None
    ) -> dict[str, Any]:
        """One generator update through the (fixed) discriminator; only G's trainable weights
        move. D runs in training mode, as in the D phase."""
        self._check_compiled()
        global_batch_size = self._global(batch_size, global_batch_size)
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            noise = self._generator_inputs(self.sample_noise(batch_size), labels)
            fake = self.generator(noise, training=True)
            fake_logits = self.discriminator(
                self._discriminator_inputs(fake, labels), training=True
            )
            per_example = self.adversarial_loss.generator_loss(fake_logits)
            loss = self._reduce(per_example, global_batch_size)
            loss = loss + self._regularization(self.generator)
            scaled_loss = self.g_optimizer.scale_loss(loss)
        self._apply(self.g_optimizer, scaled_loss, tape, variables)
        return {"per_example": per_example}

    def _update_discriminator_metrics(self, per_example, real_logits, fake_logits) -> None:
        loss_fn = self.adversarial_loss
        self.d_loss_tracker.update_state(per_example)
        self.d_real_tracker.update_state(loss_fn.score(real_logits))
        self.d_fake_tracker.update_state(loss_fn.score(fake_logits))
        self.d_accuracy_tracker.update_state(
            discriminator_accuracy(loss_fn, real_logits, fake_logits)
        )

    def train_step(self, data: Any) -> dict[str, Any]:
        """k discriminator steps, then one generator step (Goodfellow et al. 2014, Alg. 1).

        The fake batch is sized like the real one, so a partial last batch trains too.
        """
        real, labels = self._unpack(data)
        batch_size = ops.shape(real)[0]
        global_batch_size = _global_batch_size(batch_size)
        for _ in range(self.d_steps):
            d_result = self.discriminator_step(real, labels, global_batch_size)
            self._update_discriminator_metrics(
                d_result["per_example"], d_result["real_logits"], d_result["fake_logits"]
            )
            if d_result["gradient_penalty"] is not None:
                self.gradient_penalty_tracker.update_state(d_result["gradient_penalty"])
        g_result = self.generator_step(batch_size, labels, global_batch_size)
        self.g_loss_tracker.update_state(g_result["per_example"])
        if self.generator_ema is not None:
            self.update_generator_average()
        return _step_logs(self.metrics)

    def update_generator_average(self) -> None:
        """``avg = m * avg + (1 - m) * w`` for every floating variable of ``generator_ema``
        and its counterpart in ``generator`` (``m = ema_momentum``).

        Under ``tf.distribute`` each device's copy is updated from its own replica's values,
        the way Keras optimizers apply their updates.
        """
        momentum = self.ema_momentum
        pairs = [
            (average.value, ops.convert_to_tensor(variable))
            for average, variable in zip(
                self.generator_ema.weights, self.generator.weights, strict=True
            )
            if keras.backend.is_float_dtype(average.dtype)
        ]

        def blend(average: tf.Variable, value: Any) -> Any:
            value = ops.cast(value, average.dtype)
            return average.assign(momentum * average + (1.0 - momentum) * value)

        def update_all(strategy: tf.distribute.Strategy, pairs: list) -> None:
            for average, value in pairs:
                strategy.extended.update(average, blend, args=(value,), group=False)

        tf.__internal__.distribute.interim.maybe_merge_call(
            update_all, tf.distribute.get_strategy(), pairs
        )

    def test_step(self, data: Any) -> dict[str, Any]:
        """Both players' losses and D's outputs on held-out data, without updating anything."""
        self._check_compiled()
        real, labels = self._unpack(data)
        batch_size = ops.shape(real)[0]
        noise = self._generator_inputs(self.sample_noise(batch_size), labels)
        fake = self.generator(noise, training=False)
        real_logits = self.discriminator(self._discriminator_inputs(real, labels), training=False)
        fake_logits = self.discriminator(self._discriminator_inputs(fake, labels), training=False)
        loss_fn = self.adversarial_loss
        self._update_discriminator_metrics(
            loss_fn.discriminator_loss(real_logits, fake_logits), real_logits, fake_logits
        )
        self.g_loss_tracker.update_state(loss_fn.generator_loss(fake_logits))
        return _step_logs(self.metrics)

    # ------------------------------------------------------------------ serialization
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
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> GAN:
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(
                config[key], custom_objects=custom_objects
            )
        return cls(**config)


def sampling_generator(model: keras.Model) -> keras.Model:
    """The network to draw samples from: a GAN's ``sampling_generator`` (its weight average if
    it keeps one), the ``generator`` of other GAN models (keras.io style), else the model."""
    for name in ("sampling_generator", "generator"):
        network = getattr(model, name, None)
        if isinstance(network, keras.Model):
            return network
    return model


def _averaged_copy(generator: keras.Model) -> keras.Model:
    """A frozen copy of ``generator`` with the same variables' values, to hold their average."""
    if not generator.built:
        raise ValueError("ema_momentum needs a built generator (call it once, or build it).")
    try:
        copy = keras.models.clone_model(generator)
    except Exception as error:
        raise ValueError(
            "ema_momentum needs a generator that keras.models.clone_model can copy "
            f"(Functional, Sequential, or a subclass with get_config): {error}"
        ) from None
    if [tuple(v.shape) for v in copy.weights] != [tuple(v.shape) for v in generator.weights]:
        raise ValueError("The generator's copy for ema_momentum does not have its variables.")
    copy.set_weights(generator.get_weights())
    copy.trainable = False
    return copy


def discriminator_accuracy(
    loss_fn: losses_module.AdversarialLoss, real_logits: Any, fake_logits: Any
) -> Any:
    """Per-decision correctness of D: real scored above, fake at or below the threshold.

    For the Wasserstein critic, whose scores have no fixed threshold (any shift is as good),
    it is the fraction of (real_i, fake_i) pairs ranked the right way round.
    """
    real_scores = loss_fn.score(real_logits)
    fake_scores = loss_fn.score(fake_logits)
    if isinstance(loss_fn, losses_module.Wasserstein):
        return ops.cast(real_scores > fake_scores, "float32")
    threshold = loss_fn.decision_threshold
    return ops.concatenate(
        [
            ops.cast(real_scores > threshold, "float32"),
            ops.cast(fake_scores <= threshold, "float32"),
        ]
    )
