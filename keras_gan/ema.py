"""An exponential moving average of a generator's weights, to sample from.

`GAN(..., ema_momentum=m)` keeps `generator_ema`, a frozen copy of the generator updated as
`avg = m * avg + (1 - m) * w` after every generator step (Yazici et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training"). BatchNorm moving statistics are averaged too.
The momentum warms up as in `tf.train.ExponentialMovingAverage(num_updates=t)`,
`min(m, (1 + t) / (10 + t))` after the generator's t-th update, so that early samples are
not pulled toward the untrained initial weights: with m = 0.999 and a fixed momentum, 37% of
the average after 1,000 steps would still be the initial generator.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

__all__ = ["averaged_copy", "update_average", "warmed_up_momentum"]


def averaged_copy(generator: keras.Model) -> keras.Model:
    """A frozen copy of `generator` with the same variables' values, to hold their average.

    Raises:
        ValueError: for an unbuilt generator, or one `keras.models.clone_model` cannot copy.
    """
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


def warmed_up_momentum(momentum: float, updates: Any) -> Any:
    """`min(momentum, (1 + t) / (10 + t))` after `t = updates` generator updates (a tensor)."""
    updates = ops.cast(updates, "float32")
    return ops.minimum(ops.cast(momentum, "float32"), (1.0 + updates) / (10.0 + updates))


def update_average(average: keras.Model, model: keras.Model, momentum: Any) -> None:
    """`avg = momentum * avg + (1 - momentum) * w` for every floating variable of `average`.

    Under `tf.distribute` each device's copy is updated from its own replica's values, the
    way Keras optimizers apply their updates.

    Args:
        average: the model holding the average (`averaged_copy(model)`).
        model: the model being trained.
        momentum: `m` in the formula, in [0, 1) (a float or a float32 scalar tensor).
    """
    pairs = [
        (average_variable.value, ops.convert_to_tensor(variable))
        for average_variable, variable in zip(average.weights, model.weights, strict=True)
        if keras.backend.is_float_dtype(average_variable.dtype)
    ]

    def blend(variable: tf.Variable, value: Any) -> Any:
        value = ops.cast(value, variable.dtype)
        weight = ops.cast(momentum, variable.dtype)
        return variable.assign(weight * variable + (1.0 - weight) * value)

    def update_all(strategy: tf.distribute.Strategy, pairs: list) -> None:
        for variable, value in pairs:
            strategy.extended.update(variable, blend, args=(value,), group=False)

    tf.__internal__.distribute.interim.maybe_merge_call(
        update_all, tf.distribute.get_strategy(), pairs
    )
