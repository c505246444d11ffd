"""Keras callbacks that make a GAN run watchable, stoppable and resumable.

Use them from any ``gan.fit`` call, exactly like Keras's own callbacks::

    gan.fit(dataset, epochs=20, callbacks=[
        SampleGrid("run/samples", log_dir="run/logs"),    # PNG grid per epoch + TensorBoard
        TensorBoardLogger("run/logs"),                      # scalars per step and per epoch
        LossHistory("run/history.csv", "run/losses.png"),   # CSV + plot, updated every epoch
        TrainingCheckpoint("run/checkpoints"),              # full state; Ctrl-C saves and stops
        ExportGenerator("run/generator.keras"),             # the generator alone, at the end
    ])

Checkpoint format (see :class:`TrainingCheckpoint`): ``ckpt-<step:09d>.keras`` holds both
networks, both optimizers and the noise RNG (``GAN.save``); ``ckpt-<step:09d>.json``, written
after the ``.keras`` file is in place, says which epoch and step it belongs to and holds the
networks' own random states (e.g. Dropout's, which ``model.save`` omits). A checkpoint
counts only once its JSON exists and its ``.keras`` file passes a zip integrity check, so a
process killed at any moment leaves the previous complete checkpoint discoverable by
:func:`latest_checkpoint`. Every file is written to a temporary name in the same folder,
fsynced and moved into place with ``os.replace`` (:func:`write_atomically`).

An epoch cut short (Ctrl-C, SIGTERM, or another callback setting ``model.stop_training``
mid-epoch) is not logged as an epoch by :class:`LossHistory` and :class:`TensorBoardLogger`, and
its checkpoint records it as not completed, so a resumed run repeats that epoch from its start.

Non-finite values: once a loss in ``logs`` is NaN or infinite, :class:`StopOnNonFinite` stops
training, the epoch counts as cut short for every callback here, and no checkpoint or generator
is written whose weights or optimizer state hold a NaN or an infinity (:func:`state_is_finite`),
so the newest checkpoint on disk is the last good one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from keras_gan import latent
from keras_gan.gan import sampling_generator

__all__ = [
    "CheckpointInfo",
    "ExportGenerator",
    "LossHistory",
    "NonFiniteLoss",
    "SampleGrid",
    "StopOnNonFinite",
    "TensorBoardLogger",
    "TrainingCheckpoint",
    "find_checkpoints",
    "is_complete_keras_file",
    "latest_checkpoint",
    "non_finite_loss",
    "remove_temporary_files",
    "restore_seed_states",
    "seed_states",
    "state_is_finite",
    "training_step",
    "write_atomically",
]

logger = logging.getLogger("keras_gan.callbacks")

CHECKPOINT_PATTERN = re.compile(r"^ckpt-(?P<step>\d{9})\.json$")
CHECKPOINT_FORMAT_VERSION = 1
TEMP_PREFIX = ".tmp-"
_KERAS_ARCHIVE_MEMBERS = frozenset({"config.json", "metadata.json", "model.weights.h5"})
_LOSS_KEYS = ("d_loss", "g_loss", "gradient_penalty")
_DISCRIMINATOR_KEYS = ("d_real", "d_fake", "d_accuracy")


# ------------------------------------------------------------------------------- file helpers
def _fsync_directory(directory: Path) -> None:
    """Persist a rename on POSIX; a no-op where directories cannot be opened (Windows)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Create ``path`` so that readers see the old file or the complete new one, never half.

    ``write(temp_path)`` writes the content to a temporary file in the same folder whose name
    ends like ``path`` (``model.save`` insists on ``.keras``); the file is then fsynced and
    moved over ``path`` with ``os.replace``, and the folder fsynced so the rename survives a
    crash. The temporary file is removed if ``write`` fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        write(temp)
        descriptor = os.open(temp, os.O_RDWR)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_directory(path.parent)
    return path


def _write_bytes_atomically(path: Path, content: bytes) -> Path:
    return write_atomically(path, lambda temp: temp.write_bytes(content))


def remove_temporary_files(directory: str | os.PathLike) -> int:
    """Delete the leftovers of interrupted atomic writes in ``directory``; returns how many."""
    removed = 0
    for leftover in Path(directory).glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed += 1
    return removed


# ------------------------------------------------------------------------------- model probes
def _optimizers(model: keras.Model) -> dict[str, keras.optimizers.Optimizer]:
    """The GAN's two optimizers by role, or a plain model's one optimizer."""
    found = {
        role: getattr(model, f"{role}_optimizer", None)
        for role in ("d", "g")
        if getattr(model, f"{role}_optimizer", None) is not None
    }
    if not found and getattr(model, "optimizer", None) is not None:
        found[""] = model.optimizer
    return found


def training_step(model: keras.Model) -> int:
    """Training steps done so far, as counted by the generator optimizer's ``iterations``.

    The count is part of the saved optimizer state, so it continues across a resume: it is the
    step axis of the per-step TensorBoard scalars and names the checkpoints.
    """
    optimizers = _optimizers(model)
    optimizer = optimizers.get("g") or next(iter(optimizers.values()), None)
    if optimizer is None:
        return 0
    return int(ops.convert_to_numpy(optimizer.iterations))


def _learning_rates(model: keras.Model) -> dict[str, float]:
    """Current learning rate of each optimizer (schedules evaluated at the current step)."""
    rates = {}
    for role, optimizer in _optimizers(model).items():
        name = f"{role}_learning_rate" if role else "learning_rate"
        rates[name] = float(ops.convert_to_numpy(optimizer.learning_rate))
    return rates


def _scalar_logs(logs: dict | None) -> dict[str, float]:
    """The numeric entries of Keras's ``logs`` as Python floats."""
    scalars = {}
    for name, value in (logs or {}).items():
        with contextlib.suppress(TypeError, ValueError):
            scalars[name] = float(np.asarray(value))
    return scalars


@dataclass(frozen=True)
class NonFiniteLoss:
    """A NaN or infinite value of ``name`` in the logs at training step ``step``."""

    step: int
    name: str
    value: float


def non_finite_loss(logs: dict | None) -> tuple[str, float] | None:
    """The first numeric entry of Keras's ``logs`` that is NaN or infinite (the losses
    first), or None."""
    values = _scalar_logs(logs)
    for name in sorted(values, key=lambda key: key not in _LOSS_KEYS):
        if not np.isfinite(values[name]):
            return name, values[name]
    return None


def _model_state(model: keras.Model) -> list[Any]:
    """Every variable a checkpoint of ``model`` holds: the networks' and the optimizers'."""
    variables = list(model.weights)
    for optimizer in _optimizers(model).values():
        variables.extend(optimizer.variables)
    return variables


def state_is_finite(model: keras.Model) -> bool:
    """Whether every floating-point weight and optimizer variable of ``model`` is finite."""
    for variable in _model_state(model):
        value = ops.convert_to_numpy(variable)
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            return False
    return True


def seed_states(model: keras.Model) -> dict[str, list[list[int]]]:
    """The state of every ``SeedGenerator`` inside the GAN's networks (e.g. each Dropout
    layer's), in layer order: ``model.save`` does not keep them, so a checkpoint records them in
    its JSON for a resumed run to continue the same random streams."""
    states = {}
    for role in ("generator", "discriminator"):
        network = getattr(model, role, None)
        if network is not None:
            states[role] = [
                ops.convert_to_numpy(variable).tolist()
                for variable in network.variables
                if variable.path.endswith("seed_generator_state")
            ]
    return states


def restore_seed_states(model: keras.Model, states: dict[str, list[list[int]]] | None) -> int:
    """Put back states recorded by :func:`seed_states`; returns how many were restored (none
    when the networks' layers do not match the record)."""
    restored = 0
    for role, values in (states or {}).items():
        network = getattr(model, role, None)
        variables = (
            []
            if network is None
            else [
                variable
                for variable in network.variables
                if variable.path.endswith("seed_generator_state")
            ]
        )
        if len(variables) != len(values):
            logger.warning("Not restoring the %s's random states: its layers do not match.", role)
            continue
        for variable, value in zip(variables, values, strict=True):
            variable.assign(np.asarray(value, dtype=variable.dtype))
            restored += 1
    return restored


class _EpochAware(keras.callbacks.Callback):
    """Counts the steps of the running epoch to tell a finished epoch from one cut short, and
    remembers a non-finite loss (after which no epoch counts as finished)."""

    def __init__(self) -> None:
        super().__init__()
        self._batches_this_epoch = 0
        self._non_finite = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._non_finite = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._batches_this_epoch = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        # ``batch`` is the epoch's last step index run (several per call with
        # steps_per_execution > 1).
        self._batches_this_epoch = max(self._batches_this_epoch + 1, int(batch) + 1)
        if non_finite_loss(logs) is not None:
            self._non_finite = True

    def _epoch_completed(self) -> bool:
        """False when training was stopped before the epoch's last batch or a loss went NaN."""
        if self._non_finite:
            return False
        if not self.model.stop_training:
            return True
        steps = self.params.get("steps") if self.params else None
        return steps is not None and self._batches_this_epoch >= steps


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop training at the first step whose logs hold a NaN or infinite loss.

    Unlike ``keras.callbacks.TerminateOnNaN`` it records what happened in :attr:`event` (a
    :class:`NonFiniteLoss`) and it checks every numeric log (``d_loss``, ``g_loss``, ...). The
    other callbacks of this module write nothing from the poisoned state.
    """

    def __init__(self) -> None:
        super().__init__()
        self.event: NonFiniteLoss | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.event = None

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        found = non_finite_loss(logs)
        if found is not None and self.event is None:
            self.event = NonFiniteLoss(training_step(self.model), *found)
            self.model.stop_training = True
            logger.error(
                "Step %d: %s is %s; stopping without saving this state.", self.event.step, *found
            )


# ------------------------------------------------------------------------------- TensorBoard
class _SharedWriters:
    """One ``tf.summary`` writer per log folder, shared by the callbacks of a process.

    TensorBoard follows only the newest event file of a folder while it grows, so two writers
    appending to two files in one folder would hide one of them from a live dashboard.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writers: dict[str, list[Any]] = {}

    def acquire(self, log_dir: str | os.PathLike) -> tf.summary.SummaryWriter:
        key = os.path.realpath(log_dir)
        with self._lock:
            if key not in self._writers:
                os.makedirs(key, exist_ok=True)
                self._writers[key] = [tf.summary.create_file_writer(key), 0]
            self._writers[key][1] += 1
            return self._writers[key][0]

    def release(self, log_dir: str | os.PathLike) -> None:
        key = os.path.realpath(log_dir)
        with self._lock:
            entry = self._writers.get(key)
            if entry is None:
                return
            entry[1] -= 1
            entry[0].flush()
            if entry[1] <= 0:
                entry[0].close()
                del self._writers[key]


_WRITERS = _SharedWriters()


class TensorBoardLogger(_EpochAware):
    """Scalars for TensorBoard: every metric in ``logs`` and both learning rates.

    Per-step scalars are tagged ``batch/<name>`` (every ``update_freq`` steps; the step axis is
    :func:`training_step`, so it continues after a resume) and hold the epoch's running mean,
    as Keras's progress bar shows it. Per-epoch scalars are tagged ``epoch/<name>`` with the
    number of completed epochs (1-based, like the sample file names) as step.

    Written with ``tf.summary`` rather than ``keras.callbacks.TensorBoard`` because that one
    logs only ``model.optimizer``'s learning rate (a GAN has two optimizers and no
    ``model.optimizer``) and restarts its batch counter at 0 in every ``fit``, which would fold
    a resumed run's per-step curves back onto the first run's.
    """

    def __init__(self, log_dir: str | os.PathLike, update_freq: int | str = 10) -> None:
        super().__init__()
        if update_freq != "epoch" and (not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(
                f"update_freq must be a positive integer or 'epoch', got {update_freq!r}."
            )
        self.log_dir = Path(log_dir)
        self.update_freq = update_freq
        self._writer: tf.summary.SummaryWriter | None = None
        self._last_step = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        self._writer = _WRITERS.acquire(self.log_dir)
        self._last_step = training_step(self.model)

    def _write(self, prefix: str, values: dict[str, float], step: int) -> None:
        with self._writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(f"{prefix}/{name}", value, step=step)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        super().on_train_batch_end(batch, logs)
        if self.update_freq == "epoch" or self._writer is None:
            return
        step, previous = training_step(self.model), self._last_step
        self._last_step = step
        if step // self.update_freq > previous // self.update_freq:  # crossed a multiple
            values = {**_scalar_logs(logs), **_learning_rates(self.model)}
            self._write("batch", values, step)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._writer is None or not self._epoch_completed():
            return
        self._write("epoch", {**_scalar_logs(logs), **_learning_rates(self.model)}, epoch + 1)
        self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            _WRITERS.release(self.log_dir)
            self._writer = None


# ------------------------------------------------------------------------------- samples
def _figure_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


class SampleGrid(_EpochAware):
    """The generator's output on the same fixed noise, as a PNG per epoch and in TensorBoard.

    Images become one grid (``latent.image_grid``) written to
    ``directory/epoch_0001.png`` (1-based epoch numbers). Two-dimensional points (the Gaussian
    toy) become a scatter plot of ``real_samples`` against the generated points instead, on
    axes fixed by the real data so that the frames can be compared. With ``log_dir`` the same
    picture is logged as the TensorBoard image ``samples`` at the epoch number. For a
    conditional GAN the grid has one row per class, the columns sharing the same noise.

    Args:
        directory: where the PNG files go.
        noise: the fixed ``(n, latent_dim)`` noise; by default ``num_samples`` vectors are drawn
            from ``seed`` when training starts (read them back from ``self.noise`` to keep them).
        every: write every ``every`` epochs (and always after the last one); an epoch cut
            short is not drawn.
        log_dir: TensorBoard log folder, or None for PNG files only.
        real_samples: real points drawn on 2-D scatter plots.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        noise: np.ndarray | None = None,
        num_samples: int = 64,
        every: int = 1,
        log_dir: str | os.PathLike | None = None,
        real_samples: np.ndarray | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}.")
        self.directory = Path(directory)
        self.noise = None if noise is None else np.asarray(noise, dtype="float32")
        self.num_samples = int(num_samples)
        self.every = every
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.real_samples = None if real_samples is None else np.asarray(real_samples)
        self.seed = seed
        self.last_path: Path | None = None
        self._writer: tf.summary.SummaryWriter | None = None
        self._limits: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._warned = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        latent_dim = int(self.model.latent_dim)
        if self.noise is None:
            self.noise = latent.sample_noise(self.num_samples, latent_dim, seed=self.seed)
        if self.noise.ndim != 2 or self.noise.shape[1] != latent_dim:
            raise ValueError(
                f"Sample noise has shape {self.noise.shape}; the generator needs (n, {latent_dim})."
            )
        if self.log_dir is not None:
            self._writer = _WRITERS.acquire(self.log_dir)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self._epoch_completed():
            return
        number = epoch + 1
        last_epoch = self.params.get("epochs") if self.params else None
        if number % self.every == 0 or number == last_epoch:
            self.write(number)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            _WRITERS.release(self.log_dir)
            self._writer = None

    def render(self) -> np.ndarray | None:
        """The current picture as uint8 pixels (H, W) or (H, W, 3), or None if not drawable."""
        if getattr(self.model, "conditional", False) and len(self.model.generator.output_shape) > 2:
            return self._class_rows()
        samples = self.model.generate(self.noise)
        if samples.ndim in (3, 4):
            return latent.image_grid(samples)
        if samples.ndim == 2 and samples.shape[1] == 2:
            png = _figure_png(self._scatter(samples))
            return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        if not self._warned:
            logger.warning("SampleGrid cannot draw samples of shape %s; skipping.", samples.shape)
            self._warned = True
        return None

    def _class_rows(self) -> np.ndarray:
        """A conditional generator's grid: one row per class, the same noise in each column."""
        classes = int(self.model.num_classes)
        per_class = latent.grid_shape(len(self.noise))[1]
        noise = np.tile(self.noise[:per_class], (classes, 1))
        labels = np.repeat(np.arange(classes, dtype="int32"), per_class)
        return latent.image_grid(self.model.generate(noise, labels=labels), cols=per_class)

    def write(self, epoch_number: int) -> Path | None:
        """Draw the samples now and save them as ``epoch_<epoch_number:04d>.png``."""
        pixels = self.render()
        if pixels is None:
            return None
        path = _write_bytes_atomically(
            self.directory / f"epoch_{epoch_number:04d}.png", _png(pixels)
        )
        if self._writer is not None:
            image = pixels[None, ..., None] if pixels.ndim == 2 else pixels[None]
            with self._writer.as_default():
                tf.summary.image("samples", image, step=epoch_number)
            self._writer.flush()
        self.last_path = path
        return path

    def _scatter(self, generated: np.ndarray) -> Figure:
        if self._limits is None:
            reference = self.real_samples if self.real_samples is not None else generated
            low, high = np.percentile(reference, [0.5, 99.5], axis=0)
            margin = 0.25 * (high - low) + 1e-3
            self._limits = (
                (low[0] - margin[0], high[0] + margin[0]),
                (low[1] - margin[1], high[1] + margin[1]),
            )
        figure = Figure(figsize=(5, 5))
        axes = figure.add_subplot()
        if self.real_samples is not None:
            axes.scatter(*self.real_samples[:, :2].T, s=4, alpha=0.3, label="real")
        axes.scatter(*generated.T, s=4, alpha=0.6, label="generated")
        axes.set_xlim(*self._limits[0])
        axes.set_ylim(*self._limits[1])
        axes.legend(loc="upper right")
        axes.set_title("real vs generated")
        figure.tight_layout()
        return figure


# ------------------------------------------------------------------------------- history
class LossHistory(_EpochAware):
    """``history.csv`` (one row per completed epoch, 0-based ``epoch`` as in Keras's
    ``CSVLogger``) and ``losses.png`` (the players' losses and D's outputs), rewritten
    atomically after every epoch.

    Used instead of ``keras.callbacks.CSVLogger`` because a resumed run must first drop the
    rows of epochs it is about to redo (logged after the checkpoint it resumes from, before a
    crash), and because half-written lines must never appear.
    """

    def __init__(
        self, csv_path: str | os.PathLike, plot_path: str | os.PathLike | None = None
    ) -> None:
        super().__init__()
        self.csv_path = Path(csv_path)
        self.plot_path = None if plot_path is None else Path(plot_path)
        self.rows: list[dict[str, str]] = []
        self._truncated = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        self.rows = self._read()
        self._truncated = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_begin(epoch, logs)
        if not self._truncated:
            self.rows = [row for row in self.rows if int(float(row["epoch"])) < epoch]
            self._truncated = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self._epoch_completed():
            return
        row = {"epoch": str(epoch), **{k: repr(v) for k, v in _scalar_logs(logs).items()}}
        self.rows.append(row)
        self._write_csv()
        if self.plot_path is not None:
            _write_bytes_atomically(self.plot_path, _figure_png(self.plot()))

    def _read(self) -> list[dict[str, str]]:
        if not self.csv_path.is_file():
            return []
        try:
            with self.csv_path.open(newline="") as stream:
                return [row for row in csv.DictReader(stream) if row.get("epoch")]
        except (OSError, csv.Error, ValueError):
            logger.warning("Cannot read %s; starting a new history.", self.csv_path)
            return []

    def _write_csv(self) -> None:
        columns: dict[str, None] = {"epoch": None}
        for row in self.rows:
            columns.update(dict.fromkeys(row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        _write_bytes_atomically(self.csv_path, buffer.getvalue().encode())

    def plot(self) -> Figure:
        """Losses (left) and the discriminator's outputs (right) against the epoch number."""
        figure = Figure(figsize=(10, 4))
        epochs = [int(float(row["epoch"])) + 1 for row in self.rows]
        marker = "o" if len(epochs) < 30 else None
        for index, (title, keys) in enumerate(
            (("Losses", _LOSS_KEYS), ("Discriminator outputs", _DISCRIMINATOR_KEYS))
        ):
            axes = figure.add_subplot(1, 2, index + 1)
            for key in keys:
                values = [float(row[key]) if row.get(key) else np.nan for row in self.rows]
                if not np.all(np.isnan(values)):
                    axes.plot(epochs, values, marker=marker, label=key)
            axes.set_title(title)
            axes.set_xlabel("epoch")
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.grid(alpha=0.3)
            if axes.lines:
                axes.legend()
        figure.tight_layout()
        return figure


# ------------------------------------------------------------------------------- checkpoints
@dataclass(frozen=True)
class CheckpointInfo:
    """One complete checkpoint: the ``.keras`` file and what its JSON says about it.

    ``epochs_completed`` is the number of whole epochs trained, i.e. the ``initial_epoch`` to
    resume at; ``step`` is :func:`training_step` when it was written; ``end_of_epoch`` is False
    for checkpoints written inside an epoch (every N steps, or on Ctrl-C); ``seed_states`` are
    the networks' own random states (:func:`seed_states`; restore them after loading).
    """

    path: Path
    metadata_path: Path
    epochs_completed: int
    step: int
    end_of_epoch: bool
    d_step: int | None = None
    written_at: str | None = None
    seed_states: dict[str, list[list[int]]] | None = None


def _read_checkpoint_metadata(metadata_path: Path) -> CheckpointInfo | None:
    try:
        metadata = json.loads(metadata_path.read_text())
        return CheckpointInfo(
            path=metadata_path.with_name(str(metadata["file"])),
            metadata_path=metadata_path,
            epochs_completed=int(metadata["epochs_completed"]),
            step=int(metadata["step"]),
            end_of_epoch=bool(metadata["end_of_epoch"]),
            d_step=metadata.get("d_step"),
            written_at=metadata.get("written_at"),
            seed_states=metadata.get("seed_states"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_checkpoints(directory: str | os.PathLike) -> list[CheckpointInfo]:
    """Checkpoints in ``directory`` with readable metadata and an existing ``.keras`` file,
    oldest first (by step, then epochs). Temporary files are ignored; archives are not checked
    (:func:`latest_checkpoint` does that)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for metadata_path in directory.iterdir():
        if not CHECKPOINT_PATTERN.match(metadata_path.name):
            continue
        info = _read_checkpoint_metadata(metadata_path)
        if info is not None and info.path.is_file():
            found.append(info)
    return sorted(found, key=lambda info: (info.step, info.epochs_completed))


def is_complete_keras_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an intact Keras archive: a zip whose CRCs check out and that holds
    the config, metadata and weights (a truncated or torn file fails)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist()) >= _KERAS_ARCHIVE_MEMBERS and archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def latest_checkpoint(directory: str | os.PathLike) -> CheckpointInfo | None:
    """The newest checkpoint in ``directory`` whose archive is intact, or None.

    A newer checkpoint with a damaged ``.keras`` file is skipped with a warning and the
    previous one is returned.
    """
    for info in reversed(find_checkpoints(directory)):
        if is_complete_keras_file(info.path):
            return info
        logger.warning("Skipping damaged checkpoint %s.", info.path)
    return None


class TrainingCheckpoint(_EpochAware):
    """Save the whole training state after every epoch, every ``every_steps`` steps and on
    Ctrl-C or SIGTERM; keep the newest ``keep``.

    Each checkpoint is ``ckpt-<step>.keras`` (``model.save``: both networks, both optimizers
    with their iteration counts, and the GAN's noise RNG state) plus ``ckpt-<step>.json``
    (``epochs_completed``, ``step``, ``d_step``, ``end_of_epoch``, ``seed_states``), each
    written atomically, the JSON last. Resume with ``keras.saving.load_model(info.path,
    safe_mode=True)``, :func:`restore_seed_states` and
    ``fit(initial_epoch=info.epochs_completed)``: a mid-epoch checkpoint restarts its epoch
    from the beginning, with the optimizers' counts as saved. When training starts, the
    folder's checkpoints from later steps than the model's are deleted (they belong to an
    abandoned continuation), so the newest checkpoint is always this run's.

    With ``save_on_interrupt`` the first SIGINT (Ctrl-C) or SIGTERM of the main thread no longer
    stops the process: training stops at the end of the current step, a checkpoint is saved,
    :attr:`interrupted` is set and :attr:`stop_signal` says which signal it was; a second one
    acts as usual (Ctrl-C raises ``KeyboardInterrupt``, SIGTERM terminates). :meth:`request_stop`
    does the same from code (any thread).

    Nothing is saved once a loss in the logs is NaN or infinite, nor while any weight or
    optimizer variable is (:func:`state_is_finite`): the newest checkpoint stays the last good
    one. ``every_steps`` counts optimizer steps, so it also works with ``steps_per_execution``.
    """

    SIGNALS: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)

    def __init__(
        self,
        directory: str | os.PathLike,
        every_steps: int | None = None,
        keep: int = 3,
        save_on_interrupt: bool = True,
    ) -> None:
        super().__init__()
        if every_steps is not None and (not isinstance(every_steps, int) or every_steps < 1):
            raise ValueError(
                f"every_steps must be a positive integer or None, got {every_steps!r}."
            )
        if not isinstance(keep, int) or keep < 1:
            raise ValueError(f"keep must be a positive integer, got {keep!r}.")
        self.directory = Path(directory)
        self.every_steps = every_steps
        self.keep = keep
        self.save_on_interrupt = save_on_interrupt
        self.interrupted = False
        self.stop_signal: int | None = None
        self.last_checkpoint: CheckpointInfo | None = None
        self.skipped_non_finite = 0
        self._stop_requested = threading.Event()
        self._previous_handlers: dict[int, Any] = {}
        self._epoch = 0
        self._last_step = 0

    # -- stopping
    def request_stop(self) -> None:
        """Stop after the current step with a checkpoint, as Ctrl-C does."""
        self._stop_requested.set()

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stop_signal = signum
        self._stop_requested.set()
        self.restore_signal_handlers()
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        again = "Ctrl-C again to abort" if signum == signal.SIGINT else "send it again to kill"
        print(
            f"\n{name}: saving a checkpoint and stopping after this step ({again} at once).",
            file=sys.stderr,
            flush=True,
        )

    def _install_handlers(self) -> None:
        if not self.save_on_interrupt or threading.current_thread() is not threading.main_thread():
            return
        for signum in self.SIGNALS:
            previous = signal.getsignal(signum)
            if previous is None:  # set from C; Python cannot restore it, use the default
                previous = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
            self._previous_handlers[signum] = previous
            signal.signal(signum, self._on_signal)

    def restore_signal_handlers(self) -> None:
        """Put back the SIGINT/SIGTERM handlers found when training started (idempotent;
        ``fit`` does it at the end, call it yourself if ``fit`` raised)."""
        while self._previous_handlers:
            signum, handler = self._previous_handlers.popitem()
            signal.signal(signum, handler)

    # -- Keras hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        self.directory.mkdir(parents=True, exist_ok=True)
        remove_temporary_files(self.directory)
        self._last_step = training_step(self.model)
        self._discard_checkpoints_after(self._last_step)
        self.interrupted = False
        self.stop_signal = None
        self._stop_requested.clear()
        self._install_handlers()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_begin(epoch, logs)
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        super().on_train_batch_end(batch, logs)
        step, previous = training_step(self.model), self._last_step
        self._last_step = step
        if self._non_finite:
            self.model.stop_training = True
            return
        steps = self.params.get("steps") if self.params else None
        last_batch = steps is not None and self._batches_this_epoch >= steps
        if self._stop_requested.is_set():
            self._stop_requested.clear()
            self.interrupted = True
            self.model.stop_training = True
            if not last_batch:  # the end of the epoch saves it otherwise
                self.save(self._epoch, end_of_epoch=False)
            return
        every = self.every_steps
        if every and not last_batch and step // every > previous // every:
            self.save(self._epoch, end_of_epoch=False)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._stop_requested.is_set():
            self._stop_requested.clear()
            self.interrupted = True
            self.model.stop_training = True
        if self._epoch_completed():
            self.save(epoch + 1, end_of_epoch=True)

    def on_train_end(self, logs: dict | None = None) -> None:
        self.restore_signal_handlers()

    # -- writing
    def save(self, epochs_completed: int, end_of_epoch: bool) -> CheckpointInfo | None:
        """Write a checkpoint of the model as it is now and prune old ones; None (nothing
        written) when the state holds a NaN or an infinity."""
        if not state_is_finite(self.model):
            self.skipped_non_finite += 1
            logger.error(
                "Not checkpointing step %d: the weights hold NaN or infinite values.",
                training_step(self.model),
            )
            return None
        step = training_step(self.model)
        name = f"ckpt-{step:09d}"
        keras_path = self.directory / f"{name}.keras"
        metadata_path = self.directory / f"{name}.json"
        d_optimizer = getattr(self.model, "d_optimizer", None)
        d_step = None if d_optimizer is None else int(ops.convert_to_numpy(d_optimizer.iterations))
        write_atomically(keras_path, self.model.save)
        metadata = {
            "format": CHECKPOINT_FORMAT_VERSION,
            "file": keras_path.name,
            "epochs_completed": int(epochs_completed),
            "step": step,
            "d_step": d_step,
            "end_of_epoch": bool(end_of_epoch),
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seed_states": seed_states(self.model),
        }
        _write_bytes_atomically(metadata_path, (json.dumps(metadata, indent=2) + "\n").encode())
        self.last_checkpoint = _read_checkpoint_metadata(metadata_path)
        self._prune()
        return self.last_checkpoint

    def _discard_checkpoints_after(self, step: int) -> None:
        """Delete checkpoints of later steps than the model's: they continue a past run from
        this point (e.g. the damaged newest one a resume skipped), and left in place they
        would be taken for this run's latest or push its own out of the ``keep`` newest."""
        for info in find_checkpoints(self.directory):
            if info.step > step:
                logger.warning("Removing %s: it is from after step %d.", info.path.name, step)
                with contextlib.suppress(OSError):
                    info.metadata_path.unlink()
                    info.path.unlink()

    def _prune(self) -> None:
        """Keep the newest ``keep`` checkpoints; drop older ones and orphaned archives (an
        archive whose JSON was never written because the process died in between)."""
        checkpoints = find_checkpoints(self.directory)
        for info in checkpoints[: -self.keep]:
            with contextlib.suppress(OSError):
                info.metadata_path.unlink()
                info.path.unlink()
        kept = {info.path.name for info in checkpoints[-self.keep :]}
        for archive in self.directory.glob("ckpt-*.keras"):
            if archive.name not in kept:
                with contextlib.suppress(OSError):
                    archive.unlink()


# ------------------------------------------------------------------------------- export
class ExportGenerator(keras.callbacks.Callback):
    """Save the generator alone (``model.sampling_generator``: the weight average when the GAN
    keeps one, else ``model.generator``) to ``path`` when training ends, also after an early
    stop or Ctrl-C; atomically, loadable with ``safe_mode=True``."""

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__()
        self.path = Path(path)
        if self.path.suffix != ".keras":
            raise ValueError(f"The generator file must end in .keras, got {self.path}.")

    def on_train_end(self, logs: dict | None = None) -> None:
        self.export()

    def export(self) -> Path | None:
        """Write the generator now; None (the file is left as it was) when the model's
        weights hold a NaN or an infinity."""
        if not state_is_finite(self.model):
            logger.error("Not exporting %s: the weights hold NaN or infinite values.", self.path)
            return None
        return write_atomically(self.path, sampling_generator(self.model).save)
