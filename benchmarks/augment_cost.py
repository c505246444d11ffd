"""Training-step speed of the default GAN without augmentation and with ADA at fixed p.

Each case is what `train.py --dataset D --precision P` builds (`TrainConfig` resolved for D's
image shape and 5,000 images, as `batch_norm.py` does), with `augment` "off" or "ada". ADA's
controller runs as in training, but with `ada_kimg` so large that p stays where it is set, so
a row gives the cost of the augmentation at that p (every op is computed for the whole batch
and each example keeps it with probability p, so p 0, where ADA starts and stays on a set D
does not memorise, costs the same). The cases train on the same random images, in
alternating rounds after a warm-up; `img/s` is the best round, `median` the median one, `x
off` a case's best over the best without augmentation.

    python benchmarks/augment_cost.py                     # mnist, the machine's precision
    python benchmarks/augment_cost.py --datasets mnist emoji --precisions float32 --rounds 5
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import statistics

import keras
import tensorflow as tf
from batch_norm import SHAPES, add_timing_arguments, build_case, time_cases

from keras_gan import training

FROZEN_ADA_KIMG = 1e12  # p moves by batch / (ada_kimg * 1000) per adjustment: not at all


def ada_case(
    dataset: str, precision: str, p: float
) -> tuple[keras.Model, tf.data.Dataset, training.TrainConfig]:
    """`build_case`'s network and stream with ADA held at probability `p`."""
    model, stream, config = build_case(dataset, precision, fused=True, augment="ada")
    model.augmentation.ada_kimg = FROZEN_ADA_KIMG
    model.augmentation.p.assign(p)
    return model, stream, config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["mnist"], choices=SHAPES)
    parser.add_argument("--precisions", nargs="+", default=["auto"], help="as --precision")
    parser.add_argument("--p", nargs="+", type=float, default=[0.0, 0.2], help="ADA's p")
    add_timing_arguments(parser)
    args = parser.parse_args(argv)

    print(
        f"{'dataset':<8} {'precision':<15} {'width':>5} {'extra':>5} {'augment':<10} "
        f"{'img/s':>6} {'median':>6} {'x off':>6}"
    )
    for dataset in args.datasets:
        for precision in args.precisions:
            cases = {"off": build_case(dataset, precision, fused=True)}
            for p in args.p:
                cases[f"ada p {p:g}"] = ada_case(dataset, precision, p)
            config = cases["off"][2]
            rates = time_cases(cases, config.precision, args)
            options = config.network_options
            for name in cases:
                print(
                    f"{dataset:<8} {config.precision:<15} {options['base_filters']:>5} "
                    f"{options.get('extra_layers', 0):>5} {name:<10} {max(rates[name]):6.0f} "
                    f"{statistics.median(rates[name]):6.0f} "
                    f"{max(rates[name]) / max(rates['off']):6.2f}"
                )


if __name__ == "__main__":
    main()
