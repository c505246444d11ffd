"""`compile` for a model with two players, each with its own optimizer.

`GAN` inherits it: the optimizers, their float16 loss scaling, their variables created up front
(needed under `tf.distribute` and to load a checkpoint into them) and the compile config that
`model.save` stores so that a reloaded GAN resumes with its optimizers' state.
"""

from __future__ import annotations

import keras

from keras_gan import losses as losses_module

__all__ = ["TwoPlayerCompile", "default_optimizer"]


def default_optimizer() -> keras.optimizers.Optimizer:
    """Adam(2e-4, beta_1=0.5), the DCGAN setting (Radford et al. 2016, Sec. 4)."""
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


class TwoPlayerCompile:
    """`compile` for a model whose `generator` and `discriminator` have their own optimizers.

    Mixed into `GAN`, before `keras.Model`: sets `d_optimizer`, `g_optimizer` and
    `adversarial_loss`, and saves and restores them with the model.
    """

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

        Optimizers default to `default_optimizer()`. Under a `mixed_float16` policy each is
        wrapped in a `LossScaleOptimizer` (as `keras.Model.compile` does for its one).
        `jit_compile` ("auto", True, False: XLA) and `steps_per_execution` go to
        `keras.Model.compile`. When both networks are built, the optimizers' variables are
        created here, in the model's `tf.distribute` scope (see `build_optimizers`).

        Args:
            d_optimizer: the discriminator's optimizer (an instance or a name).
            g_optimizer: the generator's optimizer, a different object.
            loss: an adversarial loss or its name (see `keras_gan.losses`).
            run_eagerly: as in `keras.Model.compile`.
            steps_per_execution: as in `keras.Model.compile`.
            jit_compile: as in `keras.Model.compile`.
            auto_scale_loss: wrap the optimizers for float16 as above.
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
        """Recompile from `get_compile_config` and create the optimizers' variables.

        So that their saved state (moments, iteration counts) loads back for resuming.
        """
        config = {
            key: keras.saving.deserialize_keras_object(value) for key, value in config.items()
        }
        self.compile(**config)
        self.build_optimizers()

    def build_optimizers(self) -> None:
        """Create both optimizers' variables now, in the model's `tf.distribute` scope.

        Needed before loading a checkpoint into them, and before `fit` under a strategy:
        `keras.Model` builds only `self.optimizer` up front, and an optimizer built lazily
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

    def _check_compiled(self) -> None:
        if self.adversarial_loss is None:
            raise RuntimeError("Call gan.compile(d_optimizer, g_optimizer, loss) before training.")
