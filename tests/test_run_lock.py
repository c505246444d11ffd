"""One process per run directory (keras_gan.run_lock), with real processes.

Rows of docs/reliability.md: "the run is in use by another process" (bad input) and "a lock
left by a killed process" (faults). Holders are real processes: train.py itself, or a small
`python -c` that takes the lock as train.py does and sleeps (fast to start).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import ENV, REPO, start_cli, wait_for_checkpoint

from keras_gan import run_lock
from keras_gan.cli import train as train_cli
from keras_gan.run_lock import LOCK_NAME, RunInUseError, RunLock

# 32 noise images in batches of 16 with a DCGAN 8 filters wide: quick to start and to step.
TINY = ["--batch-size", "16", "--latent-dim", "8", "--network-option", "base_filters=8"]
TINY += ["--seed", "3", "--precision", "float32", "--eval-every", "0", "--no-monitor"]
TF_NATIVE_LOG = r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] |^WARNING: All log messages"
HOLDER = """
import sys, time
from keras_gan.run_lock import RunLock
RunLock(sys.argv[1], create=True).acquire()
print("locked", flush=True)
time.sleep(120)
"""


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (the lock file too), by relative path."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def error_line(stderr: str) -> str:
    """The only line on stderr besides TensorFlow's own; it must be an ``Error:`` line."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not re.match(TF_NATIVE_LOG, line)]
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


def start_holder(run_dir: Path) -> subprocess.Popen:
    """A process that takes the run's lock (creating the folder) and sleeps."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(run_dir)],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def noise_npz(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "noise.npz"
    np.savez(path, x=np.random.default_rng(0).integers(0, 256, (32, 28, 28), dtype=np.uint8))
    return path


@pytest.fixture()
def holder(tmp_path):
    """A `python -c` process holding the lock of `tmp_path / "run"` (a new folder)."""
    process = start_holder(tmp_path / "run")
    yield process
    stop(process)


# ------------------------------------------------------------------------------ real train.py
def test_a_run_in_use_refuses_a_second_train_py_then_a_kill_frees_it(noise_npz, tmp_path, capsys):
    """train.py trains (then is frozen with SIGSTOP, so its files hold still); a second
    `train.py --resume` is refused in one line naming it and changes no byte; after SIGKILL a
    third `train.py --resume` takes the lock over by itself and finishes the run. The second
    and third are `train.py`'s main in this process (one TensorFlow start instead of three)."""
    run_dir = tmp_path / "run"
    first = start_cli(
        "--dataset", str(noise_npz), "--epochs", "1", "--steps-per-epoch", "100000",
        "--checkpoint-every", "2", "--run-dir", str(run_dir), *TINY, cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_for_checkpoint(first, run_dir / "checkpoints")
        first.send_signal(signal.SIGSTOP)
        before = snapshot(run_dir)
        assert LOCK_NAME in before and "config.json" in before
        code = train_cli.main(["--resume", str(run_dir), "--epochs", "2"])
        assert code == train_cli.EXIT_ERROR == 1
        expected = (
            f"Error: {run_dir} is in use by another train.py (PID {first.pid} on "
            f"{socket.gethostname()}, since "
        )
        line = error_line(capsys.readouterr().err)
        assert line.startswith(expected), line
        assert re.fullmatch(
            r"\d\d:\d\d:\d\d\); wait for it to finish or stop it\.", line[len(expected) :]
        )
        assert snapshot(run_dir) == before
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        stop(first)
    code = train_cli.main(["--resume", str(run_dir), "--steps-per-epoch", "2"])
    assert code == 0
    assert f"Took over a stale lock left by PID {first.pid} on " in capsys.readouterr().out
    assert (run_dir / "generator.keras").is_file()
    assert not (run_dir / LOCK_NAME).exists()  # released at the end


def test_a_new_run_directory_another_process_is_creating_is_refused(
    noise_npz, holder, tmp_path, capsys
):
    run_dir = tmp_path / "run"
    record = (run_dir / LOCK_NAME).read_bytes()
    code = train_cli.main(["--dataset", str(noise_npz), "--run-dir", str(run_dir), *TINY])
    line = error_line(capsys.readouterr().err)
    assert code == train_cli.EXIT_ERROR
    assert line.startswith(f"Error: {run_dir} is in use by another process (PID {holder.pid} on ")
    assert os.listdir(run_dir) == [LOCK_NAME]
    assert (run_dir / LOCK_NAME).read_bytes() == record


# ------------------------------------------------------------------------------ the lock itself
def test_a_second_process_cannot_lock_while_the_first_holds(holder, tmp_path):
    run_dir = tmp_path / "run"
    record = (run_dir / LOCK_NAME).read_bytes()
    with pytest.raises(RunInUseError) as refused:
        RunLock(run_dir).acquire()
    assert refused.value.holder.pid == holder.pid
    assert refused.value.holder.host == socket.gethostname()
    assert f"PID {holder.pid} on {socket.gethostname()}, since " in str(refused.value)
    assert (run_dir / LOCK_NAME).read_bytes() == record  # the refused process wrote nothing
    second = start_holder(tmp_path / "other")  # another run is another lock
    stop(second)


def test_a_lock_left_by_a_killed_process_is_taken_over(holder, tmp_path, caplog):
    run_dir = tmp_path / "run"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert str(holder.pid) in (run_dir / LOCK_NAME).read_text()  # the file stays, stale
    with caplog.at_level(logging.INFO, logger="keras_gan.run_lock"), RunLock(run_dir) as lock:
        assert lock.held
        assert f'"pid": {os.getpid()}' in (run_dir / LOCK_NAME).read_text()
    assert [record.getMessage() for record in caplog.records] == [
        f"Took over a stale lock left by PID {holder.pid} on {socket.gethostname()}."
    ]
    assert os.listdir(run_dir) == []  # released: the lock file is removed


def test_the_lock_is_reentrant_in_its_thread_only(tmp_path):
    run_dir = tmp_path / "runs" / "run"
    with RunLock(run_dir, create=True), RunLock(run_dir):  # resume() then train()
        refused = []

        def other_thread() -> None:
            try:
                RunLock(run_dir).acquire()
            except RunInUseError as error:
                refused.append(str(error))

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert len(refused) == 1 and "another thread of this process" in refused[0]
        assert (run_dir / LOCK_NAME).is_file()
    assert not (tmp_path / "runs").exists()  # the folders it created were left empty: removed


def test_claiming_a_new_folder_needs_create(tmp_path):
    """`new` means "this lock made the folder": without `create` it would mean nothing."""
    with pytest.raises(ValueError, match="create=True"):
        RunLock(tmp_path / "run", new=True)
    with RunLock(tmp_path / "run", create=True, new=True), pytest.raises(FileExistsError):
        RunLock(tmp_path / "run", create=True, new=True).acquire()


def test_where_flock_is_unsupported_one_warning_and_no_lock(tmp_path, caplog, monkeypatch):
    """A network file system that cannot lock answers ENOLCK (simulated: none to hand)."""

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(run_lock.fcntl, "flock", no_locks)
    with caplog.at_level(logging.INFO, logger="keras_gan.run_lock"), RunLock(tmp_path) as lock:
        assert lock.held
    assert os.listdir(tmp_path) == []
    assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.WARNING
    assert "going on without the lock" in caplog.records[0].getMessage()
