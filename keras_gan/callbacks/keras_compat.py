"""Keras's learning-rate callbacks for a model with two optimizers.

Keras's `ReduceLROnPlateau` and `LearningRateScheduler` change `model.optimizer`, which a GAN
does not have (it has `d_optimizer` and `g_optimizer`); these subclasses change the players'
optimizers instead. The Keras callbacks compatibility table is in `docs/callbacks.md`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import keras
from keras import ops

from keras_gan.checkpoints import model_optimizers

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau", "player_optimizers"]

PLAYERS = ("d", "g")
LOWER_IS_BETTER = ("d_loss", "g_loss", "fid", "kid", "gradient_penalty")
HIGHER_IS_BETTER = ("sample_diversity", "class_coverage")


def _check_players(players: Sequence[str]) -> tuple[str, ...]:
    players = tuple(players)
    if not players or any(player not in PLAYERS for player in players):
        raise ValueError(f"players must be some of {PLAYERS}, got {players!r}.")
    return players


def player_optimizers(
    model: keras.Model, players: Sequence[str] = PLAYERS
) -> dict[str, keras.optimizers.Optimizer]:
    """The optimizers of `players` (`"d"`, `"g"`) of a GAN, or a plain model's optimizer.

    Returns:
        `{"d": ..., "g": ...}` for a GAN, `{"": model.optimizer}` for a one-optimizer model.
    """
    optimizers = model_optimizers(model)
    if "" in optimizers:
        return optimizers
    return {role: optimizers[role] for role in players if role in optimizers}


def _learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    return float(ops.convert_to_numpy(optimizer.learning_rate))


class ReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    """`keras.callbacks.ReduceLROnPlateau` that lowers the GAN players' learning rates.

    Multiplies the learning rate of each optimizer of `players` by `factor` once `monitor`
    (e.g. `"fid"` or `"g_loss"`) has not improved for `patience` epochs. The other arguments
    are Keras's; `mode="auto"` knows that lower is better for the losses, `fid` and `kid`
    (Keras's own raises for names it does not know).

    Args:
        monitor: the log to watch.
        players: whose learning rates to lower: `("d", "g")` (both), `("d",)` or `("g",)`.
        mode: `"min"`, `"max"`, or `"auto"`.
        **kwargs: `factor`, `patience`, `verbose`, `min_delta`, `cooldown`, `min_lr`.
    """

    def __init__(
        self,
        monitor: str = "g_loss",
        players: Sequence[str] = PLAYERS,
        mode: str = "auto",
        **kwargs,
    ):
        if mode == "auto" and monitor in LOWER_IS_BETTER:
            mode = "min"
        elif mode == "auto" and monitor in HIGHER_IS_BETTER:
            mode = "max"
        super().__init__(monitor=monitor, mode=mode, **kwargs)
        self.players = _check_players(players)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"ReduceLROnPlateau watches `{self.monitor}`, which is not in the logs "
                f"({', '.join(logs or {})}).",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                optimizers = player_optimizers(self.model, self.players)
                reduced = [
                    self._reduce_optimizer_lr(optimizer, epoch, f"{role}_optimizer")
                    for role, optimizer in optimizers.items()
                ]
                if any(reduced):
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(keras.callbacks.LearningRateScheduler):
    """`keras.callbacks.LearningRateScheduler` that sets the GAN players' learning rates.

    At the start of every epoch each optimizer of `players` gets `schedule(epoch, lr)` (or
    `schedule(epoch)`), its own `lr` passed in. For a decay per step rather than per epoch,
    give each optimizer a `keras.optimizers.schedules.LearningRateSchedule` instead.

    Args:
        schedule: one function for all players, or `{"d": function, "g": function}`.
        players: whose learning rates to set (ignored when `schedule` is a dict).
        verbose: print each change.
    """

    def __init__(
        self,
        schedule: Callable | dict[str, Callable],
        players: Sequence[str] = PLAYERS,
        verbose: int = 0,
    ) -> None:
        super().__init__(schedule, verbose=verbose)
        if isinstance(schedule, dict):
            players = tuple(schedule)
        self.players = _check_players(players)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        for role, optimizer in player_optimizers(self.model, self.players).items():
            schedule = self.schedule.get(role) if isinstance(self.schedule, dict) else self.schedule
            if schedule is None:
                continue
            try:
                rate = schedule(epoch, _learning_rate(optimizer))
            except TypeError:  # a schedule of the epoch alone, as Keras's accepts
                rate = schedule(epoch)
            optimizer.learning_rate = float(rate)
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {role}_optimizer learning rate set to {rate}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        for role, optimizer in player_optimizers(self.model, self.players).items():
            name = f"{role}_learning_rate" if role else "learning_rate"
            logs[name] = _learning_rate(optimizer)
