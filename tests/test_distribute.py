"""GAN training under tf.distribute on this CPU: MirroredStrategy over two logical CPU devices
and MultiWorkerMirroredStrategy over two loopback worker processes.

Logical devices must be configured before TensorFlow initialises its devices, so every check
runs in a fresh Python subprocess (a script written to tmp_path), bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_gan.gan  # noqa: F401  (registers GAN for loading the chief's file)

TIMEOUT_S = 150

# Two logical CPU devices, set before anything else touches TensorFlow.
TWO_CPUS = """
import tensorflow as tf
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in ("http_proxy", "https_proxy", "all_proxy", "grpc_proxy")
        and key != "TF_CONFIG"
    }
    env.update(
        TF_CPP_MIN_LOG_LEVEL="2",
        CUDA_VISIBLE_DEVICES="-1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def _run(script: Path, *args: str, timeout: float = TIMEOUT_S) -> dict:
    """Run a script, fail with its output if it fails, return its last JSON line."""
    try:
        done = subprocess.run(
            [sys.executable, str(script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_env(),
            cwd=script.parent,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{script.name} timed out after {timeout} s:\n{error.stdout}\n{error.stderr}")
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr[-6000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


MIRRORED_MATCHES_ONE_DEVICE = (
    TWO_CPUS
    + """
import json
import threading

import keras
import numpy as np
from keras import layers, ops

from keras_gan import GAN

FEATURES, LATENT = 6, 3


def steps(gan):  # int(variable) fails on a MirroredVariable
    return [int(np.asarray(o.iterations)) for o in (gan.d_optimizer, gan.g_optimizer)]


PROJECTIONS = [
    np.random.default_rng(seed).normal(size=(FEATURES, LATENT)).astype("float32")
    for seed in (1, 2)
]


class ExampleNoiseGAN(GAN):
    # The noise of each example is a fixed function of the example (one projection for the
    # D steps, one for the G step), so it does not depend on which replica holds the example
    # nor on the replica-offset seeds: the comparison checks the gradient reduction only.
    _local = threading.local()  # MirroredStrategy traces each replica in its own thread

    def discriminator_step(self, real, labels=None, global_batch_size=None):
        self._local.real, self._local.projection = real, PROJECTIONS[0]
        return super().discriminator_step(real, labels, global_batch_size)

    def generator_step(self, batch_size, labels=None, global_batch_size=None):
        self._local.projection = PROJECTIONS[1]
        return super().generator_step(batch_size, labels, global_batch_size)

    def sample_noise(self, batch_size):
        return ops.matmul(self._local.real, self._local.projection)


def networks():
    keras.utils.set_random_seed(0)
    l2 = keras.regularizers.L2(0.01)  # checks that weight penalties count once, not per replica
    generator = keras.Sequential([
        keras.Input((LATENT,)), layers.Dense(16, activation="tanh", kernel_regularizer=l2),
        layers.Dense(FEATURES),
    ])
    discriminator = keras.Sequential([
        keras.Input((FEATURES,)), layers.Dense(16, kernel_regularizer=l2), layers.LeakyReLU(0.2),
        layers.Dense(1),
    ])
    return generator, discriminator


def train(strategy, data):
    with strategy.scope():
        gan = ExampleNoiseGAN(
            *networks(), latent_dim=LATENT, d_steps=2, seed=0, ema_momentum=0.5
        )
        # Plain SGD: unlike Adam, its update is proportional to the gradient, so a wrong
        # reduction (e.g. a factor of the replica count) shows up in the weights.
        gan.compile(keras.optimizers.SGD(0.2), keras.optimizers.SGD(0.2), "non_saturating")
    history = gan.fit(data, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    return gan, history


data = np.random.default_rng(0).normal(size=(21, FEATURES)).astype("float32")  # 8, 8, 5
one, one_history = train(tf.distribute.get_strategy(), data)  # no strategy
mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert mirrored.num_replicas_in_sync == 2
two, two_history = train(mirrored, data)

errors = {}
for name in ("generator", "discriminator", "generator_ema"):
    for a, b in zip(getattr(one, name).weights, getattr(two, name).weights, strict=True):
        errors[f"{name}/{a.path}"] = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
moved = float(np.max(np.abs(np.asarray(one.discriminator.weights[0]) - networks()[1].weights[0])))
ema_gap = float(max(
    np.max(np.abs(np.asarray(a) - np.asarray(b)))
    for a, b in zip(two.generator.weights, two.generator_ema.weights, strict=True)
))
print(json.dumps({
    "errors": errors,
    "moved": moved,
    "ema_gap": ema_gap,
    "iterations": steps(two),
    "history_one": one_history,
    "history_two": two_history,
}))
"""
)


def test_mirrored_two_replicas_match_one_device_for_the_same_global_batch(tmp_path):
    """Same global batches (including a partial 5 = 3 + 2 split), same per-example noise,
    SGD: the weights after 6 steps (2 D updates each) agree, and so do the logged metrics and
    the generator's moving average."""
    result = _run(_write(tmp_path, "mirrored_matches.py", MIRRORED_MATCHES_ONE_DEVICE))
    assert result["moved"] > 1e-3  # training really changed the weights
    assert result["ema_gap"] > 1e-4  # the generator's average lags its weights (and matches)
    assert result["iterations"] == [12, 6]
    assert max(result["errors"].values()) < 1e-5, result["errors"]
    for name, values in result["history_one"].items():
        np.testing.assert_allclose(result["history_two"][name], values, rtol=1e-5, atol=1e-6)


MIRRORED_NOISE = (
    TWO_CPUS
    + """
import json

import numpy as np

from keras_gan import GAN, networks

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    g, d = networks.build("mlp", (4,), 2, generator_hidden=(8,), discriminator_hidden=(8,))
    gan = GAN(g, d, latent_dim=2, seed=7)
    gan.compile()
gan.fit(np.zeros((24, 4), "float32"), batch_size=8, epochs=1, verbose=0)  # 3 steps
states = [np.asarray(s).tolist() for s in strategy.experimental_local_results(
    gan.seed_generator.state.value)]


@tf.function
def draw():
    return strategy.run(gan.sample_noise, args=(5,))


draws = [np.asarray(z) for _ in range(3) for z in strategy.experimental_local_results(draw())]
rows = np.concatenate(draws)
print(json.dumps({
    "states": states,
    "distinct_rows": len({tuple(np.round(r, 6)) for r in rows}),
    "rows": len(rows),
}))
"""
)


def test_seed_generator_under_mirrored_strategy(tmp_path):
    """The noise SeedGenerator's state advances identically on every replica (one draw per D
    step and per G step), and replicas never reuse each other's noise across steps."""
    result = _run(_write(tmp_path, "mirrored_noise.py", MIRRORED_NOISE))
    assert result["states"] == [[7, 6], [7, 6]]  # 3 steps x (1 D + 1 G) draws, both replicas
    assert result["distinct_rows"] == result["rows"] == 30


MIRRORED_RESUME = (
    TWO_CPUS
    + """
import json
import sys

import keras
import numpy as np

from keras_gan import GAN, networks

def steps(gan):  # int(variable) fails on a MirroredVariable
    return [int(np.asarray(o.iterations)) for o in (gan.d_optimizer, gan.g_optimizer)]


path = sys.argv[1]
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
data = np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
with strategy.scope():
    g, d = networks.build("dcgan", (8, 8, 1), 4, base_filters=4, normalization="none")
    gan = GAN(g, d, latent_dim=4, seed=3)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), "hinge")
gan.fit(data, batch_size=16, epochs=1, shuffle=False, verbose=0)
gan.save(path)

with strategy.scope():
    restored = keras.saving.load_model(path, safe_mode=True)
mirrored = isinstance(restored.discriminator.weights[0].value, tf.distribute.DistributedValues)
at_load = steps(restored)
gan.fit(data, batch_size=16, epochs=1, shuffle=False, verbose=0)
restored.fit(data, batch_size=16, epochs=1, shuffle=False, verbose=0)
error = max(
    float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
    for a, b in zip(gan.weights, restored.weights, strict=True)
)
print(json.dumps({
    "mirrored": mirrored,
    "at_load": at_load,
    "after": steps(restored),
    "error": error,
}))
"""
)


def test_resumed_multi_replica_run_continues(tmp_path):
    """Train 2 steps on 2 replicas, save, reload in the strategy's scope, train 2 more: the
    optimizers' iteration counts continue and the weights match an uninterrupted run."""
    script = _write(tmp_path, "mirrored_resume.py", MIRRORED_RESUME)
    result = _run(script, str(tmp_path / "gan.keras"))
    assert result["mirrored"]
    assert result["at_load"] == [2, 2]
    assert result["after"] == [4, 4]
    assert result["error"] < 1e-5


MULTI_WORKER = """
import json
import sys

from keras_gan import performance

strategy = performance.make_strategy("multiworker")  # first: before any other TF call

import keras
import numpy as np
import tensorflow as tf

from keras_gan import GAN, networks

def steps(gan):  # int(variable) fails on a MirroredVariable
    return [int(np.asarray(o.iterations)) for o in (gan.d_optimizer, gan.g_optimizer)]


out_dir = sys.argv[1]
with strategy.scope():
    g, d = networks.build("dcgan", (8, 8, 1), 4, base_filters=4)
    gan = GAN(g, d, latent_dim=4, seed=11)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
real = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices(real).repeat().batch(16)
gan.fit(dataset, epochs=1, steps_per_epoch=3, verbose=0)
task = json.loads(__import__("os").environ["TF_CONFIG"])["task"]["index"]
chief = performance.is_chief(strategy)
if chief:
    gan.save(f"{out_dir}/gan.keras")  # only the chief writes
np.savez(
    f"{out_dir}/worker{task}.npz",
    *[np.asarray(v) for v in gan.trainable_variables],
    iterations=np.array(steps(gan)),
    seed_state=np.asarray(gan.seed_generator.state),
)
print(json.dumps({"task": task, "chief": chief, "replicas": strategy.num_replicas_in_sync}))
"""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_multi_worker_loopback_workers_end_with_identical_weights(tmp_path):
    """Two worker processes on 127.0.0.1 train 3 steps with MultiWorkerMirroredStrategy; both
    end with the same trainable weights, optimizer steps and noise state; only worker 0 (the
    chief) saves the model, and that file loads."""
    script = _write(tmp_path, "worker.py", MULTI_WORKER)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(
            subprocess.Popen(
                [sys.executable, str(script), str(tmp_path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(TF_CONFIG=config),
                cwd=tmp_path,
            )
        )
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=TIMEOUT_S))
    except subprocess.TimeoutExpired:
        pytest.fail("multi-worker training timed out")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    for worker, (stdout, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, f"{stdout}\n{stderr[-6000:]}"
    results = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    assert [r["chief"] for r in results] == [True, False]
    assert all(r["replicas"] == 2 for r in results)

    first, second = (np.load(tmp_path / f"worker{i}.npz") for i in range(2))
    assert sorted(first.files) == sorted(second.files)
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    assert first["iterations"].tolist() == [3, 3]
    restored = keras.saving.load_model(tmp_path / "gan.keras", safe_mode=True)
    for index, variable in enumerate(restored.trainable_variables):
        np.testing.assert_array_equal(np.asarray(variable), first[f"arr_{index}"])
