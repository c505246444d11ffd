"""What `keras-gan train` prints when a run ends: where its files are and what to run next."""

from __future__ import annotations

import json
import shlex
import signal
from pathlib import Path
from typing import Any

import click

from keras_gan.cli import common

__all__ = ["report_finished", "report_interrupted"]


def _quote(path: Path | str) -> str:
    return shlex.quote(str(path))


def _print_next_steps(run_dir: Path, finished: bool) -> None:
    click.echo(f"  TensorBoard: tensorboard --logdir {_quote(run_dir)}")
    click.echo(f"  Sample:      python sample.py {_quote(run_dir)} --n 64 --out grid.png")
    more_epochs = " --epochs N" if finished else ""
    click.echo(f"  Continue:    python train.py --resume {_quote(run_dir)}{more_epochs}")


def report_finished(run_dir: Path) -> None:
    from keras_gan.run_dir import RunPaths

    paths = RunPaths(run_dir)
    samples = sorted(paths.samples.glob("epoch_*.png"))
    click.echo(f"\nRun finished: {run_dir}")
    click.echo(f"  Generator:   {paths.generator}")
    if samples:
        click.echo(f"  Samples:     {samples[-1]}")
    click.echo(f"  Losses:      {paths.losses_plot} (history in {paths.history.name})")
    if paths.best_generator.is_file():
        try:
            best = json.loads(paths.best_generator_info.read_text())
            about = f" (epoch {best['epoch']}, FID {best['fid']:.3f})"
        except (OSError, ValueError, KeyError, TypeError):
            about = ""
        click.echo(f"  Best:        {paths.best_generator}{about}")
        click.echo(f"               python sample.py {_quote(run_dir)} --best --out best.png")
    _print_next_steps(run_dir, finished=True)


def report_interrupted(stop: Any) -> int:
    """Say where a stopped run's state is; returns the exit code of the signal."""
    checkpoint = stop.checkpoint
    how = "Interrupted" if stop.signal == signal.SIGINT else "Terminated"
    click.echo(f"\n{how}: state saved in {stop.run_dir}")
    if checkpoint is not None:
        where = "at the end of epoch" if checkpoint.end_of_epoch else "during epoch"
        epoch = checkpoint.epochs_completed + (0 if checkpoint.end_of_epoch else 1)
        click.echo(
            f"  Checkpoint:  {checkpoint.path.name} (step {checkpoint.step}, {where} {epoch})"
        )
    _print_next_steps(stop.run_dir, finished=False)
    return common.EXIT_INTERRUPTED if stop.signal == signal.SIGINT else common.EXIT_TERMINATED
