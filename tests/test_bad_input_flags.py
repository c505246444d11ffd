"""The bad-input rows of docs/reliability.md for the newer flags (augmentation, packing,
background, evaluation, `sample.py --best`): the exact stderr line, the exit code, and nothing
created or changed. In-process through the CLIs' `main`, as `test_train_cli.py` does."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from keras_gan import data, training
from keras_gan.cli import sample as sample_cli
from keras_gan.cli import train as train_cli

HELP = " (see python train.py --help)"


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, Path]:
    """8x8 arrays: 64 labelled images (4 classes), the same unlabelled, 128 in 101 classes."""
    folder = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    images = (rng.random((128, 8, 8)) * 255).astype("uint8")
    paths = {name: folder / f"{name}.npz" for name in ("labelled", "unlabelled", "many")}
    np.savez(paths["labelled"], x=images[:64], y=np.arange(64) % 4)
    np.savez(paths["unlabelled"], x=images[:64])
    np.savez(paths["many"], x=images, y=np.arange(128) % 101)
    return paths


def refused(capsys, code: int, expected_code: int, line: str) -> None:
    """Exactly one non-empty stderr line, `line`, and the exit code."""
    err = capsys.readouterr().err
    assert [text for text in err.splitlines() if text.strip()] == [line], err
    assert code == expected_code


# ----------------------------------------------------------------------------- train.py
# (data, arguments, exit code, the stderr line; DATA is the --dataset value)
NEW_RUN = {
    "augment bogus": (
        "labelled",
        ["--augment", "bogus"],
        2,
        "Error: Invalid value for '--augment': 'bogus' is not one of 'auto', 'off', "
        "'diffaugment', 'ada'." + HELP,
    ),
    "augment on points": (
        "gaussian",
        ["--augment", "ada"],
        1,
        "Error: augment 'ada' needs images; gaussian holds points.",
    ),
    "pack 0": ("labelled", ["--pack", "0"], 2, "Error: --pack must be a positive integer, got 0."),
    "pack not dividing the batch": (
        "labelled",
        ["--pack", "3", "--batch-size", "64"],
        1,
        "Error: batch_size 64 must be a multiple of pack 3.",
    ),
    "pack with conditional": (
        "labelled",
        ["--pack", "2", "--conditional", "--batch-size", "32"],
        1,
        "Error: pack > 1 is not defined for a conditional GAN; use pack 1.",
    ),
    "unknown network option": (
        "labelled",
        ["--network-option", "colour=red"],
        1,
        "Error: Bad network option for dcgan: Architecture 'dcgan' has no option(s) colour.",
    ),
    "maxout of no pieces": (
        "gaussian",
        ["--network-option", "discriminator_maxout=0"],
        1,
        "Error: Bad network option for mlp: discriminator_maxout must be a positive integer, "
        "got 0.",
    ),
    "background name": (
        "labelled",
        ["--background", "notacolour"],
        2,
        "Error: Invalid value for '--background': 'notacolour' is not an opaque colour; use a "
        "name such as white or black, or #rrggbb" + HELP,
    ),
    "background short hex": (
        "labelled",
        ["--background", "#12345"],
        2,
        "Error: Invalid value for '--background': '#12345' is not an opaque colour; use a "
        "name such as white or black, or #rrggbb" + HELP,
    ),
    "background transparent": (
        "labelled",
        ["--background", "transparent"],
        2,
        "Error: Invalid value for '--background': 'transparent' is not an opaque colour; use a "
        "name such as white or black, or #rrggbb" + HELP,
    ),
    "eval-every negative": (
        "labelled",
        ["--eval-every", "-1"],
        2,
        "Error: --eval-every must be a non-negative integer, got -1.",
    ),
    "eval-n 1": (
        "labelled",
        ["--eval-n", "1"],
        2,
        "Error: --eval-n must be an integer of at least 2, got 1.",
    ),
    "eval-every unlabelled": (
        "unlabelled",
        ["--eval-every", "2"],
        1,
        "Error: DATA has no class labels, so no domain classifier can score it during training; "
        "use eval_every 0 (--eval-every 0).",
    ),
    "eval-every points": (
        "gaussian",
        ["--eval-every", "2"],
        1,
        "Error: gaussian holds points, not images, so no domain classifier can score it during "
        "training; use eval_every 0 (--eval-every 0).",
    ),
    "eval-every 101 classes": (
        "many",
        ["--eval-every", "1"],
        1,
        "Error: DATA has 101 classes (at most 100 are scored), so no domain classifier can "
        "score it during training; use eval_every 0 (--eval-every 0).",
    ),
}


@pytest.mark.parametrize("case", list(NEW_RUN))
def test_train_refuses_a_bad_new_flag_and_creates_nothing(
    case, datasets, tmp_path, capsys, monkeypatch
):
    source, args, code, line = NEW_RUN[case]
    dataset = str(datasets.get(source, source))
    if code == 2:
        line += "" if line.endswith(HELP) else HELP
    monkeypatch.chdir(tmp_path)  # the default run directory would be runs/ here
    run_dir = tmp_path / "run"
    result = train_cli.main(["--dataset", dataset, "--run-dir", str(run_dir), *args])
    refused(capsys, result, code, line.replace("DATA", dataset))
    assert os.listdir(tmp_path) == []  # no run directory, nothing else


# ----------------------------------------------------------------------------- --resume
def digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def stopped_run(datasets, tmp_path) -> Path:
    """A run stopped before its first checkpoint: the config.json `train` writes first."""
    config = training.TrainConfig(
        str(datasets["labelled"]), arch="mlp", precision="float32", augment="off", seed=0
    )
    run_dir = tmp_path / "run"
    config.resolved(data.describe(str(datasets["labelled"]))).save(run_dir / "config.json")
    return run_dir


RESUME = {
    "pack": (["--pack", "2"], "pack cannot change when resuming (the run has 1)"),
    "augment": (["--augment", "ada"], "augment cannot change when resuming (the run has 'off')"),
    "background": (
        ["--background", "black"],
        "background cannot change when resuming (the run has 'white')",
    ),
}


@pytest.mark.parametrize("case", list(RESUME))
def test_resume_refuses_another_augment_pack_or_background(case, stopped_run, capsys):
    args, reason = RESUME[case]
    before = digests(stopped_run)
    result = train_cli.main(["--resume", str(stopped_run), "--epochs", "2", *args])
    refused(capsys, result, 1, f"Error: {reason}; start a new run instead.")
    after = digests(stopped_run)
    assert {name: after[name] for name in before} == before  # every file byte-identical
    assert not (stopped_run / "checkpoints").exists()


# ----------------------------------------------------------------------------- sample.py --best
def test_sample_best_needs_a_run_with_generator_best(stopped_run, tmp_path, capsys):
    keras_file = tmp_path / "generator.keras"
    keras_file.write_bytes(b"")  # --best looks no further than "a folder or not"
    out = tmp_path / "best.png"
    for source, line in (
        (stopped_run, f"Error: no generator_best.keras in {stopped_run}; train with --eval-every"),
        (keras_file, f"Error: --best takes a run directory, got {keras_file}"),
    ):
        result = sample_cli.main([str(source), "--best", "--out", str(out)])
        refused(capsys, result, sample_cli.EXIT_ERROR, line)
        assert not out.exists()  # no output written
