"""FID during training: --eval-every/--eval-n, history.csv/losses.png/TensorBoard, the best
generator kept across --resume, sample.py --best, the callback order, a NaN stop (exit 3, no
evaluation) and the model summaries, on a tiny labelled .npz (4 classes of 8x8 quadrants)."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
import tiny_gans
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from keras_gan import data, evaluation, training
from keras_gan.callbacks import LossHistory, TensorBoardLogger, TrainingCheckpoint
from keras_gan.cli import sample as sample_cli
from keras_gan.cli import train as train_cli
from keras_gan.run_dir import RunPaths
from keras_gan.training.build import build_callbacks

NETWORK = {"generator_hidden": [16], "discriminator_hidden": [16]}
TINY = ["--arch", "mlp", "--batch-size", "32", "--latent-dim", "8", "--seed", "0"]
TINY += [
    "--network-option",
    "generator_hidden=[16]",
    "--network-option",
    "discriminator_hidden=[16]",
]
TINY += ["--precision", "float32", "--eval-n", "64"]


@pytest.fixture(scope="module", autouse=True)
def classifier_cache(tmp_path_factory):
    """Domain classifiers go to a temporary cache, never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(evaluation.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        patch.setenv("KERAS_GAN_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def labelled_npz(tmp_path_factory) -> Path:
    """256 8x8 images in 4 classes (a bright quadrant each, on faint noise), with labels."""
    return tiny_gans.quadrants_npz(tmp_path_factory.mktemp("data"))


def tiny_config(dataset: Path, run_dir: Path, **settings) -> training.TrainConfig:
    values = dict(
        dataset=str(dataset),
        arch="mlp",
        epochs=3,
        batch_size=32,
        latent_dim=8,
        seed=0,
        precision="float32",
        eval_every=2,
        eval_n=64,
        network_options=NETWORK,
        run_dir=str(run_dir),
    )
    values.update(settings)
    return training.TrainConfig(**values)


class LogRecorder(keras.callbacks.Callback):
    """A user callback: the logs it sees at the end of each epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.logs: dict[int, dict] = {}

    def on_epoch_end(self, epoch, logs=None):
        self.logs[epoch] = dict(logs or {})


def history(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "history.csv").open(newline="") as stream:
        return list(csv.DictReader(stream))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def evaluated_run(labelled_npz, tmp_path_factory) -> tuple[Path, LogRecorder]:
    """3 epochs evaluated every 2 (so after epochs 2 and 3, the last), with a user callback."""
    recorder = LogRecorder()
    run_dir = tmp_path_factory.mktemp("runs") / "run"
    training.train(tiny_config(labelled_npz, run_dir), callbacks=[recorder], verbose=0)
    return run_dir, recorder


# ----------------------------------------------------------------------------- the run's files
def test_fid_and_kid_reach_history_plot_tensorboard_and_user_callbacks(evaluated_run):
    run_dir, recorder = evaluated_run
    rows = history(run_dir)
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert rows[0]["fid"] == rows[0]["kid"] == ""  # not evaluated: empty cells
    fids = [float(row["fid"]) for row in rows[1:]]
    assert all(math.isfinite(fid) and fid >= 0 for fid in fids)
    assert all(math.isfinite(float(row["kid"])) for row in rows[1:])
    # The user's callback comes after the evaluation, so its logs hold the same figures.
    assert "fid" not in recorder.logs[0]
    assert [recorder.logs[epoch]["fid"] for epoch in (1, 2)] == pytest.approx(fids)
    with Image.open(run_dir / "losses.png") as plot:
        assert plot.size == (1500, 400)  # three panels: losses, D's outputs, FID/KID
    # TensorBoardLogger writes them: one event file in logs/ (no second writer).
    assert len(list((run_dir / "logs").glob("events.out.tfevents.*"))) == 1
    accumulator = EventAccumulator(str(run_dir / "logs"), size_guidance={"tensors": 0})
    accumulator.Reload()
    scalars = accumulator.Tensors("epoch/fid")
    assert [event.step for event in scalars] == [2, 3]
    assert [_value(event) for event in scalars] == pytest.approx(fids)
    assert [event.step for event in accumulator.Tensors("epoch/kid")] == [2, 3]


def _value(event) -> float:
    return float(tf.make_ndarray(event.tensor_proto))


def test_best_generator_config_and_model_summary_are_in_the_run(evaluated_run):
    run_dir, _ = evaluated_run
    paths = RunPaths(run_dir)
    fids = {int(row["epoch"]) + 1: float(row["fid"]) for row in history(run_dir) if row["fid"]}
    meta = json.loads(paths.best_generator_info.read_text())
    best_epoch = min(fids, key=fids.get)
    assert (meta["epoch"], meta["n"]) == (best_epoch, 64)
    assert meta["fid"] == pytest.approx(fids[best_epoch])
    assert meta["feature_space"].startswith("classifier:quadrants_")
    generator = keras.saving.load_model(paths.best_generator, safe_mode=True)
    assert generator.output_shape == (None, 8, 8, 1)
    saved = json.loads(paths.config.read_text())
    assert (saved["eval_every"], saved["eval_n"]) == (2, 64)
    summary = paths.model_summary.read_text()
    assert "mlp_generator" in summary and "mlp_discriminator" in summary
    assert summary.count("Total params") == 2


def test_resume_carries_the_best_fid_over(evaluated_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(evaluated_run[0], run_dir)
    paths = RunPaths(run_dir)
    meta = json.loads(paths.best_generator_info.read_text())
    # A best score no generator can beat: the resumed run must keep generator_best.keras.
    paths.best_generator_info.write_text(json.dumps({**meta, "fid": -1.0}))
    kept = digest(paths.best_generator)
    training.resume(run_dir, epochs=4, eval_every=1, monitor=False, verbose=0)
    assert json.loads(paths.best_generator_info.read_text())["fid"] == -1.0
    assert digest(paths.best_generator) == kept
    rows = history(run_dir)
    assert [row["fid"] != "" for row in rows] == [False, True, True, True]
    assert training.load_config(run_dir).eval_every == 1  # changed on resume, recorded


# ----------------------------------------------------------------------------- sample.py --best
def test_sample_best_draws_from_generator_best(evaluated_run, tmp_path, capsys):
    run_dir, _ = evaluated_run
    out = tmp_path / "best.png"
    code = sample_cli.main([str(run_dir), "--best", "--n", "4", "--seed", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert f"Best generator of {run_dir}: epoch " in printed
    with Image.open(out) as grid:
        assert grid.size == (2 * 8 + 3 * 2, 2 * 8 + 3 * 2)  # 2 x 2 cells of 8x8, padding 2

    empty = tmp_path / "no-eval-run"
    empty.mkdir()
    assert sample_cli.main([str(empty), "--best", "--out", str(out)]) == sample_cli.EXIT_ERROR
    assert capsys.readouterr().err.strip() == (
        f"Error: no generator_best.keras in {empty}; train with --eval-every"
    )


# ----------------------------------------------------------------------------- NaN stop
def test_a_nan_run_exits_3_without_evaluating(labelled_npz, tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(
        evaluation.EvaluationCallback, "evaluate_now", lambda self: calls.append(self)
    )

    def fails(self, epoch, logs=None):
        raise ValueError("cannot handle this state")

    # A later callback failing on the poisoned state must not turn the NaN stop into exit 1.
    monkeypatch.setattr(TensorBoardLogger, "on_epoch_end", fails)
    run_dir = tmp_path / "run"
    args = ["--dataset", str(labelled_npz), "--epochs", "2", "--run-dir", str(run_dir), *TINY]
    code = train_cli.main([*args, "--eval-every", "1", "--lr-d", "1e20", "--lr-g", "1e20"])
    err = capsys.readouterr().err
    assert code == train_cli.EXIT_DIVERGED == 3, err
    assert "Error: Training stopped at step" in err
    assert calls == []
    assert not RunPaths(run_dir).best_generator.exists()
    assert not (run_dir / "history.csv").exists()


# ----------------------------------------------------------------------------- defaults, order
def test_evaluation_is_on_by_default_for_labelled_images_only(labelled_npz, tmp_path):
    labelled = training.TrainConfig(str(labelled_npz)).resolved(data.describe(str(labelled_npz)))
    assert labelled.epochs == 25 and labelled.eval_every == 3  # ceil(25 / 10)
    assert labelled.eval_n == training.config.EVAL_N == 2000
    mlp = training.TrainConfig(str(labelled_npz), arch="mlp").resolved(
        data.describe(str(labelled_npz))
    )
    assert mlp.eval_every == 10  # 100 epochs
    unlabelled_path = tmp_path / "unlabelled.npz"
    np.savez(unlabelled_path, x=np.load(labelled_npz)["x"])
    unlabelled = training.TrainConfig(str(unlabelled_path))
    assert unlabelled.resolved(data.describe(str(unlabelled_path))).eval_every == 0
    assert training.TrainConfig("gaussian").resolved(data.describe("gaussian")).eval_every == 0
    with pytest.raises(training.TrainingError, match="no class labels, so no domain classifier"):
        training.TrainConfig(str(unlabelled_path), eval_every=2).resolved(
            data.describe(str(unlabelled_path))
        )
    stacked = data.DatasetInfo("stacked_mnist", "built", "train", (28, 28, 3), 128_000, 1000)
    assert training.TrainConfig("stacked_mnist").resolved(stacked).eval_every == 0
    with pytest.raises(training.TrainingError, match="has 1000 classes"):
        training.TrainConfig("stacked_mnist", eval_every=1).resolved(stacked)
    explicit = training.TrainConfig(str(labelled_npz), eval_every=0)
    assert explicit.resolved(data.describe(str(labelled_npz))).eval_every == 0
    assert {"eval_every", "eval_n"} <= training.RESUME_OVERRIDES
    with pytest.raises(training.TrainingError, match="eval_n must be"):
        training.TrainConfig("mnist", eval_n=1).validate()


def test_bad_eval_flags_exit_2(labelled_npz, tmp_path, capsys):
    for flag, value in (("--eval-every", "-1"), ("--eval-n", "1")):
        code = train_cli.main(["--dataset", str(labelled_npz), flag, value])
        assert code == train_cli.EXIT_USAGE
        assert f"{flag} must be" in capsys.readouterr().err


def test_evaluation_comes_before_the_callbacks_that_record_logs(labelled_npz, tmp_path):
    info = data.describe(str(labelled_npz))
    paths = RunPaths(tmp_path)
    noise = np.zeros((4, 8), "float32")
    on = build_callbacks(tiny_config(labelled_npz, tmp_path).resolved(info), paths, noise)
    kinds = [type(callback) for callback in on]
    assert kinds[0] is evaluation.EvaluationCallback
    for later in (TensorBoardLogger, LossHistory, TrainingCheckpoint):
        assert kinds.index(later) > 0
    off = build_callbacks(
        tiny_config(labelled_npz, tmp_path, eval_every=0).resolved(info), paths, noise
    )
    assert evaluation.EvaluationCallback not in [type(callback) for callback in off]
