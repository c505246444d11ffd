"""Evaluation faults: a damaged cached domain classifier is rebuilt, and an evaluation that fails
mid-run is one line while training goes on; on a tiny labelled .npz (4 classes of 8x8
quadrants), real files damaged on disk and a real `fit` of a tiny GAN."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import logging.handlers
import math
import os
import re
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
import tiny_gans

from keras_gan import data, evaluation
from keras_gan.callbacks import LossHistory
from keras_gan.evaluation.classifier import _cached_classifier, _dataset_key
from keras_gan.files import TEMP_PREFIX, is_complete_keras_file
from keras_gan.run_dir import RunPaths


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """The module's classifier cache (never the user's), offline."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(evaluation.CACHE_ENV, str(folder))
        patch.setenv("KERAS_GAN_OFFLINE", "1")
        yield folder


@pytest.fixture(scope="module")
def quadrants(tmp_path_factory) -> Path:
    """256 8x8 images in 4 classes (a bright quadrant each, on faint noise), with labels."""
    return tiny_gans.quadrants_npz(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def rebuilt(cache, quadrants) -> tuple[Path, list[str]]:
    """The cached classifier of `quadrants`, rebuilt over a damaged file: its .keras path and
    the "is damaged" lines logged meanwhile.

    Random bytes lie where the cache goes (no .json): the one retrain of this module, so the
    rebuild is checked here (`test_a_damaged_cached_classifier_is_rebuilt`) and the other tests
    reuse its intact result.
    """
    key = _dataset_key(str(quadrants), data.describe(str(quadrants)))
    damaged = cache / "classifiers" / f"{key}.keras"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(np.random.default_rng(1).bytes(4096))
    handler = logging.handlers.BufferingHandler(100)
    evaluation_logger = logging.getLogger("keras_gan.evaluation")
    evaluation_logger.addHandler(handler)
    try:
        space = evaluation.domain_classifier(str(quadrants), epochs=1)
    finally:
        evaluation_logger.removeHandler(handler)
    return Path(space.path), [
        r.getMessage() for r in handler.buffer if "is damaged" in r.getMessage()
    ]


@pytest.fixture(scope="module")
def good_classifier(rebuilt) -> Path:
    """The intact cached classifier of `quadrants` (the module's cache): its .keras path."""
    return rebuilt[0]


def damaged_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "is damaged" in r.getMessage()]


# ----------------------------------------------------------------------------- the cache
def _truncate(model: Path, meta: Path) -> None:
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])


def _corrupt(model: Path, meta: Path) -> None:
    """Random bytes over the middle of the weights: the zip directory still reads, a CRC fails."""
    content = bytearray(model.read_bytes())
    middle = len(content) // 2
    content[middle : middle + 64] = np.random.default_rng(0).bytes(64)
    model.write_bytes(bytes(content))


DAMAGE = {
    "truncated": (_truncate, "not a complete .keras archive: truncated or corrupt"),
    "corrupt bytes": (_corrupt, "not a complete .keras archive: truncated or corrupt"),
    "zero bytes": (lambda model, meta: model.write_bytes(b""), "not a complete .keras archive"),
    "garbled json": (lambda model, meta: meta.write_text('{"format": 1, "data'), ".json: "),
    "json missing": (lambda model, meta: meta.unlink(), ".json beside it"),
    "keras missing": (lambda model, meta: model.unlink(), "the .keras file is missing"),
}


def damaged_copy(good: Path, folder: Path, damage: str) -> tuple[Path, str]:
    """A copy of the good cache in `folder`, damaged; the .keras path and the expected reason."""
    shutil.copytree(good.parent.parent, folder)
    model = folder / "classifiers" / good.name
    damage_files, reason = DAMAGE[damage]
    damage_files(model, model.with_suffix(".json"))
    return model, reason


def check_one_damaged_line(caplog, model: Path, reason: str) -> None:
    lines = damaged_lines(caplog)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"Cached classifier {model} is damaged (")
    assert reason in lines[0] and lines[0].endswith("); training a new one.")


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_each_damage_is_one_line_and_means_a_new_classifier(
    damage, good_classifier, tmp_path, caplog
):
    """Each kind of damage is recognised and means a retrain (a retrain each would cost seconds:
    the fixture retrains once, through the same path). A CRC failure inside the archive
    (`corrupt bytes`) was fatal before: `zipfile.BadZipFile` escaped."""
    model, reason = damaged_copy(good_classifier, tmp_path / "cache", damage)
    wanted = json.loads(good_classifier.with_suffix(".json").read_text())
    with caplog.at_level(logging.INFO, logger="keras_gan.evaluation"):
        assert _cached_classifier(model, wanted, model.stem) is None  # None: train a new one
    check_one_damaged_line(caplog, model, reason)


def test_a_damaged_cached_classifier_is_rebuilt(rebuilt, quadrants, caplog):
    """The fixture's retrain over random bytes: one line, then an intact cache that scores."""
    model, lines = rebuilt
    assert lines == [
        f"Cached classifier {model} is damaged (no {model.stem}.json beside it); "
        "training a new one."
    ]
    # Replaced atomically: a complete archive and its JSON, no temporary file left.
    assert is_complete_keras_file(model)
    assert json.loads(model.with_suffix(".json").read_text())["epochs"] == 1
    assert not list(model.parent.glob(f"{TEMP_PREFIX}*"))

    # The rebuilt classifier is loaded from the cache the next time, and it scores.
    stamp = model.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="keras_gan.evaluation"):
        space = evaluation.domain_classifier(str(quadrants))
    assert damaged_lines(caplog) == [] and model.stat().st_mtime_ns == stamp
    real, labels, _ = evaluation.reference_images(str(quadrants), 64)
    features, probabilities = space.embed(real)
    assert features.shape == (len(real), 128) and np.all(np.isfinite(features))
    assert np.mean(np.argmax(probabilities, axis=1) == labels) > 0.9
    half = len(real) // 2
    assert math.isfinite(evaluation.frechet_distance(features[:half], features[half:]))


# ----------------------------------------------------------------------------- mid-run failure
class BlockBestGenerator(keras.callbacks.Callback):
    """A user callback: a folder where generator_best.keras goes, during the first epoch only.

    The evaluation (which runs before user callbacks) cannot replace a folder by the new best
    generator, so epoch 1's evaluation fails for real: `os.replace` answers EISDIR, even as root.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def on_train_begin(self, logs=None):
        (self.path / "blocked").mkdir(parents=True)

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            shutil.rmtree(self.path)


def test_an_evaluation_failing_mid_run_is_one_line_and_training_goes_on(
    good_classifier, quadrants, tmp_path, caplog
):
    """A real fit of a tiny GAN with the run's callbacks for this: the evaluation, the history."""
    images = np.load(quadrants)["x"][..., None].astype("float32") / 127.5 - 1.0
    space = evaluation.domain_classifier(str(quadrants))  # the cached one
    paths = RunPaths(tmp_path)
    callbacks = [
        evaluation.EvaluationCallback(
            space=space, real_images=images, n=64, directory=tmp_path, verbose=False
        ),
        LossHistory(paths.history),
        BlockBestGenerator(paths.best_generator),
    ]
    gan = tiny_gans.make_gan()
    with caplog.at_level(logging.INFO, logger="keras_gan.evaluation"):
        gan.fit(tiny_gans.batches(images[:64]), epochs=2, callbacks=callbacks, verbose=0)

    failed = [r.getMessage() for r in caplog.records if "evaluation failed" in r.getMessage()]
    assert len(failed) == 1, failed
    # Epoch 1: evaluation failed (IsADirectoryError: [Errno 21] Is a directory:
    # 'RUN/.tmp-<pid>-<random>-generator_best.keras' -> 'RUN/generator_best.keras'); training ...
    assert failed[0].startswith("Epoch 1: evaluation failed (IsADirectoryError: [Errno 21] ")
    assert f"-> '{paths.best_generator}'" in failed[0]
    assert failed[0].endswith("); training goes on.")
    with paths.history.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["epoch"] for row in rows] == ["0", "1"]  # trained to the last epoch
    assert rows[0]["fid"] == rows[0]["kid"] == ""  # the failed evaluation left no figures
    assert math.isfinite(float(rows[1]["fid"]))  # the next one ran
    best = json.loads(paths.best_generator_info.read_text())  # saved by epoch 2, not epoch 1
    assert best["epoch"] == 2 and best["fid"] == pytest.approx(float(rows[1]["fid"]))
    assert is_complete_keras_file(paths.best_generator)
    assert not [name for name in os.listdir(tmp_path) if name.startswith(TEMP_PREFIX)]


def test_a_run_scores_against_the_same_real_images_whether_it_trains_the_classifier_or_not(
    quadrants, tmp_path, monkeypatch
):
    """Training the domain classifier re-seeds TensorFlow, whose global seed also orders the
    real images: a run's first process (which trains it) and its resumes (which load it from
    the cache) must embed the same real images (found by benchmarks/soak_features.py)."""
    monkeypatch.setenv(evaluation.CACHE_ENV, str(tmp_path / "own-cache"))
    real = []
    for _ in range(2):  # the first trains the classifier, the second loads it
        gan = tiny_gans.make_gan((8, 8, 1), seed=5)  # seeds as train() does in every process
        callback = evaluation.EvaluationCallback(str(quadrants), n=32, seed=5, verbose=False)
        callback.set_model(gan)
        callback.on_train_begin()
        real.append(callback._real_features)
    assert (tmp_path / "own-cache" / "classifiers").is_dir()
    np.testing.assert_array_equal(real[0], real[1])


def test_evaluation_lines_start_their_own_line_after_the_progress_bar(good_classifier, quadrants):
    """Keras's progress bar ends its epoch line after the user's callbacks have run, so the
    FID line is said at the next epoch's start (or the end of training), never glued to the
    bar; stdout (the bar) and stderr (the line) read as one stream, as in a terminal."""
    images = np.load(quadrants)["x"][..., None].astype("float32") / 127.5 - 1.0
    space = evaluation.domain_classifier(str(quadrants))
    callback = evaluation.EvaluationCallback(space=space, real_images=images, n=64, verbose=True)
    console = io.StringIO()
    with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
        tiny_gans.make_gan().fit(
            tiny_gans.batches(images[:64]), epochs=2, callbacks=[callback], verbose=1
        )
    lines = console.getvalue().splitlines()
    said = [line for line in lines if re.match(r"Epoch \d+: FID [0-9.]+, KID", line)]
    assert [line.split(":")[0] for line in said] == ["Epoch 1", "Epoch 2"], lines
    assert not [line for line in lines if "Epoch" in line[1:] and "FID " in line], lines
    bars = [i for i, line in enumerate(lines) if "/step - " in line and "- fid: " in line]
    assert len(bars) == 2 and all(lines.index(said[epoch]) > bars[epoch] for epoch in range(2)), (
        lines
    )
