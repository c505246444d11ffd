"""The Keras callbacks a user reaches for, on a real `gan.fit` (see docs/callbacks.md)."""

import keras
import numpy as np
import pytest
import tiny_gans
from tiny_gans import LATENT, SHAPE, batches

from keras_gan import GAN, callbacks
from keras_gan.evaluation import EvaluationCallback
from keras_gan.evaluation.features import FeatureSpace


def blobs(n: int = 128, seed: int = 0) -> np.ndarray:
    return tiny_gans.blobs(n, seed)


def make_gan(lr_d=1e-3, lr_g=1e-3, seed=1) -> GAN:
    return tiny_gans.make_gan(SHAPE, lr_d, lr_g, seed, generator_hidden=(8,))


def rate(optimizer) -> float:
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def state(gan: GAN) -> list[np.ndarray]:
    """Every weight, both optimizers' variables and the noise stream's position."""
    variables = [*gan.weights, *gan.d_optimizer.variables, *gan.g_optimizer.variables]
    return [np.array(v) for v in variables] + [np.array(gan.seed_generator.state)]


def test_early_stopping_and_reduce_lr_on_plateau_on_g_loss():
    # D's learning rate 100x G's: g_loss rises every epoch, so it never improves.
    gan = make_gan(lr_d=1e-2, lr_g=1e-4)
    stop = keras.callbacks.EarlyStopping(monitor="g_loss", mode="min", patience=2)
    reduce_d = callbacks.ReduceLROnPlateau("g_loss", players=("d",), factor=0.5, patience=1)
    reduce_g = callbacks.ReduceLROnPlateau("g_loss", players=("g",), factor=0.1, patience=1)
    history = gan.fit(
        batches(blobs(256)), epochs=10, callbacks=[reduce_d, reduce_g, stop], verbose=0
    )
    g_loss = history.history["g_loss"]
    assert g_loss[1] > g_loss[0] and g_loss[2] > g_loss[0]
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch == 2
    # No improvement after epochs 2 and 3: each player's rate was cut twice by its factor.
    assert rate(gan.d_optimizer) == pytest.approx(1e-2 * 0.5**2)
    assert rate(gan.g_optimizer) == pytest.approx(1e-4 * 0.1**2)


def test_keras_learning_rate_callbacks_need_the_gan_versions():
    gan = make_gan()
    data = batches(blobs(32))
    assert gan.optimizer is None  # a GAN has d_optimizer and g_optimizer instead
    for keras_callback in (
        keras.callbacks.ReduceLROnPlateau("g_loss", mode="min", patience=0),
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr),
    ):
        with pytest.raises((AttributeError, ValueError), match="learning_rate"):
            gan.fit(data, epochs=1, callbacks=[keras_callback], verbose=0)
    scheduler = callbacks.LearningRateScheduler(
        {"d": lambda epoch, lr: 1e-3 * 0.5**epoch, "g": lambda epoch: 2e-3}
    )
    history = gan.fit(data, epochs=3, callbacks=[scheduler], verbose=0)
    assert rate(gan.d_optimizer) == pytest.approx(2.5e-4)
    assert rate(gan.g_optimizer) == pytest.approx(2e-3)
    assert history.history["d_learning_rate"] == pytest.approx([1e-3, 5e-4, 2.5e-4])
    with pytest.raises(ValueError, match="players"):
        callbacks.ReduceLROnPlateau(players=("x",))
    with pytest.raises(ValueError, match="mode='min'"):  # Keras cannot tell for a GAN's logs
        gan.fit(data, epochs=1, callbacks=[keras.callbacks.EarlyStopping("g_loss")], verbose=0)


def test_early_stopping_on_fid_from_a_real_evaluation_callback():
    real = blobs(128)
    inputs = keras.Input(SHAPE)
    features = keras.layers.Dense(6, activation="relu")(keras.layers.Flatten()(inputs))
    probabilities = keras.layers.Dense(3, activation="softmax")(features)
    space = FeatureSpace(
        "tiny", keras.Model(inputs, [features, probabilities]), image_shape=SHAPE, num_classes=3
    )
    evaluation = EvaluationCallback(space=space, real_images=real[:64], n=64, verbose=False)
    monitor = callbacks.FailureMonitor(np.zeros((16, LATENT), "float32"), space_of=evaluation)
    # min_delta larger than any FID change: the second evaluation is no improvement.
    stop = keras.callbacks.EarlyStopping(monitor="fid", mode="min", patience=1, min_delta=1e6)
    history = make_gan().fit(
        batches(real), epochs=5, callbacks=[evaluation, monitor, stop], verbose=0
    )
    assert history.epoch == [0, 1] and stop.stopped_epoch == 1
    assert all(np.isfinite(history.history["fid"])) and len(evaluation.history) == 2
    assert monitor.space is space  # the monitor shares the evaluation's feature space
    assert all(1 <= coverage <= 3 for coverage in history.history["class_coverage"])


def test_a_learning_rate_schedule_per_optimizer_survives_saving(tmp_path):
    d_schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=4, decay_rate=0.5)
    g_schedule = keras.optimizers.schedules.PiecewiseConstantDecay([5], [2e-3, 1e-4])
    gan = make_gan()
    gan.compile(
        d_optimizer=keras.optimizers.Adam(d_schedule), g_optimizer=keras.optimizers.Adam(g_schedule)
    )
    gan.fit(batches(blobs(64)), epochs=2, verbose=0)  # 4 steps
    assert rate(gan.d_optimizer) == pytest.approx(1e-3 * 0.5)
    assert rate(gan.g_optimizer) == pytest.approx(2e-3)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras", safe_mode=True)
    assert int(loaded.d_optimizer.iterations) == 4
    for optimizer, schedule in ((loaded.d_optimizer, d_schedule), (loaded.g_optimizer, g_schedule)):
        assert type(optimizer._learning_rate) is type(schedule)
        assert optimizer._learning_rate.get_config() == schedule.get_config()
    assert rate(loaded.d_optimizer) == pytest.approx(1e-3 * 0.5)
    loaded.fit(batches(blobs(64)), epochs=1, verbose=0)  # steps 5-6: both schedules go on
    assert rate(loaded.d_optimizer) == pytest.approx(1e-3 * 0.5**1.5)
    assert rate(loaded.g_optimizer) == pytest.approx(1e-4)


def test_backup_and_restore_resumes_a_bare_fit_with_weights_and_optimizer_states(tmp_path):
    saved = {}

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved[epoch] = state(self.model)

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("interrupted")

    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="interrupted"):
        make_gan().fit(
            batches(blobs(64)),
            epochs=3,
            callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt()],
            verbose=0,
        )
    restored = {}

    class Restored(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            restored["state"] = state(self.model)

    fresh = make_gan(seed=7)  # another initialisation: everything must come from the backup
    history = fresh.fit(
        batches(blobs(64)),
        epochs=3,
        callbacks=[keras.callbacks.BackupAndRestore(backup), Restored()],
        verbose=0,
    )
    assert history.epoch == [2]
    assert len(restored["state"]) == len(saved[1])
    for got, want in zip(restored["state"], saved[1], strict=True):
        np.testing.assert_array_equal(got, want)
    assert int(fresh.g_optimizer.iterations) == 3 * 2


def test_terminate_on_nan_does_not_see_gan_losses_but_stop_on_non_finite_does():
    gan = make_gan()
    poisoned = batches(np.full((64, *SHAPE), np.nan, "float32"))
    history = gan.fit(poisoned, epochs=2, callbacks=[keras.callbacks.TerminateOnNaN()], verbose=0)
    assert history.epoch == [0, 1]  # it reads logs["loss"], which a GAN does not log
    assert np.isnan(history.history["d_loss"]).all()
    guard = callbacks.StopOnNonFinite()
    steps = []

    class Steps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)

    gan.fit(poisoned, epochs=2, callbacks=[guard, Steps()], verbose=0)
    assert steps == [0] and guard.event.name == "d_loss"
