"""Running train.py in a subprocess, shared by the CLI and reliability tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRAIN_PY = REPO / "train.py"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_GAN_OFFLINE": "1"}
WAIT_S = 120


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python train.py ARGS`` to the end and capture its output."""
    return subprocess.run(
        [sys.executable, str(TRAIN_PY), *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_clis(*commands: tuple[str, ...], cwd: Path) -> list[subprocess.CompletedProcess]:
    """Run several independent ``python train.py ARGS`` at once (their TensorFlow imports
    overlap) and capture each one's output, in order."""
    processes = [
        subprocess.Popen(
            [sys.executable, str(TRAIN_PY), *args],
            cwd=cwd,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    results = []
    for args, process in zip(commands, processes, strict=True):
        stdout, stderr = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
    return results


def start_cli(*args: str, cwd: Path) -> subprocess.Popen:
    """Start ``python train.py ARGS`` in the background, output to files in ``cwd``."""
    return subprocess.Popen(
        [sys.executable, str(TRAIN_PY), *args],
        cwd=cwd,
        env=ENV,
        stdout=(cwd / "stdout.txt").open("w"),
        stderr=(cwd / "stderr.txt").open("w"),
    )


def wait_for_checkpoint(process: subprocess.Popen, checkpoints: Path) -> None:
    """Block until a checkpoint's JSON exists (the checkpoint is then complete)."""
    deadline = time.monotonic() + WAIT_S
    while not list(checkpoints.glob("ckpt-*.json")):
        assert process.poll() is None, "training ended before writing a checkpoint"
        assert time.monotonic() < deadline, "no checkpoint in time"
        time.sleep(0.1)
