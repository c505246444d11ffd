"""FailureMonitor: each failure provoked on purpose in a real tiny GAN raises its alarm."""

import csv
import json

import keras
import numpy as np
import pytest
import tensorflow as tf
import tiny_gans
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tiny_gans import LATENT, batches, make_gan

from keras_gan import data, latent, training
from keras_gan.callbacks import (
    ALARMS,
    FailureMonitor,
    LearningRateScheduler,
    LossHistory,
    TensorBoardLogger,
)
from keras_gan.callbacks.monitor import (
    class_coverage,
    epoch_figures,
    pixel_features,
    sample_diversity,
)
from keras_gan.evaluation import EvaluationCallback
from keras_gan.run_dir import RunPaths
from keras_gan.training.build import build_callbacks


def blobs(n: int = 256, seed: int = 0) -> np.ndarray:
    return tiny_gans.blobs(n, seed)


def ring(n: int = 512, seed: int = 0) -> np.ndarray:
    """Eight Gaussians on a circle of radius 0.8: a 2-D toy with eight modes."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * rng.integers(0, 8, n) / 8
    points = 0.8 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (points + rng.normal(0, 0.05, (n, 2))).astype("float32")


def sectors(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A feature space for 2-D points that also classifies them: the eighth of the circle."""
    angles = np.arctan2(points[:, 1], points[:, 0])
    classes = np.round(angles / (2 * np.pi / 8)).astype(int) % 8
    return points, np.eye(8)[classes]


def monitor(real=None, **options) -> FailureMonitor:
    noise = latent.sample_noise(64, LATENT, seed=0)
    options = {"overpowering_epochs": 3, "window": 3, "oscillation_epochs": 5, **options}
    return FailureMonitor(noise, real_samples=real, **options)


class Squeeze(keras.callbacks.Callback):
    """Squeeze the generator to one output from epoch `start`: its first kernel is held at 0."""

    def __init__(self, start: int) -> None:
        super().__init__()
        self.start = start
        self.epoch = 0

    def _squeeze(self) -> None:
        if self.epoch >= self.start:
            kernel = self.model.generator.layers[1].kernel
            kernel.assign(tf.zeros_like(kernel))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self._squeeze()

    def on_epoch_end(self, epoch, logs=None):
        self._squeeze()


def fired(mon: FailureMonitor) -> list[tuple[int, str]]:
    return [(alarm.epoch, alarm.name) for alarm in mon.alarms]


def test_healthy_run_raises_no_alarm(tmp_path):
    real = blobs()
    mon = monitor(real[:64], history_path=tmp_path / "history.csv")
    history = LossHistory(tmp_path / "history.csv")
    make_gan().fit(batches(real[:128]), epochs=5, callbacks=[mon, history], verbose=0)
    assert mon.alarms == []
    rows = list(csv.DictReader((tmp_path / "history.csv").open()))
    assert len(rows) == 5
    assert mon.active == dict.fromkeys(ALARMS, False)
    assert {row["alarms"] for row in rows} == {"0.0"}
    assert not any(name.startswith("alarm_") for name in rows[0])
    diversity = [float(row["sample_diversity"]) for row in rows]
    assert min(diversity) > 0.5 * sample_diversity(pixel_features(real[:64]))


def test_d_overpowering_alarm_is_printed_logged_recorded_and_resumed(tmp_path, capsys):
    # D's learning rate 100x G's: D is right on every decision from epoch 2 on and g_loss climbs.
    real, csv_path, logs = blobs(), tmp_path / "history.csv", tmp_path / "logs"
    mon = monitor(real[:64], log_dir=logs, history_path=csv_path)
    states = {}

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            states[epoch] = json.loads(json.dumps(mon.get_state()))

    gan = make_gan(lr_d=1e-2, lr_g=1e-4)
    callbacks = [mon, TensorBoardLogger(logs), LossHistory(csv_path), Snapshot()]
    history = gan.fit(batches(real), epochs=5, callbacks=callbacks, verbose=0)
    assert fired(mon) == [(4, "d_overpowering")]
    assert min(history.history["d_accuracy"][1:]) > 0.95
    lines = [line for line in capsys.readouterr().err.splitlines() if "ALARM" in line]
    assert len(lines) == 1
    assert lines[0].startswith("epoch 4: ALARM d_overpowering: D overpowering G")
    assert "--lr-d" in lines[0]
    events = EventAccumulator(str(logs), size_guidance={"tensors": 0})
    events.Reload()
    [entry] = events.Tensors("alarms/d_overpowering")
    assert entry.step == 4 and b"vanishing gradients" in entry.tensor_proto.string_val[0]
    rows = list(csv.DictReader(csv_path.open()))
    assert [row["alarm_d_overpowering"] for row in rows] == [""] * 3 + ["1.0"] * 2
    assert [row["alarms"] for row in rows] == ["0.0"] * 3 + ["1.0"] * 2

    # A resumed run rebuilds exactly the state the monitor had after the epochs it resumes
    # after, from history.csv, the alarm included.
    resumed = monitor(real[:64], history_path=csv_path)
    resumed.set_model(gan)
    resumed.on_train_begin()
    resumed.on_epoch_begin(4)
    assert resumed.get_state() == states[3]
    assert fired(resumed) == [(4, "d_overpowering")] and resumed.active["d_overpowering"]
    again = monitor(real[:64])
    again.set_state(states[4])
    assert again.get_state() == states[4]


def test_mode_collapse_alarm_when_the_generator_is_squeezed_to_one_output():
    # Healthy for two epochs, then the generator's output no longer depends on its noise.
    real = ring(256)
    mon = monitor(space=sectors)
    history = (
        make_gan((2,))
        .fit(batches(real, 64), epochs=4, callbacks=[Squeeze(2), mon], verbose=0)
        .history
    )
    assert fired(mon) == [(3, "mode_collapse")]
    assert "fell to" in mon.alarms[0].message
    assert history["alarms"] == [0.0, 0.0, 1.0, 1.0] and history["alarm_mode_collapse"] == [1.0] * 2
    assert history["sample_diversity"][2] < 1e-6 < history["sample_diversity"][1]
    assert history["class_coverage"][1] >= 3 and history["class_coverage"][2] == 1


def test_mode_collapse_alarm_against_the_real_data_diversity():
    # A generator collapsed from the start never had a diversity to fall from.
    mon = monitor(real=ring(128))
    mon.on_train_begin()
    assert mon.real_diversity == pytest.approx(sample_diversity(ring(128)))
    assert feed(mon, sample_diversity=[0.1 * mon.real_diversity, 0.0]) == [(1, "mode_collapse")]
    assert "of the real data's" in mon.alarms[0].message
    # Falling from noise-like early samples to the data's own diversity is no collapse.
    calm = monitor()
    calm.real_diversity = 1.0
    assert feed(calm, sample_diversity=[3.0, 1.2, 1.05]) == []


def test_divergence_alarm_when_the_learning_rates_jump():
    schedule = LearningRateScheduler(lambda epoch, rate: 10.0 if epoch >= 3 else rate)
    mon = monitor()
    history = make_gan().fit(batches(blobs(128)), epochs=4, callbacks=[schedule, mon], verbose=0)
    assert (4, "divergence") in fired(mon)
    assert all(epoch == 4 for epoch, _ in fired(mon))
    assert max(history.history["d_loss"][3], history.history["g_loss"][3]) > 30


def test_oscillation_alarm_through_fit_with_hand_fed_losses():
    swings = [1.0, 2.0, 1.0, 2.0, 1.0]

    class Swing(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["d_loss"] = swings[epoch]

    mon = monitor()
    make_gan().fit(batches(blobs(64)), epochs=5, callbacks=[Swing(), mon], verbose=0)
    assert fired(mon) == [(5, "oscillation")]
    assert "d_loss went up and down in turn for 5 epochs" in mon.alarms[0].message


def feed(mon: FailureMonitor, **series) -> list[tuple[int, str]]:
    length = max(len(values) for values in series.values())
    for epoch in range(length):
        mon.observe({"epoch": epoch, **{key: values[epoch] for key, values in series.items()}})
    return fired(mon)


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ({"d_loss": [1.0, 1.1, 0.9, 1.0, 20.0]}, [(5, "divergence")]),
        ({"g_loss": [0.7, 0.8, 0.7, 0.8, 5.0]}, []),  # 6.7x its level: under the factor 10
        ({"d_loss": [1.0] * 3 + [float(2**k) for k in range(1, 6)]}, []),  # doubling: slow
        ({"d_loss": [0.01, 0.02, 0.01, 0.01, 0.5]}, []),  # under loss_floor x factor
        ({"g_loss": [1.0, 1.5, 1.0, 1.5, 1.0, 1.5]}, [(5, "oscillation")]),
        ({"g_loss": [1.0, 1.1, 1.0, 1.1, 1.0]}, []),  # swings of 10%: noise
        ({"g_loss": [1.0, 1.5, 1.0, 1.5, 1.5]}, []),  # no alternation at the end
        ({"d_accuracy": [0.99] * 4, "g_loss": [2.0, 3.0, 4.0, 5.0]}, [(3, "d_overpowering")]),
        ({"d_accuracy": [0.99] * 4, "g_loss": [5.0, 4.0, 3.0, 2.0]}, []),  # G still learns
        ({"d_accuracy": [0.99, 0.9, 0.99, 0.99], "g_loss": [1.0, 2.0, 3.0, 4.0]}, []),
        ({"sample_diversity": [1.0, 2.0, 1.9, 0.9, 0.8, 2.0]}, [(4, "mode_collapse")]),
        ({"class_coverage": [10.0, 10.0, 8.0, 6.0]}, [(4, "mode_collapse")]),
    ],
)
def test_detectors_on_synthetic_logs(series, expected):
    assert feed(monitor(), **series) == expected


def test_an_alarm_that_persists_is_raised_once_and_again_after_it_cleared():
    mon = monitor()
    feed(mon, sample_diversity=[2.0, 0.5, 0.5, 2.0, 0.5])
    assert fired(mon) == [(2, "mode_collapse"), (5, "mode_collapse")]
    assert [r["sample_diversity"] for r in mon.get_state()["records"]] == [2.0, 0.5, 0.5, 2.0, 0.5]


def test_d_accuracy_falls_back_to_the_mean_of_real_and_fake_accuracy():
    logs = {"epoch": 2.0, "d_real_accuracy": 1.0, "d_fake_accuracy": 0.9, "g_loss": 3.0}
    assert epoch_figures(logs) == {
        "epoch": 2,
        "d_accuracy": pytest.approx(0.95),
        "d_loss": None,
        "g_loss": 3.0,
        "sample_diversity": None,
        "class_coverage": None,
    }


def test_measures():
    assert sample_diversity(np.zeros((5, 3))) == 0.0
    assert sample_diversity(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)
    assert pixel_features(np.zeros((2, 16, 16, 3))).shape == (2, 192)
    probabilities = np.eye(4)[[0, 0, 0, 0, 0, 0, 1, 2]]
    assert class_coverage(probabilities) == 3.0  # share 2, a quarter of it: 1 sample
    with pytest.raises(ValueError, match="oscillation_epochs"):
        FailureMonitor(oscillation_epochs=2)


def test_train_py_wires_the_monitor_after_the_evaluation(tmp_path):
    images = np.zeros((32, 8, 8), "uint8")
    np.savez(tmp_path / "tiny.npz", x=images, y=np.arange(32) % 2)
    paths = RunPaths(tmp_path / "run")
    noise = np.zeros((4, LATENT), "float32")
    settings = dict(dataset=str(tmp_path / "tiny.npz"), arch="mlp", latent_dim=LATENT)
    info = data.describe(settings["dataset"])

    def built(**more):
        config = training.TrainConfig(**settings, **more).resolved(info)
        return build_callbacks(config, paths, noise)

    kinds = [type(callback) for callback in built(eval_every=1)]
    assert kinds[:3] == [EvaluationCallback, FailureMonitor, TensorBoardLogger]
    evaluation, mon = built(eval_every=1)[:2]
    assert mon.space_of is evaluation and mon.history_path == paths.history
    assert mon.log_dir == paths.logs and mon.noise.shape == (4, LATENT)
    assert FailureMonitor not in [type(c) for c in built(eval_every=0, monitor=False)]
    assert "monitor" in training.RESUME_OVERRIDES
    with pytest.raises(training.TrainingError, match="monitor must be true or false"):
        training.TrainConfig(**settings, monitor="yes").validate()
