"""`FailureMonitor`: alarms for the ways GAN training fails, raised at the end of each epoch.

D overpowering G, mode collapse, diverging and oscillating losses: each alarm prints one line
(what is happening, what to try), writes a TensorBoard text entry and sets `alarm_<name>` in
the epoch's logs (so `history.csv` records it). The definitions and thresholds are
in `docs/callbacks.md`.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from keras_gan.callbacks.base import EpochAware, scalar_logs
from keras_gan.callbacks.diversity import class_coverage, pixel_features, sample_diversity
from keras_gan.callbacks.tensorboard import WRITERS
from keras_gan.errors import one_line

__all__ = [
    "ALARMS",
    "Alarm",
    "FailureMonitor",
    "class_coverage",
    "epoch_figures",
    "pixel_features",
    "sample_diversity",
]

logger = logging.getLogger(__name__)

ALARMS = ("d_overpowering", "mode_collapse", "divergence", "oscillation")
_LOSSES = ("d_loss", "g_loss")
_MAX_REAL = 1000

_ADVICE = {
    "d_overpowering": "try a lower D learning rate (--lr-d) or fewer --d-steps, augmentation "
    "(--augment ada), or the hinge or wgan_gp loss",
    "mode_collapse": "try packing (--pack 2), lower learning rates, the wgan_gp loss or a "
    "weight average (--ema-momentum); with --eval-every, generator_best.keras keeps the best",
    "divergence": "try lower learning rates (--lr-d, --lr-g), the wgan_gp loss or spectral "
    "norm (--arch resnet), and resume from an earlier checkpoint",
    "oscillation": "try lower learning rates (D's first), a smaller --beta1, or a generator "
    "weight average (--ema-momentum)",
}


@dataclass(frozen=True)
class Alarm:
    """An alarm raised at the end of `epoch` (1-based: epochs completed)."""

    epoch: int
    name: str
    message: str

    def line(self) -> str:
        """The one line printed for it."""
        return f"epoch {self.epoch}: ALARM {self.name}: {self.message}; {_ADVICE[self.name]}."


class FailureMonitor(EpochAware):
    """Alarms for D overpowering G, mode collapse, and diverging or oscillating losses.

    At the end of every completed epoch it reads `d_accuracy` (else the mean of
    `d_real_accuracy` and `d_fake_accuracy`), `d_loss` and `g_loss` from the logs and, given
    `noise`, measures the diversity of the generator's samples on that fixed noise in a feature
    space (and the classes they cover when the space classifies). It adds `sample_diversity`,
    `class_coverage`, `alarms` (how many alarms' conditions hold) and, at the epochs where
    one holds, `alarm_<name>` = 1.0 to the logs, so callbacks after it (`LossHistory`,
    `TensorBoardLogger`, `EarlyStopping`) see them.
    An alarm prints one line and writes a TensorBoard text entry `alarms/<name>` when its
    condition starts to hold. `alarms` lists those raised; `get_state`/`set_state` (or
    `history_path`) carry the state over a resume.

    Args:
        noise: fixed noise for the diversity check (`None`: no mode-collapse check).
        space: the feature space: a `keras_gan.evaluation.FeatureSpace`, or a callable from
            samples to features (or `(features, probabilities)`); `pixel_features` when `None`.
        space_of: an `EvaluationCallback` placed earlier in the list: share its feature space.
        real_samples: real data; the diversity of its first 1,000 is the mode-collapse
            reference.
        log_dir: the TensorBoard folder for the text entries (shared with `TensorBoardLogger`).
        history_path: a `history.csv` written by `LossHistory`; on resume the state is rebuilt
            from its rows of the epochs before the one training starts at.
        accuracy_threshold: D's accuracy counted as overpowering.
        overpowering_epochs: epochs D must stay that accurate while `g_loss` rises.
        collapse_drop: mode collapse when diversity falls below this times its best so far.
        collapse_floor: ... or below this times the real data's diversity.
        coverage_drop: ... or the classes covered fall by this fraction of the most so far.
        window: epochs whose median loss is the divergence reference.
        divergence_factor: divergence when a loss's magnitude exceeds this times that median.
        oscillation_epochs: epochs over which a loss must go up and down in turn.
        oscillation_ratio: ... by a mean swing of at least this times its mean magnitude.
        loss_floor: the least magnitude a loss reference is taken to have.
        verbose: print each alarm on stderr.
    """

    def __init__(
        self,
        noise: np.ndarray | None = None,
        *,
        space: Any = None,
        space_of: Any = None,
        real_samples: np.ndarray | None = None,
        log_dir: str | os.PathLike | None = None,
        history_path: str | os.PathLike | None = None,
        accuracy_threshold: float = 0.95,
        overpowering_epochs: int = 3,
        collapse_drop: float = 0.5,
        collapse_floor: float = 0.2,
        coverage_drop: float = 0.3,
        window: int = 5,
        divergence_factor: float = 10.0,
        oscillation_epochs: int = 6,
        oscillation_ratio: float = 0.25,
        loss_floor: float = 0.1,
        verbose: bool = True,
    ) -> None:
        super().__init__()
        if int(overpowering_epochs) < 1 or int(window) < 1 or int(oscillation_epochs) < 3:
            raise ValueError(
                "overpowering_epochs and window must be >= 1 and oscillation_epochs >= 3."
            )
        self.noise = None if noise is None else np.asarray(noise, dtype=np.float32)
        self.space = space
        self.space_of = space_of
        self.real_samples = real_samples
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.history_path = None if history_path is None else Path(history_path)
        self.accuracy_threshold = float(accuracy_threshold)
        self.overpowering_epochs = int(overpowering_epochs)
        self.collapse_drop = float(collapse_drop)
        self.collapse_floor = float(collapse_floor)
        self.coverage_drop = float(coverage_drop)
        self.window = int(window)
        self.divergence_factor = float(divergence_factor)
        self.oscillation_epochs = int(oscillation_epochs)
        self.oscillation_ratio = float(oscillation_ratio)
        self.loss_floor = float(loss_floor)
        self.verbose = verbose
        self.real_diversity: float | None = None
        self._writer: tf.summary.SummaryWriter | None = None
        self._fresh_fit = True
        self.reset()

    # -- state
    def reset(self) -> None:
        """Forget every epoch seen."""
        self.records: list[dict[str, float | None]] = []
        self.active: dict[str, bool] = dict.fromkeys(ALARMS, False)
        self.alarms: list[Alarm] = []

    def get_state(self) -> dict[str, Any]:
        """The monitor's state as JSON-serialisable data (the epochs' figures and alarms)."""
        return {
            "records": [dict(record) for record in self.records],
            "active": dict(self.active),
            "alarms": [asdict(alarm) for alarm in self.alarms],
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Rebuild the state by replaying the epochs' figures of `get_state`'s result."""
        self.reset()
        for record in state.get("records", []):
            self.observe(dict(record))

    # -- the detectors
    def _series(self, key: str) -> list[float]:
        return [r[key] for r in self.records if r.get(key) is not None]

    def _best_before(self, key: str) -> float | None:
        values = [r[key] for r in self.records[:-1] if r.get(key) is not None]
        return max(values) if values else None

    def _overpowering(self) -> str | None:
        recent = self.records[-self.overpowering_epochs :]
        if len(recent) < self.overpowering_epochs or any(
            r.get("d_accuracy") is None or r.get("g_loss") is None for r in recent
        ):
            return None
        lowest = min(r["d_accuracy"] for r in recent)
        first, last = recent[0]["g_loss"], recent[-1]["g_loss"]
        if lowest < self.accuracy_threshold or not last > first:
            return None
        return (
            f"D overpowering G (vanishing gradients): D right on >= {lowest:.1%} of its "
            f"decisions for {len(recent)} epochs while g_loss rose {first:.3g} -> {last:.3g}"
        )

    def _collapse(self) -> str | None:
        record = self.records[-1]
        diversity, coverage = record.get("sample_diversity"), record.get("class_coverage")
        best = self._best_before("sample_diversity")
        real = self.real_diversity
        if real and diversity is not None and diversity >= real:
            best = None  # still as diverse as the data: a fall from noise-like early samples
        if diversity is not None and best is not None and diversity < self.collapse_drop * best:
            return (
                f"sample diversity fell to {diversity:.3g}, "
                f"{diversity / best:.0%} of its best {best:.3g}"
            )
        if diversity is not None and real and diversity < self.collapse_floor * real:
            return (
                f"sample diversity {diversity:.3g} is {diversity / real:.0%} "
                f"of the real data's {real:.3g}"
            )
        best = self._best_before("class_coverage")
        if coverage is not None and best and coverage < (1.0 - self.coverage_drop) * best:
            return f"the samples cover {coverage:.0f} classes, down from {best:.0f}"
        return None

    def _divergence(self, skip: tuple[str, ...]) -> str | None:
        for key in _LOSSES:
            if key in skip:
                continue
            values = self._series(key)
            if len(values) < 3 or self.records[-1].get(key) is None:
                continue
            reference = max(float(np.median(np.abs(values[-self.window - 1 : -1]))), 0.0)
            reference = max(reference, self.loss_floor)
            if abs(values[-1]) > self.divergence_factor * reference:
                return (
                    f"{key} ran away to {values[-1]:.3g}, "
                    f"{abs(values[-1]) / reference:.0f}x its recent level {reference:.3g}"
                )
        return None

    def _oscillation(self) -> str | None:
        for key in _LOSSES:
            values = np.asarray(self._series(key)[-self.oscillation_epochs :])
            if len(values) < self.oscillation_epochs:
                continue
            steps = np.diff(values)
            signs = np.sign(steps)
            if np.any(signs == 0) or np.any(signs[1:] == signs[:-1]):
                continue
            swing = float(np.mean(np.abs(steps)))
            level = max(float(np.mean(np.abs(values))), self.loss_floor)
            if swing >= self.oscillation_ratio * level:
                return (
                    f"{key} went up and down in turn for {len(values)} "
                    f"epochs, swinging {swing:.3g} ({swing / level:.0%} of its level)"
                )
        return None

    def observe(self, record: dict[str, float | None]) -> list[Alarm]:
        """Add one completed epoch's figures and check every alarm.

        Args:
            record: `epoch` (0-based) and `d_accuracy`, `d_loss`, `g_loss`,
                `sample_diversity`, `class_coverage` (each may be `None`).

        Returns:
            The alarms whose condition started to hold at this epoch.
        """
        self.records.append(record)
        found = {"d_overpowering": self._overpowering(), "mode_collapse": self._collapse()}
        skip = ("g_loss",) if found["d_overpowering"] else ()
        found["divergence"] = self._divergence(skip)
        found["oscillation"] = self._oscillation()
        raised = []
        for name in ALARMS:
            message = found[name]
            if message and not self.active[name]:
                raised.append(Alarm(int(record["epoch"]) + 1, name, message))
            self.active[name] = message is not None
        self.alarms.extend(raised)
        return raised

    # -- measuring
    def _embed(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        space = self.space
        if space is None:
            return pixel_features(samples), None
        output = space.embed(samples) if hasattr(space, "embed") else space(samples)
        if isinstance(output, tuple):
            return np.asarray(output[0]), None if output[1] is None else np.asarray(output[1])
        return np.asarray(output), None

    def measure(self) -> dict[str, float | None]:
        """`sample_diversity` and `class_coverage` of the generator's samples on `noise` now."""
        if self.noise is None:
            return {"sample_diversity": None, "class_coverage": None}
        samples = self.model.generate(self.noise)
        if not np.all(np.isfinite(samples)):
            return {"sample_diversity": None, "class_coverage": None}
        try:
            features, probabilities = self._embed(samples)
        except ValueError as error:  # e.g. samples outside a feature space's [-1, 1]
            logger.warning("No sample diversity this epoch: %s", one_line(error))
            return {"sample_diversity": None, "class_coverage": None}
        coverage = None if probabilities is None else class_coverage(probabilities)
        return {"sample_diversity": sample_diversity(features), "class_coverage": coverage}

    # -- Keras hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        if self.space is None and self.space_of is not None:
            self.space = getattr(self.space_of, "space", None)
        if self.real_samples is not None and self.real_diversity is None:
            real = self.real_samples[:_MAX_REAL]  # bounds the pairwise distances' memory
            self.real_diversity = sample_diversity(self._embed(real)[0])
        if self.log_dir is not None:
            self._writer = WRITERS.acquire(self.log_dir)
        self._fresh_fit = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_begin(epoch, logs)
        if not self._fresh_fit:
            return
        self._fresh_fit = False
        if self.history_path is not None:
            self.set_state({"records": self._read_history(epoch)})
        else:
            self.set_state({"records": [r for r in self.records if r["epoch"] < epoch]})

    def _read_history(self, epoch: int) -> list[dict[str, float | None]]:
        try:
            with self.history_path.open(newline="") as stream:
                rows = [row for row in csv.DictReader(stream) if row.get("epoch")]
        except (OSError, csv.Error, ValueError):
            return []  # no history (a new run) or an unreadable one: start afresh
        records = []
        for row in rows:
            values = {}
            for key, value in row.items():
                with contextlib.suppress(TypeError, ValueError):
                    values[key] = float(value)
            if "epoch" in values and values["epoch"] < epoch:
                records.append(epoch_figures(values))
        return sorted(records, key=lambda record: record["epoch"])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        values = scalar_logs(logs)
        if not self._epoch_completed():  # cut short: a NaN stop has been reported by its guard
            return
        values.update(self.measure())
        raised = self.observe(epoch_figures({**values, "epoch": float(epoch)}))
        if logs is not None:
            measured = ("sample_diversity", "class_coverage")
            logs.update({key: values[key] for key in measured if values[key] is not None})
            logs["alarms"] = float(sum(self.active.values()))
            logs.update({f"alarm_{name}": 1.0 for name in ALARMS if self.active[name]})
        for alarm in raised:
            if self.verbose:
                print(alarm.line(), file=sys.stderr, flush=True)
            if self._writer is not None:
                with self._writer.as_default():
                    tf.summary.text(f"alarms/{alarm.name}", alarm.line(), step=alarm.epoch)
        if raised and self._writer is not None:
            self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            WRITERS.release(self.log_dir)
            self._writer = None


def epoch_figures(values: dict[str, float]) -> dict[str, float | None]:
    """The figures the monitor keeps of one epoch, from its logs or its `history.csv` row.

    `d_accuracy` is the mean of `d_real_accuracy` and `d_fake_accuracy` when absent.
    """
    accuracy = values.get("d_accuracy")
    if accuracy is None and "d_real_accuracy" in values and "d_fake_accuracy" in values:
        accuracy = (values["d_real_accuracy"] + values["d_fake_accuracy"]) / 2
    keys = ("d_loss", "g_loss", "sample_diversity", "class_coverage")
    return {
        "epoch": int(values["epoch"]),
        "d_accuracy": accuracy,
        **{key: values.get(key) for key in keys},
    }
