"""Sample quality at equal wall time: keras_gan's default DCGAN against two Keras references.

Each configuration trains on the full Fashion-MNIST training split (60,000 images, loaded with
``keras_gan.data.load("fashion_mnist")``) for the same wall-clock budget (``--minutes``, timed
from the start of ``fit``, so graph tracing counts), then is scored on ``--eval-n`` samples
against as many real test images in one feature space, the Fashion-MNIST domain classifier of
``keras_gan.evaluation`` (trained once and cached; the first run spends ~2 minutes on it).

Configurations (``--configs``; the first three by default):

* ``default``: the project's default, exactly what ``train.py --dataset fashion_mnist`` builds
  (``training.build_gan`` of the resolved ``TrainConfig``: DCGAN networks, Adam 2e-4 / 0.5,
  batch 128, non-saturating loss) at the project's default precision.
* ``tutorial``: the keras.io "DCGAN overriding train_step" pattern (a ``keras.Model`` with its
  own ``train_step``: real and fake concatenated for D, noisy labels, BinaryCrossentropy from
  logits, a ``SeedGenerator``) with the TensorFlow DCGAN tutorial's 28x28 networks and
  settings: Adam 1e-4 for both, batch 256, float32.
* ``paper``: the same model with the DCGAN paper's settings (Radford et al. 2016): Adam 2e-4,
  beta_1 0.5, batch 64, under ``mixed_bfloat16``.
* ``default-ema``: ``default`` with an exponential moving average of G's weights (Keras's
  ``use_ema=True, ema_momentum=0.999``, swapped in with ``finalize_variable_values``).
* ``default-float32`` / ``default-bf16``: ``default`` at the other precision.

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
import json
import platform
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import keras
import tensorflow as tf
from keras import layers, ops
from PIL import Image

from keras_gan import data, evaluation, latent, training

DATASET = "fashion_mnist"
IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 100
DEFAULT_CONFIGS = ("default", "tutorial", "paper")
GRID_SAMPLES = 64
EMA_MOMENTUM = 0.999


# ----------------------------------------------------------------------------- time budget
class TimeBudget(keras.callbacks.Callback):
    """Stops ``fit`` after the first batch that ends past ``seconds`` (timed from
    ``on_train_begin``) and counts the batches trained."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = float(seconds)
        self.batches = 0
        self.started = 0.0
        self.elapsed = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.batches += 1
        self.elapsed = time.perf_counter() - self.started
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
    finish: Callable[[keras.Model], None] = lambda model: None


def project_precision() -> str:
    """The precision ``train.py`` uses by default (float32 unless TrainConfig says otherwise)."""
    default = {f.name: f.default for f in dataclasses.fields(training.TrainConfig)}.get(
        "precision", "float32"
    )
    if default in (None, "auto"):
        from keras_gan import performance

        return performance.recommended_precision()
    return str(default)


def project_config(seed: int) -> training.TrainConfig:
    info = data.describe(DATASET)
    return training.TrainConfig(dataset=DATASET, seed=seed).resolved(info)


def build_project_gan(seed: int, ema: bool) -> keras.Model:
    config = project_config(seed)
    gan = training.build_gan(config)
    if ema:
        gan.compile(
            d_optimizer=keras.optimizers.Adam(
                config.lr_d, beta_1=config.beta1, beta_2=config.beta2
            ),
            g_optimizer=keras.optimizers.Adam(
                config.lr_g,
                beta_1=config.beta1,
                beta_2=config.beta2,
                use_ema=True,
                ema_momentum=EMA_MOMENTUM,
            ),
            loss=config.loss,
        )
    return gan


def finalize_ema(gan: keras.Model) -> None:
    """Replace G's weights by their moving average (Keras optimizers' ``use_ema``)."""
    gan.g_optimizer.finalize_variable_values(gan.generator.trainable_variables)


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


def configurations(seed: int) -> dict[str, Config]:
    precision = project_precision()
    other = "float32" if precision != "float32" else "mixed_bfloat16"
    settings = project_config(seed)
    project = (
        f"keras_gan default: DCGAN (base_filters 64, kernel 4), Adam {settings.lr_g:g}/"
        f"{settings.beta1:g}, {settings.loss}"
    )
    return {
        "default": Config(
            "default",
            project,
            settings.batch_size,
            precision,
            lambda: build_project_gan(seed, ema=False),
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
        "default-ema": Config(
            "default-ema",
            f"{project}, EMA of G (momentum {EMA_MOMENTUM})",
            settings.batch_size,
            precision,
            lambda: build_project_gan(seed, ema=True),
            finalize_ema,
        ),
        f"default-{'bf16' if other != 'float32' else 'float32'}": Config(
            f"default-{'bf16' if other != 'float32' else 'float32'}",
            f"{project} at {other}",
            settings.batch_size,
            other,
            lambda: build_project_gan(seed, ema=False),
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


def train_one(config: Config, minutes: float, seed: int) -> tuple[keras.Model, TimeBudget]:
    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_dtype_policy(config.precision)
    try:
        model = config.build()
        dataset = data.load(DATASET, batch_size=config.batch_size, shuffle=True, seed=seed)
        budget = TimeBudget(minutes * 60.0)
        model.fit(dataset, epochs=100_000, callbacks=[budget], verbose=0, shuffle=False)
        config.finish(model)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    return model, budget


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
    args = parser.parse_args(argv)
    available = configurations(args.seed)
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
        model, budget = train_one(config, args.minutes, args.seed)
        steps = budget.batches
        print(f"trained {steps:,} steps ({steps * config.batch_size:,} images) in "
              f"{budget.elapsed:.0f} s", flush=True)  # fmt: skip
        result = evaluation.evaluate(
            model.generator, n=args.eval_n, space=space, real_images=real, seed=args.seed
        )
        result.real_source = real_source
        save_grid(model.generator, args.img_dir / f"quality_{name}.png", args.seed)
        rows.append(
            Row(
                name,
                config.description,
                config.precision,
                config.batch_size,
                steps,
                steps * config.batch_size,
                budget.elapsed,
                result,
            )
        )
        print(
            f"FID {result.fid:.2f}, KID {result.kid_mean:.4f}, classes covered "
            f"{result.classes_covered}/{result.num_classes}, class KL {result.class_kl:.3f}",
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
