"""How many samples a run's domain classifier reads with confidence, against real images.

FID says how far the samples are from the data as a whole; this says what share of single
samples look like a clean example of some class ("clean digits"): the share the dataset's
domain classifier (the one FID/KID use, `keras_gan.evaluation.domain_classifier`) gives a
top-class probability of at least 0.9 (and 0.99), and the same for held-out real images
(`keras_gan.evaluation.reference_images`), which the classifier never trained on. It also
prints how the samples spread over the classes.

    python benchmarks/legibility.py RUN_DIR_OR_GENERATOR [...] [--dataset mnist] [--n 2000]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import sys

import numpy as np

from keras_gan import evaluation
from keras_gan.generation import load_generator

THRESHOLDS = (0.9, 0.99)


def confident_shares(probabilities: np.ndarray) -> list[float]:
    """The share of rows whose top class probability is at least each of `THRESHOLDS`."""
    top = probabilities.max(axis=1)
    return [float(np.mean(top >= threshold)) for threshold in THRESHOLDS]


def row(name: str, probabilities: np.ndarray) -> str:
    shares = "  ".join(f"{100 * share:6.1f}" for share in confident_shares(probabilities))
    counts = np.bincount(probabilities.argmax(axis=1), minlength=probabilities.shape[1])
    return f"{name:<50}  {shares}  {' '.join(str(c) for c in counts)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="+", help="run directories or generator .keras files")
    parser.add_argument("--dataset", default="mnist", help="whose domain classifier reads them")
    parser.add_argument("--n", type=int, default=2000, help="samples (and real images) per row")
    parser.add_argument("--seed", type=int, default=1, help="noise seed of the samples")
    args = parser.parse_args(argv)
    space = evaluation.domain_classifier(args.dataset)
    if space.num_classes is None:
        print(f"{args.dataset} has no labels, so no classifier reads classes.", file=sys.stderr)
        return 2
    thresholds = "  ".join(f">={t:<4}" for t in THRESHOLDS)
    print(f"{'source':<50}  {thresholds}  samples per class")
    for source in args.sources:
        samples = evaluation.generate_images(load_generator(source), args.n, seed=args.seed)
        print(row(source, space.embed(samples)[1]), flush=True)
    real, _, description = evaluation.reference_images(args.dataset, args.n, seed=0)
    print(row(f"real ({len(real)} held out)", space.embed(real)[1]))
    print(f"(% of images read with top-class probability >= threshold; real: {description})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
