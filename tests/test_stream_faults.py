"""Files of a streamed image folder that break while a run goes on: skipped, counted, said.

Real PNG files are truncated, overwritten, emptied and deleted during a real training run
(and during a real streamed pass); nothing is mocked.
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_gan import data, training
from keras_gan.data import streaming

BATCH = 8
COUNT = 32
EPOCHS = 3
LINE = re.compile(r"Epoch (\d+): skipped (\d+) unreadable files? \((\d+) so far, (\d+) different\)")


def write_folder(root: Path, count: int = COUNT, size: int = 8) -> list[Path]:
    """`count` grey PNGs of random pixels (none is uniformly one value)."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        path = root / f"{index:03d}.png"
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def break_files(paths: list[Path]) -> list[Path]:
    """Truncate one file, overwrite one with garbage, empty one and delete one; return them."""
    truncated, garbage, emptied, deleted = paths[3], paths[10], paths[17], paths[24]
    truncated.write_bytes(truncated.read_bytes()[:60])
    garbage.write_bytes(np.random.default_rng(1).integers(0, 256, 200, np.uint8).tobytes())
    emptied.write_bytes(b"")
    deleted.unlink()
    return [truncated, garbage, emptied, deleted]


class BreakFilesAfterFirstEpoch(keras.callbacks.Callback):
    """A user callback (so it runs after the run's own) that breaks 4 files after epoch 1."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths = paths
        self.broken: list[Path] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == 0:
            self.broken = break_files(self.paths)


def history(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "history.csv").open(newline="") as stream:
        return list(csv.DictReader(stream))


def test_files_broken_mid_run_are_skipped_counted_and_said_once_per_epoch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths = write_folder(tmp_path / "images")
    breaker = BreakFilesAfterFirstEpoch(paths)
    config = training.TrainConfig(
        dataset=str(tmp_path / "images"),
        arch="mlp",
        epochs=EPOCHS,
        batch_size=BATCH,
        latent_dim=4,
        seed=0,
        precision="float32",
        monitor=False,
        augment="off",
        network_options={"generator_hidden": [16], "discriminator_hidden": [16]},
        run_dir=str(tmp_path / "run"),
    )
    with caplog.at_level(logging.WARNING, logger="keras_gan"):
        run_dir = training.train(config, callbacks=[breaker], verbose=0)

    assert (run_dir / "generator.keras").is_file()  # every epoch ran to the end
    checkpoint = training.latest_checkpoint(run_dir)
    assert checkpoint.epochs_completed == EPOCHS and checkpoint.step == EPOCHS * COUNT // BATCH
    rows = history(run_dir)
    assert [int(row["epoch"]) for row in rows] == list(range(EPOCHS))
    counts = [int(float(row["skipped_files"])) for row in rows]
    # Epoch 1 read intact files. Every later pass meets the 4 broken files; tf.data decodes
    # ahead, so a pass's skips fall in the epoch that reads its first batches, or the one before.
    assert counts[0] == 0 and sum(counts[1:]) >= 4 and counts[-1] >= 0

    messages = [record.getMessage() for record in caplog.records]
    lines = [match for message in messages if (match := LINE.search(message))]
    said = {int(match[1]) - 1: int(match[2]) for match in lines}
    assert said == {epoch: count for epoch, count in enumerate(counts) if count}
    assert len(lines) == len(said)  # one line per epoch that skipped files
    assert int(lines[-1][3]) == sum(counts) and int(lines[-1][4]) == 4
    for path in breaker.broken:  # each named once, when first met
        assert len([m for m in messages if "Skipped unreadable" in m and path.name in m]) == 1


def test_a_broken_file_never_yields_a_blank_or_misshapen_example(tmp_path: Path) -> None:
    paths = write_folder(tmp_path / "images")
    settings = dict(batch_size=BATCH, image_size=8, channels=1, seed=0)
    stream, info = data.load(tmp_path / "images", return_info=True, **settings)
    counter = info.skipped_files
    assert counter is not None and counter.skips == 0
    broken = break_files(paths)
    for _ in range(2):  # two passes, each of the 28 files left: 3 whole batches
        batches = list(stream.as_numpy_iterator())
        assert len(batches) == (COUNT - len(broken)) // BATCH
        for batch in batches:
            assert batch.shape == (BATCH, 8, 8, 1) and batch.dtype == np.float32
            assert np.all(np.abs(batch) <= 1.0)
            assert not np.any(np.all(batch == -1.0, axis=(1, 2, 3)))  # no blank stand-in
    assert set(counter.reasons) == {str(path) for path in broken}
    assert counter.skips == 2 * len(broken)  # once in each pass
    assert "truncated" in counter.reasons[str(broken[0])]
    assert "No such file" in counter.reasons[str(broken[3])]
    _, toy = data.load("gaussian", batch_size=8, num_examples=64, return_info=True)
    assert toy.skipped_files is None  # held in memory: nothing to skip mid-run


def test_with_a_cache_only_the_first_pass_reads_the_files(tmp_path: Path) -> None:
    paths = write_folder(tmp_path / "images")
    cache = tmp_path / "cache"
    settings = dict(batch_size=4, image_size=8, channels=1, seed=0, cache_dir=cache)
    stream, info = data.load(tmp_path / "images", return_info=True, **settings)
    broken = break_files(paths)
    first = np.concatenate(list(stream.as_numpy_iterator()))
    assert len(first) == COUNT - 4 and info.skipped_files.skips == 4
    paths[0].unlink()  # after the cache is complete: the cached copy is used
    second = np.concatenate(list(stream.as_numpy_iterator()))
    assert len(second) == COUNT - 4 and info.skipped_files.skips == 4
    np.testing.assert_array_equal(np.sort(first, axis=0), np.sort(second, axis=0))
    # The next run sees a changed folder: a new cache, without the broken files.
    missing = [str(path) for path in [*broken, paths[0]]]
    present = [str(path) for path in paths if str(path) not in missing]
    assert streaming.cache_key(str(tmp_path), [*present, *missing], "x") != streaming.cache_key(
        str(tmp_path), present, "x"
    )


def test_a_folder_gone_mid_run_stops_the_stream_instead_of_spinning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths = write_folder(tmp_path / "images")
    settings = dict(batch_size=BATCH, image_size=8, channels=1, seed=0, start_epoch=0)
    stream, info = data.load(tmp_path / "images", return_info=True, **settings)
    for path in paths[BATCH - 1 :]:  # fewer than one batch left: every pass would be empty
        path.unlink()
    message = r"Only 7 of the 32 files of .* fewer than one batch of 8"
    with (
        caplog.at_level(logging.WARNING, logger="keras_gan.data"),
        pytest.raises(tf.errors.OpError, match=message),
    ):
        next(iter(stream))
    assert isinstance(info.skipped_files.failure, streaming.StreamRanDryError)
    named = [r for r in caplog.records if "Skipped unreadable" in r.getMessage()]
    assert len(named) == streaming.NAMED_SKIPS  # of 25: no flood when a folder goes
    assert named[-1].getMessage().endswith("more are counted but not named")
