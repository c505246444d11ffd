"""keras_gan.callbacks used from user code: `gan.fit(dataset, callbacks=[...])`."""

import csv
import json
import os
import signal
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from keras_gan import GAN, callbacks, checkpoints, files, latent, networks

LATENT = 8
SHAPE = (8, 8, 1)
BATCH = 8
STEPS_PER_EPOCH = 4


def blobs(n: int = BATCH * STEPS_PER_EPOCH, seed: int = 0) -> np.ndarray:
    """Smooth random blobs in [-1, 1]: cheap 'real' 8x8 images."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(-1, 1, SHAPE[0])
    centres = rng.uniform(-0.5, 0.5, size=(n, 2))
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    dist = (yy[None] - centres[:, :1, None]) ** 2 + (xx[None] - centres[:, 1:, None]) ** 2
    return (2.0 * np.exp(-dist / 0.2) - 1.0)[..., None].astype("float32")


def dataset(values: np.ndarray) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(values).batch(BATCH, drop_remainder=True)


def make_gan(shape: tuple[int, ...] = SHAPE) -> GAN:
    generator, discriminator = networks.build(
        "mlp", shape, LATENT, generator_hidden=(16,), discriminator_hidden=(16,)
    )
    gan = GAN(generator, discriminator, latent_dim=LATENT, seed=1)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(5e-4, beta_1=0.5),
    )
    return gan


def read_history(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def tensor_steps(log_dir: Path, tag: str) -> list[int]:
    accumulator = EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    return [event.step for event in accumulator.Tensors(tag)]


class StopAt(keras.callbacks.Callback):
    """Calls `action(model)` at the end of one global batch number (1-based)."""

    def __init__(self, batch_number: int, action) -> None:
        super().__init__()
        self.batch_number = batch_number
        self.action = action
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.batch_number:
            self.action(self.model)


def test_all_callbacks_from_user_code(tmp_path):
    gan = make_gan()
    sample_grid = callbacks.SampleGrid(tmp_path / "samples", log_dir=tmp_path / "logs", seed=0)
    checkpoint = callbacks.TrainingCheckpoint(tmp_path / "checkpoints")
    gan.fit(
        dataset(blobs()),
        epochs=2,
        verbose=0,
        shuffle=False,
        callbacks=[
            callbacks.TensorBoardLogger(tmp_path / "logs", update_freq=1),
            sample_grid,
            callbacks.LossHistory(tmp_path / "history.csv", tmp_path / "losses.png"),
            checkpoint,
            callbacks.ExportGenerator(tmp_path / "generator.keras"),
        ],
    )

    for number in (1, 2):
        with Image.open(tmp_path / "samples" / f"epoch_{number:04d}.png") as grid:
            assert grid.size == (8 * 8 + 9 * 2, 8 * 8 + 9 * 2)  # 64 samples, 2px padding
    assert sample_grid.noise.shape == (64, LATENT)
    assert [row["epoch"] for row in read_history(tmp_path / "history.csv")] == ["0", "1"]
    assert set(read_history(tmp_path / "history.csv")[0]) >= {"d_loss", "g_loss", "d_real"}
    with Image.open(tmp_path / "losses.png") as plot:
        assert plot.size[0] > 100

    accumulator = EventAccumulator(str(tmp_path / "logs"), size_guidance={"tensors": 0})
    accumulator.Reload()
    tags = set(accumulator.Tags()["tensors"])
    for name in ("d_loss", "g_loss", "d_real", "d_fake", "d_accuracy"):
        assert {f"batch/{name}", f"epoch/{name}"} <= tags
    for role in ("d", "g"):
        assert {f"batch/{role}_learning_rate", f"epoch/{role}_learning_rate"} <= tags
    assert [e.step for e in accumulator.Tensors("epoch/d_loss")] == [1, 2]
    assert [e.step for e in accumulator.Tensors("batch/g_loss")] == list(range(1, 9))
    learning_rate = tf.make_ndarray(accumulator.Tensors("epoch/g_learning_rate")[0].tensor_proto)
    assert learning_rate == pytest.approx(5e-4)
    image = tf.make_ndarray(accumulator.Tensors("samples")[-1].tensor_proto)
    assert image[0] == b"82" and image[1] == b"82"  # width, height, then the PNG
    assert len(list((tmp_path / "logs").iterdir())) == 1  # one event file for both callbacks

    latest = checkpoints.latest_checkpoint(tmp_path / "checkpoints")
    assert (latest.epochs_completed, latest.step, latest.end_of_epoch) == (2, 8, True)
    assert checkpoint.last_checkpoint == latest
    generator = keras.saving.load_model(tmp_path / "generator.keras", safe_mode=True)
    assert generator.output_shape == (None, *SHAPE)


def test_sample_grid_draws_a_scatter_plot_for_2d_points(tmp_path):
    rng = np.random.default_rng(0)
    points = rng.normal(size=(BATCH * STEPS_PER_EPOCH, 2)).astype("float32")
    noise = np.random.default_rng(1).normal(size=(100, LATENT)).astype("float32")
    sample_grid = callbacks.SampleGrid(
        tmp_path / "samples", noise=noise, log_dir=tmp_path / "logs", real_samples=points
    )
    make_gan(shape=(2,)).fit(
        dataset(points), epochs=1, verbose=0, shuffle=False, callbacks=[sample_grid]
    )

    with Image.open(tmp_path / "samples" / "epoch_0001.png") as plot:
        assert plot.mode in ("RGB", "RGBA")
        assert plot.size == (500, 500)
    np.testing.assert_array_equal(sample_grid.noise, noise)
    assert tensor_steps(tmp_path / "logs", "samples") == [1]


def test_sample_grid_uses_the_same_noise_every_epoch(tmp_path):
    gan = make_gan()
    sample_grid = callbacks.SampleGrid(tmp_path, num_samples=4, seed=3)
    drawn = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            drawn.append(sample_grid.noise.copy())

    gan.fit(dataset(blobs()), epochs=2, verbose=0, shuffle=False, callbacks=[sample_grid, Record()])
    np.testing.assert_array_equal(drawn[0], drawn[1])
    grid_1 = np.asarray(Image.open(tmp_path / "epoch_0001.png"))
    grid_2 = np.asarray(Image.open(tmp_path / "epoch_0002.png"))
    assert grid_1.shape == grid_2.shape == (2 * 8 + 3 * 2, 2 * 8 + 3 * 2)


def test_sample_grid_every_n_epochs_and_the_last(tmp_path):
    sample_grid = callbacks.SampleGrid(tmp_path, num_samples=4, every=2)
    make_gan().fit(dataset(blobs()), epochs=3, verbose=0, shuffle=False, callbacks=[sample_grid])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_0002.png", "epoch_0003.png"]


def test_checkpoints_every_n_steps_keep_the_newest(tmp_path):
    checkpoint = callbacks.TrainingCheckpoint(tmp_path, every_steps=3, keep=2)
    make_gan().fit(dataset(blobs()), epochs=2, verbose=0, shuffle=False, callbacks=[checkpoint])
    # Steps 3 and 6 mid-epoch, 4 and 8 at epoch ends; the newest two remain.
    found = checkpoints.find_checkpoints(tmp_path)
    assert [(c.step, c.epochs_completed, c.end_of_epoch) for c in found] == [
        (6, 1, False),
        (8, 2, True),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt-000000006.json",
        "ckpt-000000006.keras",
        "ckpt-000000008.json",
        "ckpt-000000008.keras",
    ]


def test_latest_checkpoint_skips_partial_temporary_and_damaged_files(tmp_path):
    make_gan().fit(
        dataset(blobs()),
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[callbacks.TrainingCheckpoint(tmp_path, every_steps=2)],
    )
    good = checkpoints.latest_checkpoint(tmp_path)
    assert good.step == 4
    archive = good.path.read_bytes()
    # A kill during the .keras write leaves a temporary file; between the .keras and the JSON
    # an archive without metadata; a torn write a truncated archive with metadata.
    (tmp_path / f"{files.TEMP_PREFIX}123-abc-ckpt-000000009.keras").write_bytes(archive[:100])
    (tmp_path / "ckpt-000000010.keras").write_bytes(archive)
    (tmp_path / "ckpt-000000011.keras").write_bytes(archive[: len(archive) // 2])
    metadata = json.loads(good.metadata_path.read_text())
    metadata.update(file="ckpt-000000011.keras", step=11)
    (tmp_path / "ckpt-000000011.json").write_text(json.dumps(metadata))
    (tmp_path / "ckpt-000000012.json").write_text("{not json")
    flipped = bytearray(archive)
    flipped[len(flipped) // 2] ^= 0xFF  # a bit flip inside a stored member fails the CRC
    (tmp_path / "ckpt-000000013.keras").write_bytes(bytes(flipped))
    metadata.update(file="ckpt-000000013.keras", step=13)
    (tmp_path / "ckpt-000000013.json").write_text(json.dumps(metadata))

    assert checkpoints.latest_checkpoint(tmp_path) == good
    assert not files.is_complete_keras_file(tmp_path / "ckpt-000000011.keras")
    gan = keras.saving.load_model(good.path, safe_mode=True)
    assert int(gan.g_optimizer.iterations) == 4

    # Resuming from step 4 drops the abandoned later checkpoints and leftovers.
    gan.fit(
        dataset(blobs()),
        epochs=2,
        initial_epoch=1,
        verbose=0,
        shuffle=False,
        callbacks=[callbacks.TrainingCheckpoint(tmp_path, every_steps=2)],
    )
    assert [c.step for c in checkpoints.find_checkpoints(tmp_path)] == [4, 6, 8]
    assert checkpoints.latest_checkpoint(tmp_path).step == 8
    assert not list(tmp_path.glob(".tmp-*")) and not list(tmp_path.glob("ckpt-00000001[013]*"))


def test_write_atomically_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "file.txt"
    files.write_atomically(target, lambda temp: temp.write_text("old"))

    def fail(temp: Path) -> None:
        temp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.write_atomically(target, fail)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["file.txt"]


@pytest.mark.parametrize("how", ["request_stop", "sigint"])
def test_stop_mid_epoch_saves_checkpoint_and_generator(tmp_path, how):
    checkpoint = callbacks.TrainingCheckpoint(tmp_path / "checkpoints")
    if how == "sigint":
        stopper = StopAt(6, lambda model: os.kill(os.getpid(), signal.SIGINT))
    else:
        stopper = StopAt(6, lambda model: checkpoint.request_stop())
    handler_before = signal.getsignal(signal.SIGINT)
    gan = make_gan()
    gan.fit(
        dataset(blobs()),
        epochs=3,
        verbose=0,
        shuffle=False,
        callbacks=[
            stopper,
            callbacks.TensorBoardLogger(tmp_path / "logs"),
            callbacks.SampleGrid(tmp_path / "samples", num_samples=4),
            callbacks.LossHistory(tmp_path / "history.csv"),
            checkpoint,
            callbacks.ExportGenerator(tmp_path / "generator.keras"),
        ],
    )
    assert signal.getsignal(signal.SIGINT) is handler_before
    assert checkpoint.interrupted
    assert int(gan.g_optimizer.iterations) == 6  # stopped right after the step it was asked in
    latest = checkpoints.latest_checkpoint(tmp_path / "checkpoints")
    assert (latest.epochs_completed, latest.step, latest.end_of_epoch) == (1, 6, False)
    assert (tmp_path / "generator.keras").is_file()
    # The cut-short second epoch is logged nowhere as an epoch.
    assert [row["epoch"] for row in read_history(tmp_path / "history.csv")] == ["0"]
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["epoch_0001.png"]
    assert tensor_steps(tmp_path / "logs", "epoch/d_loss") == [1]


def test_resume_continues_counts_epochs_and_history(tmp_path):
    images = dataset(blobs())
    checkpoint_dir = tmp_path / "checkpoints"
    history_path = tmp_path / "history.csv"
    make_gan().fit(
        images,
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[
            callbacks.TensorBoardLogger(tmp_path / "logs", update_freq=1),
            callbacks.LossHistory(history_path),
            callbacks.TrainingCheckpoint(checkpoint_dir),
        ],
    )
    # As if the process had died after logging epoch 1 but before its checkpoint.
    with history_path.open("a") as stream:
        stream.write("1,9,9,9,9,9\n")

    latest = checkpoints.latest_checkpoint(checkpoint_dir)
    gan = keras.saving.load_model(latest.path, safe_mode=True)
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 4
    gan.fit(
        images,
        epochs=2,
        initial_epoch=latest.epochs_completed,
        verbose=0,
        shuffle=False,
        callbacks=[
            callbacks.TensorBoardLogger(tmp_path / "logs", update_freq=1),
            callbacks.LossHistory(history_path),
            callbacks.TrainingCheckpoint(checkpoint_dir),
        ],
    )
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 8
    rows = read_history(history_path)
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert rows[1]["d_loss"] != "9"
    assert tensor_steps(tmp_path / "logs", "batch/d_loss") == list(range(1, 9))
    assert tensor_steps(tmp_path / "logs", "epoch/d_loss") == [1, 2]


def test_callbacks_reject_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="every"):
        callbacks.SampleGrid(tmp_path, every=0)
    with pytest.raises(ValueError, match="keep"):
        callbacks.TrainingCheckpoint(tmp_path, keep=0)
    with pytest.raises(ValueError, match="every_steps"):
        callbacks.TrainingCheckpoint(tmp_path, every_steps=0)
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoardLogger(tmp_path, update_freq=0)
    with pytest.raises(ValueError, match=r"\.keras"):
        callbacks.ExportGenerator(tmp_path / "generator.h5")


def test_samples_and_export_come_from_the_generator_average(tmp_path):
    generator, discriminator = networks.build("dcgan", SHAPE, LATENT, base_filters=4)
    gan = GAN(generator, discriminator, latent_dim=LATENT, seed=1, ema_momentum=0.9)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    sample_grid = callbacks.SampleGrid(tmp_path / "samples", seed=0)
    gan.fit(
        dataset(blobs()),
        epochs=1,
        verbose=0,
        callbacks=[sample_grid, callbacks.ExportGenerator(tmp_path / "generator.keras")],
    )
    z = sample_grid.noise
    averaged = np.asarray(gan.generator_ema(z, training=False))
    assert not np.allclose(np.asarray(gan.generator(z, training=False)), averaged, atol=1e-3)
    exported = keras.saving.load_model(tmp_path / "generator.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(exported(z)), averaged, atol=1e-6)
    np.testing.assert_array_equal(sample_grid.render(), latent.image_grid(averaged))


def test_latest_checkpoint_accepts_a_run_directory(tmp_path):
    make_gan().fit(
        dataset(blobs()),
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[checkpoints.TrainingCheckpoint(tmp_path / "checkpoints")],
    )
    latest = checkpoints.latest_checkpoint(tmp_path)
    assert latest == checkpoints.latest_checkpoint(tmp_path / "checkpoints")
    assert (latest.step, latest.epochs_completed) == (4, 1)
    assert checkpoints.TrainingCheckpoint is callbacks.TrainingCheckpoint


def test_conditional_sample_grid_has_one_row_per_class(tmp_path):
    generator, discriminator = networks.build(
        "mlp", SHAPE, LATENT, num_classes=3, generator_hidden=(16,), discriminator_hidden=(16,)
    )
    gan = GAN(generator, discriminator, latent_dim=LATENT, seed=1, num_classes=3)
    sample_grid = callbacks.SampleGrid(tmp_path, num_samples=16, seed=0)
    sample_grid.set_model(gan)
    sample_grid.on_train_begin()
    per_class = latent.grid_shape(16)[1]
    noise = np.tile(sample_grid.noise[:per_class], (3, 1))
    labels = np.repeat(np.arange(3), per_class)
    expected = latent.image_grid(gan.generate(noise, labels=labels), cols=per_class)
    np.testing.assert_array_equal(sample_grid.render(), expected)
