"""`LossHistory`: `history.csv` and `losses.png`, rewritten atomically after every epoch.

A resumed run first drops the rows of the epochs it is about to redo; FID and KID (from an
`EvaluationCallback` before it) get a panel of their own. See `docs/callbacks.md`.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from keras_gan import files
from keras_gan.callbacks.base import LOSS_KEYS, EpochAware, figure_png, scalar_logs

__all__ = ["LossHistory"]

logger = logging.getLogger(__name__)

_DISCRIMINATOR_KEYS = ("d_real", "d_fake", "d_accuracy")
_QUALITY_KEYS = ("fid", "kid")


class LossHistory(EpochAware):
    """The logs of every completed epoch as a CSV file and a plot.

    `csv_path` gets one row per completed epoch (0-based `epoch`, as in Keras's `CSVLogger`)
    and `plot_path` the players' losses, D's outputs and, once any row has one, FID and KID
    (epochs without an evaluation have empty cells and are skipped in that panel); both are
    rewritten atomically after every epoch. Used instead of `keras.callbacks.CSVLogger`
    because a resumed run must first drop the rows of epochs it is about to redo (logged after
    the checkpoint it resumes from, before a crash), because its columns may grow after the
    first epoch (`fid` at the first evaluation), and because half-written lines must never
    appear.

    Args:
        csv_path: the CSV file; rows already in it are kept up to the epoch training starts at.
        plot_path: the PNG plot, or `None` for no plot.
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
        row = {"epoch": str(epoch), **{k: repr(v) for k, v in scalar_logs(logs).items()}}
        self.rows.append(row)
        self._write_csv()
        if self.plot_path is not None:
            files.write_bytes_atomically(self.plot_path, figure_png(self.plot()))

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
        files.write_bytes_atomically(self.csv_path, buffer.getvalue().encode())

    def _values(self, key: str) -> np.ndarray:
        return np.array([float(row[key]) if row.get(key) else np.nan for row in self.rows])

    def plot(self) -> Figure:
        """Losses, the discriminator's outputs and (when evaluated) FID and KID by epoch."""
        epochs = np.array([int(float(row["epoch"])) + 1 for row in self.rows])
        quality = not np.all(np.isnan(self._values("fid")))
        panels = 3 if quality else 2
        figure = Figure(figsize=(5 * panels, 4))
        marker = "o" if len(epochs) < 30 else None
        for index, (title, keys) in enumerate(
            (("Losses", LOSS_KEYS), ("Discriminator outputs", _DISCRIMINATOR_KEYS))
        ):
            axes = figure.add_subplot(1, panels, index + 1)
            for key in keys:
                values = self._values(key)
                if not np.all(np.isnan(values)):
                    axes.plot(epochs, values, marker=marker, label=key)
            axes.set_title(title)
            axes.set_xlabel("epoch")
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.grid(alpha=0.3)
            if axes.lines:
                axes.legend()
        if quality:
            self._plot_quality(figure.add_subplot(1, panels, panels), epochs)
        figure.tight_layout()
        return figure

    def _plot_quality(self, axes: Any, epochs: np.ndarray) -> None:
        """FID (left axis) and KID (right axis) at the evaluated epochs only."""
        twin = axes.twinx()
        for key, target, colour in zip(_QUALITY_KEYS, (axes, twin), ("C0", "C1"), strict=True):
            values = self._values(key)
            kept = ~np.isnan(values)
            target.plot(epochs[kept], values[kept], marker="o", color=colour, label=key)
            target.set_ylabel(key.upper(), color=colour)
        axes.set_title("Sample quality (lower is better)")
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
