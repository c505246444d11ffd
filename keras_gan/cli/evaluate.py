"""`keras-gan evaluate` (`python evaluate.py RUN_DIR_OR_GENERATOR --dataset NAME`).

Prints FID, KID, the classifier score, the classes covered and the class KL of `--n` generated
samples against as many real images, in one feature space; for `ring8`, `grid25` and
`stacked_mnist`, the mode figures instead (docs/evaluation.md). Progress goes to stderr, the
table (or `--json`) to stdout. Exit codes are those of `keras_gan.cli.common`:
0 done; 1 bad input (one line on stderr); 2 the command line cannot be parsed.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from keras_gan.cli import common
from keras_gan.errors import one_line

EXIT_ERROR = common.EXIT_ERROR
EXIT_USAGE = common.EXIT_USAGE
EXIT_INTERRUPTED = common.EXIT_INTERRUPTED
# The feature spaces of `keras_gan.evaluation`, repeated so that --help does not import it.
FEATURES = ("classifier", "inception_v3")
DEFAULT_N = 10_000


def _run_settings(source: Path) -> dict[str, Any]:
    """The dataset settings of a run directory's `config.json` (`{}` for a `.keras` file)."""
    if not source.is_dir() or not (source / "config.json").is_file():
        return {}
    from keras_gan.training import load_config

    config = load_config(source)
    return {"dataset": config.dataset, "data_dir": config.data_dir, "background": config.background}


def _load_generator(source: Path) -> Any:
    """`load_generator(source)`, with any failure to read the file as one `EvaluationError`."""
    from keras_gan.evaluation import EvaluationError
    from keras_gan.training import load_generator

    try:
        return load_generator(source)
    except (ValueError, OSError):
        raise
    except Exception as error:
        raise EvaluationError(f"Cannot load {source}: {one_line(error)}") from None


@click.command(
    "evaluate",
    short_help="Score a generator against real data: FID, KID, classifier score, modes.",
    context_settings=common.CONTEXT_SETTINGS,
    epilog="Progress goes to stderr, the table (or --json) to stdout. Exit codes: 0 done, 1 bad "
    "input (one line on stderr), 2 bad command line, 130 interrupted.",
)
@click.argument("source", metavar="RUN_DIR_OR_GENERATOR", type=click.Path(path_type=Path))
@click.option(
    "--dataset",
    "-d",
    default=None,
    help="Real data to compare with (name, folder or .npz) [default: the run's dataset].",
)
@click.option(
    "--n",
    "n",
    default=None,
    type=common.IntRange(min=2),
    help="Generated samples (and at most as many real images) [default: 10000; for ring8 and "
    "grid25 2500, for stacked_mnist 26000, as in PacGAN].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the noise.")
@click.option(
    "--batch-size",
    default=256,
    show_default=True,
    type=common.IntRange(min=1),
    help="Samples generated and scored per batch.",
)
@click.option(
    "--features",
    type=click.Choice(FEATURES),
    default="classifier",
    show_default=True,
    help="Feature space: the dataset's domain classifier, or InceptionV3 from local weights.",
)
@click.option(
    "--inception-weights",
    type=click.Path(path_type=Path),
    default=None,
    help="InceptionV3 .h5 weights [default: ~/.keras/models/inception_v3_weights_*.h5].",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where local copies of the dataset live.",
)
@click.option(
    "--background",
    metavar="COLOUR",
    default=None,
    callback=common.check_background,
    help="Colour that transparent pixels of the real images are composited onto: a name such "
    "as white or black, or #rrggbb [default: the run's background, else white].",
)
@click.option("--retrain-classifier", is_flag=True, help="Retrain the cached domain classifier.")
@common.debug_option
def cli(
    source: Path,
    dataset: str | None,
    n: int | None,
    as_json: bool,
    seed: int,
    batch_size: int,
    features: str,
    inception_weights: Path | None,
    data_dir: str | None,
    background: str | None,
    retrain_classifier: bool,
) -> int:
    """Evaluate the generator of RUN_DIR (or a generator .keras file).

    The features come from the dataset's domain classifier, trained once and cached under
    $KERAS_GAN_CACHE/classifiers (~/.cache/keras_gan/classifiers), or with --features
    inception_v3 from InceptionV3 weights already on disk (never downloaded). Numbers from
    different feature spaces are not comparable. For ring8, grid25 and stacked_mnist it prints
    the modes covered, the high-quality share (2-D) and the mode KL instead of FID (Stacked
    MNIST's channels are read by the mnist domain classifier).
    """
    from keras_gan import evaluation

    settings = _run_settings(source)
    dataset = dataset or settings.get("dataset")
    data_dir = data_dir or settings.get("data_dir")
    background = background or settings.get("background") or "white"
    if dataset is None:
        raise evaluation.EvaluationError(
            "--dataset is required (RUN_DIR has no config.json naming one)."
        )
    generator = _load_generator(source)
    output = sys.stdout
    if evaluation.is_mode_dataset(dataset):
        with contextlib.redirect_stdout(sys.stderr):
            classifier = None
            if dataset.strip().lower() == "stacked_mnist":
                classifier = evaluation.domain_classifier(
                    evaluation.DIGIT_CLASSIFIER_DATASET,
                    data_dir=data_dir,
                    retrain=retrain_classifier,
                    verbose=True,
                )
            modes = evaluation.evaluate_modes(
                generator,
                dataset,
                n=n,
                seed=seed,
                classifier=classifier,
                batch_size=batch_size,
                progress=True,
            )
        if as_json:
            click.echo(
                json.dumps({"source": str(source), **modes.to_dict()}, indent=2), file=output
            )
        else:
            click.echo(f"Mode evaluation of {source} on {modes.dataset}", file=output)
            click.echo(modes.table(), file=output)
        return common.EXIT_OK
    n = DEFAULT_N if n is None else n
    with contextlib.redirect_stdout(sys.stderr):
        options = evaluation.matching_data_options(dataset, generator.output_shape[1:], data_dir)
        space = evaluation.feature_space(
            dataset,
            features,
            inception_weights=inception_weights,
            data_dir=data_dir,
            background=background,
            retrain=retrain_classifier,
            verbose=True,
            **options,
        )
        real, _, real_source = evaluation.reference_images(
            dataset, n, seed=seed, data_dir=data_dir, background=background, **options
        )
        result = evaluation.evaluate(
            generator,
            n=n,
            space=space,
            real_images=real,
            seed=seed,
            batch_size=batch_size,
            progress=True,
        )
    result.real_source = real_source
    if as_json:
        click.echo(json.dumps({"source": str(source), **result.to_dict()}, indent=2), file=output)
    else:
        click.echo(f"Evaluation of {source} against {dataset}", file=output)
        click.echo(result.table(), file=output)
    return common.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run `evaluate` and return its exit code (see `keras_gan.cli.common.main`)."""
    return common.main(cli, argv, prog_name="python evaluate.py")
