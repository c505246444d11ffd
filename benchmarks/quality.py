"""Sample quality at equal wall time: keras_gan's default DCGAN against two Keras references.

Each configuration trains on the full Fashion-MNIST training split (60,000 images, loaded with
``keras_gan.data.load("fashion_mnist")``) for the same wall-clock budget (``--minutes``, timed
from the start of ``fit``, so graph tracing counts), then is scored on ``--eval-n`` samples
against as many real test images in one feature space, the Fashion-MNIST domain classifier of
``keras_gan.evaluation`` (trained once and cached; the first run spends ~2 minutes on it).

Configurations (``--configs``; the first three by default):

* ``default``: the project's default, exactly what ``train.py --dataset fashion_mnist`` builds
  (``training.build_gan`` of the resolved ``TrainConfig``) at the project's default precision,
  scored on its sampling generator (the moving average of G's weights). The raw generator is
  scored too, as a ``default (raw G)`` row, to show what the average adds.
* ``tutorial``: the keras.io "DCGAN overriding train_step" pattern (a ``keras.Model`` with its
  own ``train_step``: real and fake concatenated for D, noisy labels, BinaryCrossentropy from
  logits, a ``SeedGenerator``) with the TensorFlow DCGAN tutorial's 28x28 networks and
  settings: Adam 1e-4 for both, batch 256, float32.
* ``paper``: the same model with the DCGAN paper's settings (Radford et al. 2016): Adam 2e-4,
  beta_1 0.5, batch 64, under ``mixed_bfloat16``.
* ``default-float32`` / ``default-bf16``: ``default`` at the other precision.

``--override JSON`` changes the project configs' ``TrainConfig`` fields (e.g. ``'{"batch_size":
128, "ema_momentum": 0}'``: the previous default), for finding out what a setting is worth;
``--eval-at 3,6`` also scores every model after that many minutes of training (the clock is
paused meanwhile) on ``--eval-at-n`` samples.

    python benchmarks/quality.py [--minutes 10] [--eval-n 10000] [--configs default,tutorial,paper]

Prints one table (images seen, images/s, FID, KID, classifier score, classes covered, class KL)
and a Markdown version of it, and saves an 8x8 sample grid per configuration as
``docs/img/quality_<config>.png`` (``--img-dir``).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import dataclasses
import functools
import json
import platform
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops
from PIL import Image

from keras_gan import data, evaluation, latent, training
from keras_gan.gan import sampling_generator

DATASET = "fashion_mnist"
IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 100
DEFAULT_CONFIGS = ("default", "tutorial", "paper")
GRID_SAMPLES = 64


# ----------------------------------------------------------------------------- time budget
class TimeBudget(keras.callbacks.Callback):
    """Stops ``fit`` after the first batch that ends past ``seconds`` of training (timed from
    ``on_train_begin``, less the time spent in ``checks``) and counts the batches trained.

    ``checks`` maps minutes of training to a function of the model called once that much
    training time has passed (intermediate evaluations); its time is not counted.
    """

    def __init__(self, seconds: float, checks: dict[float, Callable] | None = None) -> None:
        super().__init__()
        self.seconds = float(seconds)
        self.checks = dict(sorted((checks or {}).items()))
        self.batches = 0
        self.started = 0.0
        self.elapsed = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.batches += 1
        self.elapsed = time.perf_counter() - self.started
        due = [minutes for minutes in self.checks if self.elapsed >= minutes * 60.0]
        for minutes in due:
            paused = time.perf_counter()
            self.checks.pop(minutes)(self.model, self.batches, self.elapsed)
            self.started += time.perf_counter() - paused
        if self.elapsed >= self.seconds:
            self.model.stop_training = True


# ----------------------------------------------------------------------------- references
def tutorial_generator(output_float32: bool = False) -> keras.Model:
    """The TensorFlow DCGAN tutorial's MNIST generator (tensorflow.org/tutorials/generative/
    dcgan). ``output_float32``: the last layer in float32, as the Keras mixed precision guide
    asks for the model's output."""
    return keras.Sequential(
        [
            keras.Input((LATENT_DIM,)),
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
            layers.Conv2DTranspose(
                1,
                5,
                strides=2,
                padding="same",
                use_bias=False,
                activation="tanh",
                dtype="float32" if output_float32 else None,
            ),
        ],
        name="tutorial_generator",
    )


def tutorial_discriminator(output_float32: bool = False) -> keras.Model:
    """The TensorFlow DCGAN tutorial's MNIST discriminator (one logit)."""
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
            layers.Dense(1, dtype="float32" if output_float32 else None),
        ],
        name="tutorial_discriminator",
    )


class KerasIoGAN(keras.Model):
    """The keras.io "DCGAN overriding train_step" model, as a Keras user writes it today.

    D sees real and fake images in one concatenated batch (fake = 1, real = 0, plus 0.05
    uniform label noise, "an important trick" in that example); G is trained to make D say 0.
    Both networks run with ``training=True`` as in the TensorFlow tutorial (BatchNorm, Dropout).
    """

    def __init__(self, discriminator: keras.Model, generator: keras.Model, latent_dim: int):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn) -> None:
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self) -> list:
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(noise, training=True)
        combined = ops.concatenate([ops.cast(generated, "float32"), real_images], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined, training=True)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights, strict=True)
        )

        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        misleading_labels = ops.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(noise, training=True), training=True)
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights, strict=True))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


# ----------------------------------------------------------------------------- configurations
@dataclasses.dataclass
class Config:
    name: str
    description: str
    batch_size: int
    precision: str
    build: Callable[[], keras.Model]


def project_precision() -> str:
    """The precision ``train.py`` uses by default (float32 unless TrainConfig says otherwise)."""
    default = {f.name: f.default for f in dataclasses.fields(training.TrainConfig)}.get(
        "precision", "float32"
    )
    if default in (None, "auto"):
        from keras_gan import performance

        return performance.recommended_precision()
    return str(default)


def project_config(seed: int, override: dict | None = None) -> training.TrainConfig:
    """The resolved ``TrainConfig`` of ``train.py --dataset fashion_mnist``, with the
    ``override`` TrainConfig fields set before the defaults are filled in."""
    info = data.describe(DATASET)
    return training.TrainConfig(dataset=DATASET, seed=seed, **(override or {})).resolved(info)


def build_project_gan(seed: int, override: dict | None = None) -> keras.Model:
    return training.build_gan(project_config(seed, override))


def samplers(model: keras.Model) -> dict[str, keras.Model]:
    """Row-name suffix -> generator to score: the GAN's sampling generator (its weight average
    when it keeps one) and, for comparison, the raw generator it averages."""
    found = {"": sampling_generator(model)}
    if getattr(model, "generator_ema", None) is not None:
        found[" (raw G)"] = model.generator
    return found


def build_reference(learning_rate: float, beta_1: float, output_float32: bool) -> keras.Model:
    model = KerasIoGAN(
        tutorial_discriminator(output_float32), tutorial_generator(output_float32), LATENT_DIM
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    return model


def configurations(seed: int, override: dict | None = None) -> dict[str, Config]:
    precision = project_precision()
    other = "float32" if precision != "float32" else "mixed_bfloat16"
    settings = project_config(seed, override)
    options = {"base_filters": 64, "kernel_size": 4, **settings.network_options}
    project = (
        f"keras_gan default: DCGAN (base_filters {options['base_filters']}, kernel "
        f"{options['kernel_size']}), Adam {settings.lr_d:g}/{settings.lr_g:g} (D/G), beta_1 "
        f"{settings.beta1:g}, {settings.loss}, EMA of G {settings.ema_momentum or 'off'}"
    )
    if override:
        project += f", override {json.dumps(override)}"
    return {
        "default": Config(
            "default",
            project,
            settings.batch_size,
            precision,
            lambda: build_project_gan(seed, override),
        ),
        "tutorial": Config(
            "tutorial",
            "keras.io train_step + TF tutorial nets, Adam 1e-4 (beta_1 0.9)",
            256,
            "float32",
            lambda: build_reference(1e-4, 0.9, output_float32=False),
        ),
        "paper": Config(
            "paper",
            "keras.io train_step + TF tutorial nets, Adam 2e-4/0.5 (DCGAN paper)",
            64,
            "mixed_bfloat16",
            lambda: build_reference(2e-4, 0.5, output_float32=True),
        ),
        f"default-{'bf16' if other != 'float32' else 'float32'}": Config(
            f"default-{'bf16' if other != 'float32' else 'float32'}",
            f"{project} at {other}",
            settings.batch_size,
            other,
            lambda: build_project_gan(seed, override),
        ),
    }


# ----------------------------------------------------------------------------- running
@dataclasses.dataclass
class Row:
    name: str
    description: str
    precision: str
    batch_size: int
    steps: int
    images_seen: int
    train_seconds: float
    result: evaluation.EvaluationResult

    @property
    def images_per_second(self) -> float:
        return self.images_seen / self.train_seconds if self.train_seconds else 0.0


def train_one(
    config: Config,
    minutes: float,
    seed: int,
    checks: dict[float, Callable] | None = None,
) -> tuple[keras.Model, TimeBudget]:
    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_dtype_policy(config.precision)
    try:
        model = config.build()
        dataset = data.load(DATASET, batch_size=config.batch_size, shuffle=True, seed=seed)
        budget = TimeBudget(minutes * 60.0, checks)
        model.fit(dataset, epochs=100_000, callbacks=[budget], verbose=0, shuffle=False)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    return model, budget


def intermediate_score(
    space: evaluation.FeatureSpace,
    real: np.ndarray,
    seed: int,
    model: keras.Model,
    steps: int,
    seconds: float,
) -> None:
    """Print FID and coverage of the model so far (``--eval-at``)."""
    for suffix, generator in samplers(model).items():
        result = evaluation.evaluate(
            generator, n=len(real), space=space, real_images=real, seed=seed
        )
        print(
            f"  after {seconds / 60:.1f} min ({steps:,} steps){suffix}: FID {result.fid:.2f} on "
            f"{len(real):,}, classes covered {result.classes_covered}/{result.num_classes}",
            flush=True,
        )


def save_grid(generator: keras.Model, path: Path, seed: int) -> None:
    images = evaluation.generate_images(generator, GRID_SAMPLES, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(latent.image_grid(images, cols=8)).save(path)


def markdown(rows: list[Row], minutes: float, space: str) -> str:
    lines = [
        f"Budget {minutes:g} min of training each; {rows[0].result.num_samples:,} samples vs "
        f"{rows[0].result.num_real:,} real test images; feature space {space}.",
        "",
        "| config | setup | precision | batch | images seen | images/s | FID | KID | "
        "classifier score | classes covered | class KL |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        result = row.result
        lines.append(
            f"| {row.name} | {row.description} | {row.precision} | {row.batch_size} | "
            f"{row.images_seen:,} | {row.images_per_second:,.0f} | {result.fid:.2f} | "
            f"{result.kid_mean:.4f} ± {result.kid_std:.4f} | {result.classifier_score:.2f} | "
            f"{result.classes_covered}/{result.num_classes} | {result.class_kl:.3f} |"
        )
    return "\n".join(lines)


def table(rows: list[Row]) -> str:
    header = (
        f"{'config':<16}{'precision':<16}{'batch':>6}{'images seen':>13}{'img/s':>8}"
        f"{'FID':>9}{'KID':>18}{'score':>7}{'covered':>9}{'class KL':>10}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        result = row.result
        kid = f"{result.kid_mean:.4f}±{result.kid_std:.4f}"
        lines.append(
            f"{row.name:<16}{row.precision:<16}{row.batch_size:>6}{row.images_seen:>13,}"
            f"{row.images_per_second:>8,.0f}{result.fid:>9.2f}{kid:>18}"
            f"{result.classifier_score:>7.2f}"
            f"{f'{result.classes_covered}/{result.num_classes}':>9}{result.class_kl:>10.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per config")
    parser.add_argument("--eval-n", type=int, default=10_000, help="samples to evaluate")
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--img-dir", type=Path, default=Path("docs/img"))
    parser.add_argument("--json-out", type=Path, default=None, help="also write the rows here")
    parser.add_argument(
        "--override",
        type=json.loads,
        default=None,
        help='JSON of TrainConfig fields for the project configs, e.g. \'{"batch_size": 64, '
        '"network_options": {"base_filters": 128}}\'',
    )
    parser.add_argument(
        "--eval-at",
        default="",
        help="also score at these minutes of training, e.g. 2.5,5,7.5 (clock paused meanwhile)",
    )
    parser.add_argument("--eval-at-n", type=int, default=5000, help="samples for --eval-at")
    args = parser.parse_args(argv)
    available = configurations(args.seed, args.override)
    names = [name.strip() for name in args.configs.split(",") if name.strip()]
    unknown = [name for name in names if name not in available]
    if unknown or not names or args.minutes <= 0 or args.eval_n < 2:
        print(
            f"Error: choose configs from {', '.join(available)}; --minutes > 0; --eval-n >= 2.",
            file=sys.stderr,
        )
        return 2
    command = "python " + " ".join(
        shlex.quote(arg) for arg in [sys.argv[0], *(argv or sys.argv[1:])]
    )
    print(f"$ {command}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}; project default precision: "
        f"{project_precision()}",
        flush=True,
    )
    space = evaluation.domain_classifier(DATASET, verbose=True)
    real, _, real_source = evaluation.reference_images(DATASET, args.eval_n, seed=args.seed)
    rows = []
    for name in names:
        config = available[name]
        print(f"\n== {name}: {config.description}, batch {config.batch_size}, "
              f"{config.precision}, {args.minutes:g} min", flush=True)  # fmt: skip
        checks = {
            float(mark): functools.partial(
                intermediate_score, space, real[: args.eval_at_n], args.seed
            )
            for mark in args.eval_at.split(",")
            if mark.strip()
        }
        model, budget = train_one(config, args.minutes, args.seed, checks)
        steps = budget.batches
        print(f"trained {steps:,} steps ({steps * config.batch_size:,} images) in "
              f"{budget.elapsed:.0f} s", flush=True)  # fmt: skip
        for suffix, generator in samplers(model).items():
            result = evaluation.evaluate(
                generator, n=args.eval_n, space=space, real_images=real, seed=args.seed
            )
            if not suffix:
                save_grid(generator, args.img_dir / f"quality_{name}.png", args.seed)
            result.real_source = real_source
            description = config.description
            if suffix:
                description += ": the raw generator, without the weight average"
            rows.append(
                Row(
                    name + suffix,
                    description,
                    config.precision,
                    config.batch_size,
                    steps,
                    steps * config.batch_size,
                    budget.elapsed,
                    result,
                )
            )
            print(
                f"{name + suffix}: FID {result.fid:.2f}, KID {result.kid_mean:.4f}, classes "
                f"covered {result.classes_covered}/{result.num_classes}, class KL "
                f"{result.class_kl:.3f}",
                flush=True,
            )
    print()
    print(table(rows))
    print()
    print(markdown(rows, args.minutes, space.description))
    if args.json_out is not None:
        args.json_out.write_text(
            json.dumps(
                [
                    {
                        **{k: v for k, v in dataclasses.asdict(row).items() if k != "result"},
                        "images_per_second": row.images_per_second,
                        "result": row.result.to_dict(),
                    }
                    for row in rows
                ],
                indent=2,
            )
        )
    best_reference = min(
        (row.result.fid for row in rows if row.name in ("tutorial", "paper")), default=None
    )
    default_row = next((row for row in rows if row.name == "default"), None)
    if best_reference is not None and default_row is not None:
        ratio = default_row.result.fid / best_reference
        met = ratio <= 0.5 and default_row.result.classes_covered == default_row.result.num_classes
        print(
            f"\ndefault FID / best reference FID = {ratio:.2f} (target <= 0.50 with all classes "
            f"covered): {'met' if met else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
