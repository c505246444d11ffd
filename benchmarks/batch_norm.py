"""Training-step speed of the default GAN with Keras's BatchNormalization against the fused one.

Each case is what `train.py --dataset D --precision P --augment off` builds (`TrainConfig`
resolved for D's image shape: the DCGAN at the default width of that precision, batch 64, the
generator average), once with `fused_batch_norm=False` (Keras's own layer) and once with the
default `FusedBatchNormalization`. Both train on the same random images of D's shape (speed
does not depend on the pixels), built first, then timed in alternating rounds after a warm-up,
so that a slower spell of the machine falls on both. `img/s` is the best round, `median` the
median one, `x keras` the fused layer's best over Keras's best.

    python benchmarks/batch_norm.py                      # mnist and emoji, float32 and bf16
    python benchmarks/batch_norm.py --datasets mnist --precisions mixed_bfloat16 --rounds 5
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from keras_gan import data, training
from keras_gan.training.build import precision_policy

SHAPES = {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1), "emoji": (64, 64, 3)}


class StepClock(keras.callbacks.Callback):
    """Wall time of the batches after the first `skip` of one `fit` call."""

    def __init__(self, skip: int) -> None:
        super().__init__()
        self.skip, self.started, self.seconds = skip, None, 0.0

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.skip:
            self.started = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self.started


def build_case(
    dataset: str, precision: str, fused: bool, augment: str = "off"
) -> tuple[keras.Model, tf.data.Dataset, training.TrainConfig]:
    info = data.DatasetInfo(
        name=dataset,
        origin="random images of the dataset's shape",
        split="train",
        element_shape=SHAPES[dataset],
        num_examples=5000,
        num_classes=None,
    )
    config = training.TrainConfig(
        dataset=dataset,
        precision=precision,
        augment=augment,
        seed=0,
        network_options={"fused_batch_norm": fused},
    ).resolved(info)
    images = np.random.default_rng(0).uniform(-1, 1, (512, *SHAPES[dataset])).astype("float32")
    stream = tf.data.Dataset.from_tensor_slices(images).repeat()
    stream = stream.batch(config.batch_size, drop_remainder=True).prefetch(2)
    with precision_policy(config.precision):
        model = training.build_gan(config)
    return model, stream, config


def time_round(model, stream, precision: str, warmup: int, steps: int) -> float:
    clock = StepClock(warmup)
    with precision_policy(precision):
        model.fit(stream, epochs=1, steps_per_epoch=warmup + steps, verbose=0, callbacks=[clock])
    return clock.seconds


def add_timing_arguments(parser: argparse.ArgumentParser) -> None:
    """`--warmup`, `--steps` and `--rounds`, as `time_cases` takes them."""
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps per round")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)


def time_cases(cases: dict, precision: str, args: argparse.Namespace) -> dict[object, list]:
    """Images a second of each `(model, stream, config)` case per round: every case is traced
    first, then the rounds alternate between the cases, so a slower spell falls on all."""
    for model, stream, _ in cases.values():
        time_round(model, stream, precision, 2, 1)
    rates = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, (model, stream, config) in cases.items():
            seconds = time_round(model, stream, precision, args.warmup, args.steps)
            rates[name].append(args.steps * config.batch_size / seconds)
    return rates


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["mnist", "emoji"], choices=SHAPES)
    parser.add_argument(
        "--precisions", nargs="+", default=["float32", "mixed_bfloat16"], help="as --precision"
    )
    add_timing_arguments(parser)
    args = parser.parse_args(argv)

    print(
        f"{'dataset':<8} {'shape':<9} {'precision':<15} {'width':>5} {'batch norm':<10} "
        f"{'img/s':>6} {'median':>6} {'x keras':>7}"
    )
    for dataset in args.datasets:
        for precision in args.precisions:
            cases = {fused: build_case(dataset, precision, fused) for fused in (False, True)}
            rates = time_cases(cases, precision, args)
            config = cases[True][2]
            shape = "x".join(str(d) for d in SHAPES[dataset])
            for fused in (False, True):
                ratio = f"{max(rates[fused]) / max(rates[False]):7.2f}"
                print(
                    f"{dataset:<8} {shape:<9} {precision:<15} "
                    f"{config.network_options['base_filters']:>5} "
                    f"{'fused' if fused else 'keras':<10} {max(rates[fused]):6.0f} "
                    f"{statistics.median(rates[fused]):6.0f} {ratio}"
                )


if __name__ == "__main__":
    main()
