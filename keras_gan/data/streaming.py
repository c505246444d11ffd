"""Streaming pipelines over files: decode in parallel as batches are needed, optionally cached.

Used by image folders so that peak memory does not grow with the folder (docs/data.md,
"Streaming"). Files that fail to decode mid-epoch are skipped, counted (`SkippedFiles`) and
logged once each (the first `NAMED_SKIPS` of them).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from keras_gan.data import arrays
from keras_gan.data.base import DataError, PipelineSettings
from keras_gan.errors import one_line

logger = logging.getLogger("keras_gan.data")

SHUFFLE_BUFFER_CACHED = 10_000
DECODE_CHUNK = 32
CACHE_PREFIX = "imagefolder-"
ONE_PASS = -1  # the pass index of a stream's single or cache-writing pass
NAMED_SKIPS = 20  # unreadable files named in a warning each (a folder gone would flood the log)


class StreamRanDryError(DataError):
    """A whole pass decoded fewer files than one batch: training cannot go on."""


class SkippedFiles:
    """The files a stream could not decode (thread-safe): the first `NAMED_SKIPS` each logged
    once, every skip counted.

    A file that is corrupt, truncated, emptied or deleted while a run goes on fails to decode
    and is left out of its pass (never a blank or partial example). `reasons` holds each such
    file once, with why; `skips` counts every time one was left out, so a file that stays
    broken counts once in every later pass too (each such pass is one example shorter). The
    training loop reads `skips` at every epoch end (`callbacks.SkippedFilesLog`).

    With `expect`, a whole pass that decodes fewer files than one batch (the folder moved,
    emptied or unmounted mid-run) raises `StreamRanDryError`, kept in `failure`: an endless stream
    of empty passes would otherwise spin for ever without a batch.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reasons: dict[str, str] = {}
        self.skips = 0
        self.failure: StreamRanDryError | None = None
        self._expected: tuple[str, int, int] | None = None
        self._passes: dict[int, list[int]] = {}

    def expect(self, name: str, files: int, minimum: int) -> None:
        """Check every pass of `files` files of source `name` for at least `minimum` decoded."""
        self._expected = (name, files, minimum)

    def count_pass(self, index: int, files: int, decoded: int) -> None:
        """Record that `decoded` of `files` more files of pass `index` decoded.

        Raises:
            StreamRanDryError: when pass `index` is complete with fewer than `expect`'s minimum.
        """
        if self._expected is None:
            return
        name, total, minimum = self._expected
        with self._lock:
            counts = self._passes.setdefault(index, [0, 0])
            counts[0] += files
            counts[1] += decoded
            if counts[0] < total:
                return
            del self._passes[index]  # complete (a one-pass stream reuses its index)
            if counts[1] >= minimum:
                return
            self.failure = StreamRanDryError(
                f"Only {counts[1]} of the {total} files of {name} could be read in a whole pass, "
                f"fewer than one batch of {minimum} (e.g. {self._example()}); it was moved, "
                "emptied or broke while in use."
            )
            raise self.failure

    def _example(self) -> str:
        path, reason = next(reversed(self.reasons.items()), ("?", "?"))
        return f"{os.path.basename(path)}: {reason}"

    def add(self, path: str, reason: str) -> None:
        """Record one skip of `path`; the first time, log one line naming it and why."""
        with self._lock:
            self.skips += 1
            if path in self.reasons:
                return
            self.reasons[path] = reason
            count = len(self.reasons)
        if count <= NAMED_SKIPS:
            logger.warning(
                "Skipped unreadable image %s: %s (%d skipped so far)%s",
                path,
                reason,
                count,
                "; more are counted but not named" if count == NAMED_SKIPS else "",
            )


def cache_key(root: str, paths: Sequence[str], description: str) -> str:
    """A short hash of the files (paths, sizes, modification times) and of what is decoded.

    A cache named by it is reused only while the folder and the decoding settings are unchanged.
    """
    digest = hashlib.sha256(f"{os.path.abspath(root)}\0{description}\n".encode())
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:  # deleted since the scan: decoding skips it; the key still differs
            digest.update(f"{path}\0missing\n".encode())
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def prepare_cache(cache_dir: str | os.PathLike, key: str) -> str:
    """The cache file prefix for `key` in `cache_dir`, with stale and torn caches removed.

    A complete `tf.data` file cache has an `.index` file; one without it was cut short (a killed
    process leaves a lock file and partial data), so its files are deleted and it is rebuilt.
    Caches of other keys (an older state of the folder) are deleted too.

    Returns:
        The path to pass to `tf.data.Dataset.cache`.
    """
    folder = Path(cache_dir).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    prefix = f"{CACHE_PREFIX}{key}"
    complete = (folder / f"{prefix}.index").is_file()
    for leftover in folder.glob(f"{CACHE_PREFIX}*"):
        if complete and leftover.name.startswith(f"{prefix}."):
            continue
        with contextlib.suppress(OSError):
            leftover.unlink()
    return str(folder / prefix)


def decoding_map(
    decode: Callable[[str], np.ndarray], shape: tuple[int, ...], skipped: SkippedFiles
) -> Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    """A `tf.data` map function: (a chunk of paths, the pass) -> (uint8 images, decoded flags).

    `decode(path)` runs in `tf.numpy_function`, so Pillow decodes on tf.data's threads (it
    releases the GIL while decoding); a chunk of `DECODE_CHUNK` files per call spreads the cost
    of entering Python (one call per file decoded 2.5x fewer 64x64 PNGs per second). A failure,
    or an image of another shape, gives `False` for that file (and a blank image, which the
    stream filters out). The pass index feeds `SkippedFiles.count_pass`.
    """
    blank = np.zeros(shape, dtype=np.uint8)

    def decode_or_flag(path: bytes) -> tuple[np.ndarray, bool]:
        name = path.decode()
        try:
            pixels = decode(name)
        except Exception as error:  # A corrupt file must be skipped, whatever Pillow raises.
            skipped.add(name, one_line(error, max_length=200))
            return blank, False
        if pixels.shape != shape:
            skipped.add(
                name, f"it is {pixels.shape[1]}x{pixels.shape[0]}, not {shape[1]}x{shape[0]}"
            )
            return blank, False
        return pixels, True

    def decode_chunk(paths: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        results = [decode_or_flag(path) for path in paths]
        skipped.count_pass(int(index), len(results), sum(ok for _, ok in results))
        images = np.stack([pixels for pixels, _ in results]) if results else blank[:0]
        return images.reshape((len(results), *shape)), np.array([ok for _, ok in results])

    def mapped(paths: tf.Tensor, index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images, ok = tf.numpy_function(
            decode_chunk, [paths, index], (tf.uint8, tf.bool), stateful=False
        )
        return tf.ensure_shape(images, (None, *shape)), tf.ensure_shape(ok, (None,))

    return mapped


def _pass_seed(seed: int | None) -> int:
    """The base of every pass's shuffle seed: `seed`, or one drawn now when it is `None`."""
    return int(np.random.default_rng().integers(2**31)) if seed is None else int(seed)


def stream_files(
    paths: Sequence[str],
    labels: Sequence[int] | None,
    decode: Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]],
    settings: PipelineSettings,
    cache_file: str | None,
) -> tf.data.Dataset:
    """Batches of uint8 images (with labels) decoded from `paths` as they are needed.

    Without a cache the file names are shuffled (the whole list), then decoded: memory holds
    names and a few batches, never the set. With `cache_file` the first pass decodes in file
    order and writes the decoded images there; later passes (and later runs) read them back and
    shuffle within a buffer of `SHUFFLE_BUFFER_CACHED` images.

    One pass, reshuffled each time it is iterated; or, with `settings.start_epoch`, an endless
    stream of passes from that one on, pass `e` shuffled with seed `seed * 2**20 + e`, so that
    a resumed run starts at its epoch's batches without decoding the epochs before it. Those
    passes shuffle with stateless ops (a cached folder within blocks of `SHUFFLE_BUFFER_CACHED`
    images): `Dataset.shuffle` fails on a tensor seed when the global seed is 0.
    """
    with_labels = settings.with_labels and labels is not None
    names = tf.constant(list(paths))
    columns = (names, tf.constant(list(labels), tf.int32)) if with_labels else (names,)
    items = tf.data.Dataset.from_tensor_slices(columns if with_labels else names)

    def permuted(parts: tuple[tf.Tensor, ...], seed: tf.Tensor) -> tuple[tf.Tensor, ...]:
        count = tf.shape(parts[0], out_type=tf.int64)[0]
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed)
        return tuple(tf.gather(part, order) for part in parts)

    def decoded(files: tf.data.Dataset, index: Any = ONE_PASS) -> tf.data.Dataset:
        def decode_item(*item: tf.Tensor) -> tuple[tf.Tensor, ...]:
            pixels, ok = decode(item[0], tf.cast(index, tf.int64))
            return (pixels, item[1], ok) if with_labels else (pixels, ok)

        chunks = files.batch(DECODE_CHUNK)
        images = chunks.map(decode_item, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        images = images.unbatch().filter(lambda *element: element[-1])
        return images.map(lambda *element: element[:-1] if with_labels else element[0])

    cached = None if cache_file is None else decoded(items).cache(cache_file)

    def one_pass(seed: int | None) -> tf.data.Dataset:
        if cached is not None:
            images = cached
            if settings.shuffle:
                buffer = min(len(paths), SHUFFLE_BUFFER_CACHED)
                images = images.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
        elif settings.shuffle:
            shuffled = items.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
            images = decoded(shuffled)
        else:
            images = decoded(items)
        return arrays.batch(images, settings)

    def seeded_pass(epoch: tf.Tensor) -> tf.data.Dataset:
        seed = base + epoch
        if not settings.shuffle:
            images = cached if cached is not None else decoded(items, epoch)
        elif cached is None:
            files = permuted(columns, tf.stack([seed, 0]))
            files = tf.data.Dataset.from_tensor_slices(files if with_labels else files[0])
            images = decoded(files, epoch)
        else:

            def shuffle_block(index: tf.Tensor, block: Any) -> Any:
                mixed = permuted(block if with_labels else (block,), tf.stack([seed, index + 1]))
                return mixed if with_labels else mixed[0]

            blocks = cached.batch(SHUFFLE_BUFFER_CACHED).enumerate()
            images = blocks.map(shuffle_block).unbatch()
        return arrays.batch(images, settings)

    if settings.start_epoch is None:
        return one_pass(settings.seed)
    base = _pass_seed(settings.seed) * 2**20
    return tf.data.Dataset.range(settings.start_epoch, 2**62).flat_map(seeded_pass)
