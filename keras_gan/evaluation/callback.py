"""`EvaluationCallback`: FID and KID every few epochs inside `fit`, keeping the best generator.

The figures go to `logs` (so later callbacks record them) and, with `log_dir`, to
TensorBoard; the generator with the lowest FID is saved atomically. Epochs cut short and
non-finite states are not evaluated. See docs/evaluation.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_gan.errors import one_line
from keras_gan.evaluation.classifier import domain_classifier
from keras_gan.evaluation.features import FeatureSpace
from keras_gan.evaluation.metrics import frechet_distance, kernel_distance
from keras_gan.evaluation.reference import matching_data_options, reference_images
from keras_gan.evaluation.scoring import generate_images
from keras_gan.files import write_atomically, write_text_atomically
from keras_gan.gan import sampling_generator
from keras_gan.networks.batch_norm import with_keras_batch_norm
from keras_gan.run_dir import RunPaths

__all__ = ["EvaluationCallback"]

logger = logging.getLogger("keras_gan.evaluation")


@contextlib.contextmanager
def _quiet_data_logs() -> Iterator[None]:
    """Hide the `keras_gan.data` logger's lines (the run has reported its data already)."""
    data_logger = logging.getLogger("keras_gan.data")
    level = data_logger.level
    data_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        data_logger.setLevel(level)


def _has_non_finite(logs: dict | None) -> bool:
    for value in (logs or {}).values():
        with contextlib.suppress(TypeError, ValueError):
            if not np.all(np.isfinite(np.asarray(value, dtype="float64"))):
                return True
    return False


class EvaluationCallback(keras.callbacks.Callback):
    """FID and KID every `every` epochs (and after the last one) during `gan.fit`.

    Sets `logs["fid"]`, `logs["kid"]` and `logs["kid_std"]` in `on_epoch_end`, so callbacks
    *after* it in the list (keras_gan's `LossHistory` and `TensorBoardLogger`, Keras's
    `History`, `CSVLogger`, `TensorBoard`, `EarlyStopping(monitor="fid")`) record them: put it
    before them (after a `StopOnNonFinite`). Keras's `CSVLogger` fixes its columns at the
    first epoch, so use `every=1` with it.

    An epoch cut short (a stop inside it, e.g. Ctrl-C or a NaN loss) is not evaluated, nor is
    anything after a NaN or infinite log value, nor a generator whose weights are not finite.
    An evaluation that fails (an error while generating, embedding or saving the best
    generator) is one logged line and leaves no figures for its epoch; training goes on.

    The `n` samples are drawn from the same noise (`seed`) each time; with the default 2,000
    FID is biased upwards compared to 10,000-sample figures, so compare epochs with each other,
    not with `evaluate`. The feature space and the real features are computed once, at the
    start of training.

    Args:
        dataset: the real data, for its domain classifier and reference images.
        space: the feature space; the domain classifier of `dataset` (trained at the start if
            not cached) when `None`.
        real_images: the real images; `n` of `reference_images(dataset)` when `None`.
        every: evaluate every this many epochs, and after the last one.
        n: generated samples (and real images) per evaluation.
        seed: the noise seed, the same at every evaluation.
        directory: where to save the generator with the lowest FID so far, as
            `generator_best.keras` with `generator_best.json` (epoch, FID, KID, feature space,
            `n`); a later `fit` in the same directory, space and `n` only replaces it with a
            better one (a run directory: `RunPaths.best_generator`).
        log_dir: write `epoch/fid` and `epoch/kid` scalars here (step = epochs completed);
            give it a folder of its own (e.g. `run/logs/evaluation`), as TensorBoard follows
            only the newest event file of a folder while it grows. Not needed with a
            `TensorBoardLogger` after this callback: it writes every scalar of `logs`.
        data_dir: passed to `keras_gan.data.load`.
        background: the colour transparent pixels of `dataset` are composited onto (the
            run's `background`), for the domain classifier and the reference images.
        kid_subsets: KID's number of subsets.
        verbose: print each evaluation on stderr (it is always logged to the
            `keras_gan.evaluation` logger).
    """

    def __init__(
        self,
        dataset: str | os.PathLike | None = None,
        *,
        space: FeatureSpace | None = None,
        real_images: np.ndarray | None = None,
        every: int = 1,
        n: int = 2000,
        seed: int = 0,
        directory: str | os.PathLike | None = None,
        log_dir: str | os.PathLike | None = None,
        data_dir: str | None = None,
        background: str = "white",
        kid_subsets: int = 50,
        verbose: bool = True,
    ) -> None:
        super().__init__()
        if int(every) < 1:
            raise ValueError(f"every must be at least 1, got {every}.")
        if int(n) < 2:
            raise ValueError(f"n must be at least 2, got {n}.")
        if space is None and dataset is None:
            raise ValueError("Give a dataset (for its domain classifier) or a feature space.")
        self.dataset = dataset
        self.space = space
        self.real_images = real_images
        self.every = int(every)
        self.n = int(n)
        self.seed = seed
        self.directory = None if directory is None else Path(directory)
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.data_dir = data_dir
        self.background = background
        self.kid_subsets = int(kid_subsets)
        self.verbose = verbose
        self.best_fid = math.inf
        self.history: list[dict[str, float]] = []
        self._real_features: np.ndarray | None = None
        self._writer: tf.summary.SummaryWriter | None = None
        self._non_finite = False
        self._batches = 0
        self._pending: list[tuple[int, str]] = []  # (level, line), said by _flush

    @property
    def best_path(self) -> Path | None:
        """`directory/generator_best.keras` (`None` without a directory)."""
        return None if self.directory is None else RunPaths(self.directory).best_generator

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._non_finite = False
        with _quiet_data_logs():
            self._prepare()
        self._load_best()
        carried = f"; best FID so far {self.best_fid:.3f}" if math.isfinite(self.best_fid) else ""
        self._say(
            f"Evaluating FID/KID every {self.every} epoch(s) on {self.n} samples in "
            f"{self.space.name} ({len(self._real_features)} real images){carried}"
        )
        self._flush()

    def _prepare(self) -> None:
        """The feature space, the real features and the TensorBoard writer, once."""
        options: dict[str, Any] = {"data_dir": self.data_dir, "background": self.background}
        if self.dataset is not None and (self.space is None or self.real_images is None):
            generator = sampling_generator(self.model)
            options.update(
                matching_data_options(self.dataset, generator.output_shape[1:], self.data_dir)
            )
        real = self.real_images
        if self._real_features is None and real is None:
            real, _, _ = reference_images(self.dataset, self.n, seed=self.seed, **options)
        if self.space is None:
            self.space = domain_classifier(self.dataset, verbose=self.verbose, **options)
        if self._real_features is None:
            self._real_features, _ = self.space.embed(real)
        if self.log_dir is not None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir))

    def _load_best(self) -> None:
        if self.best_path is None or not self.best_path.is_file():
            return
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            meta = json.loads(self.best_path.with_suffix(".json").read_text())
            if meta["feature_space"] == self.space.name and meta["n"] == self.n:
                self.best_fid = min(self.best_fid, float(meta["fid"]))

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._flush()
        self._batches = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batches = max(self._batches + 1, int(batch) + 1)
        if _has_non_finite(logs):
            self._non_finite = True

    def _due(self, epoch: int) -> bool:
        last = self.params.get("epochs") if self.params else None
        return (epoch + 1) % self.every == 0 or (last is not None and epoch + 1 == last)

    def _skip_reason(self) -> str | None:
        """Why the epoch just ended must not be evaluated, or `None`."""
        if self._non_finite:
            return "a loss became NaN or infinite"
        steps = self.params.get("steps") if self.params else None
        if self.model.stop_training and (steps is None or self._batches < steps):
            return "the epoch was cut short"
        weights = sampling_generator(self.model).weights
        if not all(np.all(np.isfinite(keras.ops.convert_to_numpy(w))) for w in weights):
            return "the generator's weights are not finite"
        return None

    def evaluate_now(self) -> dict[str, float]:
        """FID and KID of the model's generator now (used at the end of due epochs).

        Returns:
            `{"fid": ..., "kid": ..., "kid_std": ...}`.
        """
        images = generate_images(self.model, self.n, seed=self.seed)
        self.space.check_images(images, "Generated images")
        features, _ = self.space.embed(images)
        kid, kid_std = kernel_distance(
            self._real_features,
            features,
            num_subsets=self.kid_subsets,
            subset_size=min(1000, self.n),
            seed=self.seed,
        )
        return {
            "fid": frechet_distance(self._real_features, features),
            "kid": kid,
            "kid_std": kid_std,
        }

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self._due(epoch):
            return
        reason = self._skip_reason()
        if reason is not None:
            self._say(f"Epoch {epoch + 1}: not evaluated: {reason}.", logging.WARNING)
            return
        try:
            values = self.evaluate_now()
            improved = values["fid"] < self.best_fid
            if improved:
                self._save_best(epoch + 1, values)
        except Exception as error:  # which ones, and why: _failed
            self._failed(epoch, error)
            return
        if improved:
            self.best_fid = values["fid"]
        if logs is not None:
            logs.update(values)
        self.history.append({"epoch": epoch + 1, **values})
        if self._writer is not None:
            with self._writer.as_default():
                for name in ("fid", "kid"):
                    tf.summary.scalar(f"epoch/{name}", values[name], step=epoch + 1)
            self._writer.flush()
        mark = " (best, saved)" if improved and self.best_path else ""
        self._say(
            f"Epoch {epoch + 1}: FID {values['fid']:.3f}, KID {values['kid']:.5f} "
            f"[{self.space.name}, n={self.n}]{mark}"
        )

    def _failed(self, epoch: int, error: Exception) -> None:
        """One line for an evaluation that failed; training goes on.

        An evaluation is all or nothing: its figures stay out of `logs` (empty cells in
        `history.csv`), the best FID stays as it was (and `generator_best.keras` too, unless
        only its `.json` could not be written), and the next due epoch is evaluated again.
        Only `Exception`s get here: Ctrl-C, SIGTERM and `SystemExit` are `BaseException`s and
        stop the run as anywhere else, and a NaN stop never reaches an evaluation.
        Out-of-memory errors (`MemoryError`, TensorFlow's `ResourceExhaustedError`) are caught
        too: the memory the evaluation took (its `n` images and their features) is freed with
        it, while training needs no more than before.
        A full disk also gets here, and stops the run at the checkpoint written right after.
        """
        logger.debug("The failed evaluation's traceback:", exc_info=error)
        self._say(
            f"Epoch {epoch + 1}: evaluation failed ({type(error).__name__}: "
            f"{one_line(error, 300)}); training goes on.",
            logging.WARNING,
        )

    def _say(self, message: str, level: int = logging.INFO) -> None:
        """Queue one line; `_flush` says it once Keras's progress bar has ended its line.

        Keras runs its `ProgbarLogger` after the user's callbacks, so a line said in
        `on_epoch_end` would land on the end of the epoch's unfinished progress line.
        """
        self._pending.append((level, message))

    def _flush(self) -> None:
        for level, message in self._pending:
            logger.log(level, message)
            if self.verbose and level == logging.INFO:
                print(message, file=sys.stderr, flush=True)
        self._pending.clear()

    def _save_best(self, epoch: int, values: dict[str, float]) -> None:
        if self.best_path is None:
            return
        generator = with_keras_batch_norm(sampling_generator(self.model))
        write_atomically(self.best_path, generator.save)
        meta = {"epoch": epoch, **values, "feature_space": self.space.name, "n": self.n}
        write_text_atomically(
            self.best_path.with_suffix(".json"), json.dumps(meta, indent=2) + "\n"
        )

    def on_train_end(self, logs: dict | None = None) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
