"""How a GAN step's numbers are shared between `tf.distribute` replicas.

Losses are summed over the examples and divided by the global batch size, the reduction that
gives the right gradient when `tf.distribute` sums the replicas' gradients; each replica draws
its own noise; step logs take the shape multi-worker training needs.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

__all__ = ["global_batch_size", "num_replicas", "replica_seed", "step_logs"]


def num_replicas() -> int:
    """Replicas of the current `tf.distribute` strategy (1 outside any)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def _replica_id() -> Any:
    context = tf.distribute.get_replica_context()
    return 0 if context is None else context.replica_id_in_sync_group


def _multi_worker(strategy: tf.distribute.Strategy) -> bool:
    """Whether `strategy` is a MultiWorkerMirroredStrategy over more than one task."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    jobs = strategy.cluster_resolver.cluster_spec().as_dict()
    return sum(len(jobs.get(job, ())) for job in ("chief", "worker")) > 1


def step_logs(metrics: list[keras.metrics.Metric]) -> dict[str, Any]:
    """The metrics' results, as `train_step`/`test_step` return them.

    Under multi-worker training Keras 3 reduces these per step with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars
    (tensorflow/tensorflow#72388), so there they are returned with shape (1,).
    """
    logs = {metric.name: metric.result() for metric in metrics}
    if _multi_worker(tf.distribute.get_strategy()):
        logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
    return logs


def global_batch_size(local_batch_size: Any) -> Any:
    """Examples in this step summed over all replicas (float32).

    One replica: the local size. Several: an all-reduce of the local sizes, so that an uneven
    split (a partial last batch spread over the replicas) still divides by the true total.
    """
    local = ops.cast(local_batch_size, "float32")
    context = tf.distribute.get_replica_context()
    replicas = num_replicas()
    if replicas == 1:
        return local
    if context is None:  # cross-replica context: assume an even split
        return local * float(replicas)
    return context.all_reduce(tf.distribute.ReduceOp.SUM, local)


def replica_seed(seed_generator: keras.random.SeedGenerator) -> Any:
    """The next seed `[s, k]` of `seed_generator`, with `s` offset by the replica id.

    So each `tf.distribute` replica draws its own noise. The offset goes on the stream key
    `s`, not on the counter `k`: with `[s, k + r]` replica 1's noise at one call would repeat
    replica 0's at the next. Every replica advances its copy of the state identically, so the
    copies stay in sync.
    """
    seed = seed_generator.next()
    return seed + ops.cast(ops.stack([_replica_id(), 0]), seed.dtype)
