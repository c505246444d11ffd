"""Speed and scale-out: precision, XLA, steps per execution and `tf.distribute` strategies.

Each function maps one training flag to the library (`--precision`, `--jit-compile`,
`--steps-per-execution`, `--strategy`); the names offered as choices live in
`keras_gan.training.config`, which needs no TensorFlow. How to wire them into a script, and the
sources (Keras mixed precision guide, Micikevicius et al. 2018, TensorFlow's distributed
training guides), are in docs/training.md.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from keras_gan.errors import KerasGanError, is_integer, one_line
from keras_gan.training.config import (
    JIT_COMPILE_CHOICES,
    PRECISION_CHOICES,
    PRECISIONS,
    STRATEGIES,
)

__all__ = [
    "JIT_COMPILE_CHOICES",
    "PRECISIONS",
    "PRECISION_CHOICES",
    "STRATEGIES",
    "compile_options",
    "is_chief",
    "make_strategy",
    "parse_jit_compile",
    "parse_steps_per_execution",
    "recommended_precision",
    "set_precision",
    "worker_path",
]


# ---------------------------------------------------------------------------- precision
def set_precision(name: str) -> keras.DTypePolicy:
    """Set the global Keras dtype policy; call it before building the networks.

    Under a mixed policy layers compute in 16 bits and keep float32 weights; the
    `keras_gan.networks` builders end in float32 layers (G's output, D's logit), the losses
    run in float32 and `GAN.compile` adds loss scaling for float16 (Micikevicius et al. 2018).
    bfloat16 has float32's exponent range and needs no loss scaling.

    Args:
        name: one of `PRECISIONS` (also `fp32`, `bf16`, `fp16`, `-` for `_`), or "auto" for
            `recommended_precision`.

    Returns:
        The policy now in force.

    Raises:
        KerasGanError: for an unknown name.
    """
    key = str(name).strip().lower().replace("-", "_")
    key = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}.get(key, key)
    if key == "auto":
        key = recommended_precision()
    if key not in PRECISIONS:
        raise KerasGanError(f"Unknown precision {name!r}; choose one of {', '.join(PRECISIONS)}.")
    keras.mixed_precision.set_dtype_policy(key)
    return keras.mixed_precision.dtype_policy()


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def recommended_precision() -> str:
    """The precision this machine trains fastest in (see docs/benchmarks.md).

    Returns:
        "mixed_bfloat16" where bfloat16 math is native (GPU compute capability >= 8.0, TPU,
        x86 CPU with AVX512_BF16 or AMX-BF16), otherwise "float32".
    """
    if tf.config.list_physical_devices("TPU"):
        return "mixed_bfloat16"
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        capability = details.get("compute_capability") or (0, 0)
        return "mixed_bfloat16" if tuple(capability) >= (8, 0) else "float32"
    if platform.machine().lower() in ("x86_64", "amd64") and (
        {"avx512_bf16", "amx_bf16"} & _cpu_flags()
    ):
        return "mixed_bfloat16"
    return "float32"


# ---------------------------------------------------------------------------- compilation
def parse_jit_compile(value: str | bool) -> str | bool:
    """`--jit-compile auto|on|off` -> "auto", `True` or `False` for `GAN.compile`.

    "auto" is Keras's rule: XLA on a GPU/TPU without a distribution strategy, off on CPU-only
    machines (where XLA measured 0.6-0.75x, docs/benchmarks.md) and under `tf.distribute`.

    Args:
        value: "auto", "on"/"true", "off"/"false" (any case), or a `bool`.

    Returns:
        "auto", `True` or `False`.

    Raises:
        KerasGanError: for any other value.
    """
    if isinstance(value, bool):
        return value
    key = str(value).strip().lower()
    mapping = {"auto": "auto", "on": True, "true": True, "off": False, "false": False}
    if key not in mapping:
        raise KerasGanError(f"jit_compile must be auto, on or off, got {value!r}.")
    return mapping[key]


def parse_steps_per_execution(value: int | str) -> int:
    """`--steps-per-execution N` -> N for `GAN.compile`.

    N train steps run per call of the compiled function: fewer Python round trips, but
    callbacks see every N-th batch. Worth it when a step takes milliseconds (see
    docs/benchmarks.md, Throughput).

    Args:
        value: an integer, or its digits as text.

    Returns:
        N, at least 1.

    Raises:
        KerasGanError: for anything but a positive integer.
    """
    number = int(value.strip()) if isinstance(value, str) and value.strip().isdigit() else value
    if not is_integer(number) or number < 1:
        raise KerasGanError(f"steps_per_execution must be a positive integer, got {value!r}.")
    return int(number)


def compile_options(
    jit_compile: str | bool = "auto", steps_per_execution: int | str = 1
) -> dict[str, Any]:
    """Keyword arguments for `GAN.compile` from the two flags' raw values.

    Args:
        jit_compile: as `parse_jit_compile` takes it.
        steps_per_execution: as `parse_steps_per_execution` takes it.

    Returns:
        `{"jit_compile": ..., "steps_per_execution": ...}`.
    """
    return {
        "jit_compile": parse_jit_compile(jit_compile),
        "steps_per_execution": parse_steps_per_execution(steps_per_execution),
    }


# ---------------------------------------------------------------------------- distribution
def _tf_config() -> dict | None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise KerasGanError(f"TF_CONFIG is not valid JSON: {error}.") from None
    if not isinstance(config, dict):
        raise KerasGanError("TF_CONFIG must be a JSON object with 'cluster' and 'task'.")
    return config


def _check_multiworker_config(config: dict | None) -> None:
    if config is None:
        raise KerasGanError(
            "multiworker needs the TF_CONFIG environment variable on every worker, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}.'
        )
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not (cluster.get("worker") or cluster.get("chief")):
        raise KerasGanError(
            "TF_CONFIG needs a 'cluster' with a 'worker' (or 'chief') address list."
        )
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise KerasGanError('TF_CONFIG needs a \'task\' such as {"type": "worker", "index": 0}.')
    addresses = cluster.get(task["type"])
    if not isinstance(addresses, list) or not 0 <= int(task["index"]) < len(addresses):
        raise KerasGanError(
            f"TF_CONFIG task {task['type']}:{task['index']} is not in the cluster {cluster}."
        )


def _tpu_strategy(tpu: str | None) -> tf.distribute.Strategy:
    name = tpu if tpu is not None else os.environ.get("TPU_NAME")
    if name is None and any(Path("/dev").glob("accel*")):
        name = "local"  # a TPU VM: chips attached to this host
    if name is None:
        raise KerasGanError("No TPU found: set TPU_NAME or pass tpu='name' (or run on a TPU VM).")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=name)
        if name != "local":
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        raise KerasGanError(f"Cannot connect to TPU {name!r}: {one_line(error)}") from None
    return tf.distribute.TPUStrategy(resolver)


def make_strategy(
    name: str = "default", *, devices: list[str] | None = None, tpu: str | None = None
) -> tf.distribute.Strategy:
    """A `tf.distribute.Strategy` for `--strategy default|mirrored|multiworker|tpu`.

    - default: no distribution (one device; a GPU if TensorFlow sees one).
    - mirrored: all local GPUs (or `devices`), synchronous data parallelism on one machine.
    - multiworker: `MultiWorkerMirroredStrategy` over the machines in `TF_CONFIG`; create
      it before any other TensorFlow call in the program, on every worker.
    - tpu: `TPUStrategy` on `tpu` (name or address; default `$TPU_NAME` or a TPU VM).

    The dataset's batch size is the global batch (split over replicas); losses are reduced
    by the global batch size inside `GAN.train_step`.

    Args:
        name: one of `STRATEGIES` (also `multi_worker`, `none`, `one_device`).
        devices: the devices of a mirrored strategy; `None` for all local GPUs.
        tpu: the TPU of a tpu strategy.

    Returns:
        The strategy.

    Raises:
        KerasGanError: in one line, for an unknown name, a bad `TF_CONFIG` or no TPU.
    """
    key = str(name).strip().lower().replace("-", "_")
    key = {"multi_worker": "multiworker", "none": "default", "one_device": "default"}.get(key, key)
    if key == "default":
        return tf.distribute.get_strategy()
    if key == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    if key == "multiworker":
        _check_multiworker_config(_tf_config())
        return tf.distribute.MultiWorkerMirroredStrategy()
    if key == "tpu":
        return _tpu_strategy(tpu)
    raise KerasGanError(f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")


def _task(strategy: tf.distribute.Strategy | None) -> tuple[str | None, int, bool]:
    """(task type, task index, whether the cluster has a 'chief' job)."""
    resolver = getattr(strategy, "cluster_resolver", None) if strategy is not None else None
    if resolver is not None and getattr(resolver, "task_type", None) is not None:
        cluster = resolver.cluster_spec().as_dict()
        return resolver.task_type, int(resolver.task_id or 0), "chief" in cluster
    config = _tf_config()
    if not config or "task" not in config:
        return None, 0, False
    task = config["task"]
    return task.get("type"), int(task.get("index", 0)), "chief" in config.get("cluster", {})


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Whether this process is the one that writes checkpoints, samples and logs.

    True without a cluster (no `TF_CONFIG`, single machine, TPU host); in a multi-worker
    cluster, the `chief` task, or worker 0 when the cluster has no chief (the TensorFlow
    multi-worker convention). Non-chief workers still run every training step.

    Args:
        strategy: the run's strategy; `None` reads `TF_CONFIG`.

    Returns:
        Whether this process is the chief.
    """
    if isinstance(strategy, tf.distribute.TPUStrategy):
        return True
    task_type, task_index, has_chief = _task(strategy)
    if task_type is None:
        return True
    if task_type == "chief":
        return True
    return task_type == "worker" and task_index == 0 and not has_chief


def worker_path(path: str | os.PathLike, strategy: tf.distribute.Strategy | None = None) -> Path:
    """`path` on the chief; a per-worker scratch path beside it elsewhere.

    For saves that every worker must make together (e.g. a `tf.train.Checkpoint` under
    `MultiWorkerMirroredStrategy`): non-chief workers write to `<parent>/.worker_<type>_<i>/`
    and may delete it afterwards.

    Args:
        path: where the chief writes.
        strategy: the run's strategy; `None` reads `TF_CONFIG`.

    Returns:
        The path this process writes to.
    """
    path = Path(path)
    if is_chief(strategy):
        return path
    task_type, task_index, _ = _task(strategy)
    return path.parent / f".worker_{task_type}_{task_index}" / path.name
