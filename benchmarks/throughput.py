"""Training-step throughput (images/s) of keras_gan.GAN against a reference, with FLOPs and
the fraction of this machine's measured matmul peak.

Cases are ``implementation / networks / precision / batch``:

- implementation ``project``: ``keras_gan.GAN`` (``compile`` + ``fit``), non-saturating loss;
  ``reference``: the keras.io "DCGAN overriding train_step" pattern (a ``keras.Model`` whose
  ``train_step`` runs D once on ``concat(fake, real)`` with ``BinaryCrossentropy(from_logits)``
  and noisy labels, then a G step; noise from a ``SeedGenerator``), written out below.
- networks ``dcgan``: ``keras_gan.networks`` DCGAN for 28x28x1 (the project default);
  ``tutorial``: the TensorFlow DCGAN tutorial networks (G: Dense(7*7*256) BN LReLU,
  ConvT(128,5,1) BN LReLU, ConvT(64,5,2) BN LReLU, ConvT(1,5,2) tanh; D: Conv(64,5,2) LReLU
  Dropout(.3), Conv(128,5,2) LReLU Dropout(.3), Dense(1)); ``mlp``: ``keras_gan.networks`` MLP.
  Both implementations run both network sets, so implementation and architecture effects are
  separate rows. The last layer of each network computes in float32 under a mixed policy.

FLOPs are counted analytically (2 per multiply-add of every Dense/Conv2D/Conv2DTranspose,
forward and backward: the D step runs G forward and D forward, weight-gradient and
input-gradient passes on 2B images; the G step runs G and D forward, D input gradients, G
weight and input gradients; no input gradient for a network's first layer). Elementwise ops,
normalisation and optimizer updates are not counted, so the fraction of peak is a lower bound;
the forward counts are cross-checked against ``tf.compat.v1.profiler`` at start-up.
The peak is the best of several 2048^3 matmuls per dtype, timed in every round of the run.
Cases are built first, then timed round-robin (``--rounds`` rounds of ``--steps`` steps after
one untimed execution); a case reports its best round and its median round.

    python benchmarks/throughput.py                     # the default tables (~5 min, 2 cores)
    python benchmarks/throughput.py --nets dcgan --precisions mixed_bfloat16 --batch-sizes 128
    python benchmarks/throughput.py --options-only       # jit_compile / steps_per_execution

Timings on a shared machine are noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from keras_gan import GAN, networks, performance

IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 100
IMPLEMENTATIONS = ("reference", "project")
NETS = ("dcgan", "tutorial", "mlp")


# ---------------------------------------------------------------------------- reference
def tutorial_generator(latent_dim: int = LATENT_DIM) -> keras.Model:
    """G of the TensorFlow DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan)."""
    return keras.Sequential(
        [
            keras.Input((latent_dim,)),
            layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False),
            layers.Activation("tanh", dtype="float32"),
        ],
        name="tutorial_generator",
    )


def tutorial_discriminator() -> keras.Model:
    """D of the TensorFlow DCGAN tutorial, one logit per image."""
    return keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Conv2D(64, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Conv2D(128, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1),
            layers.Activation("linear", dtype="float32"),
        ],
        name="tutorial_discriminator",
    )


class ReferenceGAN(keras.Model):
    """keras.io "DCGAN to generate face images" (fchollet): train_step overridden, D on
    concat(fake, real) with noisy labels, then G; ``training=True`` as in the TF tutorial."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, **kwargs) -> None:
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        with self.distribute_strategy.scope():
            d_optimizer.build(self.discriminator.trainable_variables)
            g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self) -> list:
        return [self.d_loss_metric, self.g_loss_metric]

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(z, training=True)
        combined = ops.concatenate([generated, real_images], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined, training=True))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights, strict=True)
        )

        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        misleading_labels = ops.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights, strict=True))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


# ---------------------------------------------------------------------------- FLOPs
def layer_macs(layer: layers.Layer) -> int:
    """Multiply-adds per example of a Dense/Conv2D/Conv2DTranspose layer, else 0."""
    if isinstance(layer, layers.Dense):
        in_shape = layer.input.shape
        return math.prod(in_shape[1:-1]) * in_shape[-1] * layer.units
    if isinstance(layer, layers.Conv2DTranspose):
        _, height, width, channels_in = layer.input.shape
        return height * width * math.prod(layer.kernel_size) * channels_in * layer.filters
    if isinstance(layer, layers.Conv2D):
        _, height, width, _ = layer.output.shape
        channels_in = layer.input.shape[-1]
        return height * width * math.prod(layer.kernel_size) * channels_in * layer.filters
    return 0


def model_macs(model: keras.Model) -> tuple[int, int]:
    """(forward multiply-adds per example, those of the first weight layer)."""
    macs = [layer_macs(layer) for layer in model.layers]
    macs = [m for m in macs if m]
    return sum(macs), macs[0]


def step_flops(generator: keras.Model, discriminator: keras.Model, batch_size: int) -> int:
    """FLOPs of one GAN training step (one D update, one G update) for ``batch_size``."""
    g, g_first = model_macs(generator)
    d, d_first = model_macs(discriminator)
    d_step = g + 2 * d + 2 * d + 2 * (d - d_first)  # G fwd; D fwd, weight grads, input grads
    g_step = g + d + d + g + (g - g_first)  # G fwd, D fwd, D input grads, G weight + input
    return 2 * batch_size * (d_step + g_step)


def profiler_forward_flops(model: keras.Model, batch_size: int) -> int:
    """Forward FLOPs of ``model`` counted by ``tf.compat.v1.profiler`` on the graph of a
    concrete function: a cross-check of the analytic count (it also counts bias additions,
    normalisation and activations)."""
    function = tf.function(lambda x: model(x, training=False))
    spec = tf.TensorSpec((batch_size, *model.inputs[0].shape[1:]), "float32")
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    graph = function.get_concrete_function(spec).graph
    return tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops


def matmul_peak(dtype: str, n: int = 2048, repeats: int = 8) -> float:
    """Best FLOP/s of an n x n matmul in ``dtype`` over ``repeats`` timed runs."""
    a = tf.cast(tf.random.normal((n, n)), dtype)
    b = tf.cast(tf.random.normal((n, n)), dtype)
    matmul = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)[:1, :1]))
    float(matmul(a, b))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        float(matmul(a, b))
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


# ---------------------------------------------------------------------------- cases
@dataclass
class Case:
    implementation: str
    nets: str
    precision: str
    batch_size: int
    jit_compile: str = "off"
    steps_per_execution: int = 1


@dataclass
class Result:
    case: Case
    images_per_s: float  # best round
    median_images_per_s: float
    flops_per_step: int


def build_networks(nets: str) -> tuple[keras.Model, keras.Model]:
    if nets == "tutorial":
        return tutorial_generator(), tutorial_discriminator()
    return networks.build(nets, IMAGE_SHAPE, LATENT_DIM)


def build_model(case: Case) -> keras.Model:
    generator, discriminator = build_networks(case.nets)
    options = performance.compile_options(case.jit_compile, case.steps_per_execution)
    adam = lambda: keras.optimizers.Adam(2e-4, beta_1=0.5)  # noqa: E731
    if case.implementation == "project":
        model = GAN(generator, discriminator, latent_dim=LATENT_DIM, seed=0)
        model.compile(adam(), adam(), "non_saturating", **options)
    else:
        model = ReferenceGAN(generator, discriminator, LATENT_DIM)
        model.compile(adam(), adam(), **options)
    return model


class _StepTimes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times: list[tuple[int, float]] = []

    def on_train_batch_end(self, batch, logs=None):
        float(logs["g_loss"])  # wait for the step's results
        self.times.append((batch, time.perf_counter()))


class Runner:
    """One built and compiled model for a case, timed in rounds of ``fit``."""

    def __init__(self, case: Case, warmup: int):
        self.case = case
        performance.set_precision(case.precision)
        try:
            self.model = build_model(case)
        finally:
            performance.set_precision("float32")
        self.flops = step_flops(self.model.generator, self.model.discriminator, case.batch_size)
        real = np.random.default_rng(0).uniform(-1, 1, (2048, *IMAGE_SHAPE)).astype("float32")
        self.dataset = (
            tf.data.Dataset.from_tensor_slices(real)
            .repeat()
            .batch(case.batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE)
        )
        self.rates: list[float] = []
        self._fit(self._whole_executions(warmup))  # tracing and first steps: not timed

    def _whole_executions(self, steps: int) -> int:
        spe = self.case.steps_per_execution
        return max(spe, -(-steps // spe) * spe)

    def _fit(self, steps: int) -> list[tuple[int, float]]:
        timer = _StepTimes()
        self.model.fit(self.dataset, epochs=1, steps_per_epoch=steps, callbacks=[timer], verbose=0)
        return timer.times

    def time_round(self, steps: int) -> None:
        """images/s over ``steps`` steps, after one untimed execution (iterator start-up)."""
        spe = self.case.steps_per_execution
        times = self._fit(spe + self._whole_executions(steps))
        (first_batch, start), (last_batch, end) = times[0], times[-1]
        self.rates.append((last_batch - first_batch) * self.case.batch_size / (end - start))

    def result(self) -> Result:
        return Result(
            self.case, max(self.rates), sorted(self.rates)[len(self.rates) // 2], self.flops
        )


def run_cases(cases: list[Case], args: argparse.Namespace, peaks: dict[str, float]) -> list:
    """Build every case, then time them round-robin so load from other processes spreads
    evenly; each case reports its best and median round."""
    runners = []
    for case in cases:
        runners.append(Runner(case, args.warmup))
        print(".", end="", flush=True)
    for _ in range(args.rounds):
        for runner in runners:
            runner.time_round(args.steps)
        if not args.skip_peak:
            for dtype in ("float32", "bfloat16"):
                peaks[dtype] = max(peaks.get(dtype, 0.0), matmul_peak(dtype, repeats=2))
        print(".", end="", flush=True)
    print()
    return [runner.result() for runner in runners]


def _short(precision: str) -> str:
    return {"float32": "f32", "mixed_bfloat16": "bf16", "mixed_float16": "f16"}[precision]


def reference_baseline(result: Result, results: list[Result]) -> Result | None:
    """The reference float32 row at the same batch size: tutorial networks for both DCGAN
    rows, the MLP for MLP rows."""
    family = "mlp" if result.case.nets == "mlp" else "tutorial"
    return next(
        (
            r
            for r in results
            if r.case == Case("reference", family, "float32", result.case.batch_size)
        ),
        None,
    )


def plain_baseline(result: Result, results: list[Result]) -> Result | None:
    """The same case without XLA and with one step per execution."""
    case = result.case
    plain = Case(case.implementation, case.nets, case.precision, case.batch_size)
    return next((r for r in results if r.case == plain), None)


def print_table(
    results: list[Result], peaks: dict[str, float], title: str, baseline, ratio_name: str
) -> None:
    """One row per case with images/s (best and median round), the ratio to ``baseline``,
    FLOPs per step, achieved FLOP/s and its share of the matmul peak of the same dtype."""
    print(f"\n{title}")
    header = (
        f"{'impl':<9} {'nets':<8} {'prec':<4} {'batch':>5} {'jit':>3} {'spe':>3} "
        f"{'img/s':>6} {'median':>6} {ratio_name:>10} {'GFLOP/step':>10} {'GFLOP/s':>7} "
        f"{'% peak':>6}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        case = result.case
        base = baseline(result, results)
        ratio = f"{result.images_per_s / base.images_per_s:10.2f}" if base else f"{'-':>10}"
        flops_per_s = result.flops_per_step * result.images_per_s / case.batch_size
        peak = peaks.get("bfloat16" if "bfloat16" in case.precision else "float32")
        share = f"{100 * flops_per_s / peak:5.0f}%" if peak else f"{'-':>6}"
        print(
            f"{case.implementation:<9} {case.nets:<8} {_short(case.precision):<4} "
            f"{case.batch_size:>5} {case.jit_compile:>3} {case.steps_per_execution:>3} "
            f"{result.images_per_s:>6.0f} {result.median_images_per_s:>6.0f} {ratio} "
            f"{result.flops_per_step / 1e9:>10.1f} {flops_per_s / 1e9:>7.0f} {share}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--implementations", nargs="+", default=list(IMPLEMENTATIONS))
    parser.add_argument("--nets", nargs="+", default=list(NETS), choices=NETS)
    parser.add_argument(
        "--precisions", nargs="+", default=["float32", "mixed_bfloat16"],
        choices=performance.PRECISIONS,
    )  # fmt: skip
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[128, 256])
    parser.add_argument("--mlp-batch-sizes", nargs="+", type=int, default=[128])
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps (tracing)")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per case")
    parser.add_argument("--skip-options", action="store_true", help="no jit/spe section")
    parser.add_argument("--options-only", action="store_true", help="only the jit/spe section")
    parser.add_argument("--skip-peak", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    peaks: dict[str, float] = {}
    print("forward GFLOP per 128 images, analytic (2 x multiply-adds) / tf profiler:")
    for nets in args.nets:
        for model in build_networks(nets):
            analytic = 2 * model_macs(model)[0] * 128
            counted = profiler_forward_flops(model, 128)
            print(f"  {nets:<8} {model.name:<24} {analytic / 1e9:7.3f} / {counted / 1e9:7.3f}")
    keras.backend.clear_session()
    if not args.skip_peak:
        peaks = {dtype: matmul_peak(dtype) for dtype in ("float32", "bfloat16")}
    tables = []
    if not args.options_only:
        cases = [
            Case(implementation, nets, precision, batch_size)
            for nets in args.nets
            for batch_size in (args.mlp_batch_sizes if nets == "mlp" else args.batch_sizes)
            for precision in args.precisions
            for implementation in args.implementations
        ]
        title = "Training step (img/s: best round; x ref f32: reference float32, same batch)"
        tables.append((run_cases(cases, args, peaks), title, reference_baseline, "x ref f32"))
    if not args.skip_options:
        batch = args.batch_sizes[0]
        options = {"dcgan": (("off", 1), ("on", 1), ("off", 8)), "mlp": (("off", 1), ("off", 8))}
        cases = [
            Case("project", nets, precision, batch, jit, spe)
            for nets in ("dcgan", "mlp")
            for precision in args.precisions
            for jit, spe in options[nets]
        ]
        title = "jit_compile and steps_per_execution (project GAN; x plain: jit off, spe 1)"
        tables.append((run_cases(cases, args, peaks), title, plain_baseline, "x plain"))
    for results, title, baseline, ratio_name in tables:
        print_table(results, peaks, title, baseline, ratio_name)
    if peaks:
        print(
            "\nmatmul peak (2048^3, best of all timings): "
            + ", ".join(f"{dtype} {flops / 1e9:.0f} GFLOP/s" for dtype, flops in peaks.items())
        )
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
