"""Score a trained generator: ``python evaluate.py RUN_DIR_OR_GENERATOR --dataset NAME``.

Prints FID, KID (mean ± std), the classifier score, the classes covered and the class KL of
``--n`` generated samples against as many real images, in one feature space (see
:mod:`keras_gan.evaluation`): by default the dataset's domain classifier, trained once and
cached under ``$KERAS_GAN_CACHE/classifiers`` (``~/.cache/keras_gan/classifiers``);
``--features inception_v3`` only with InceptionV3 weights already on disk (never downloaded).
Numbers from different feature spaces are not comparable.

Progress goes to stderr, the table (or ``--json``) to stdout. Exit codes: 0 done; 1 bad input
(one line on stderr); 2 the command line cannot be parsed.
"""

from __future__ import annotations

import os

# Before TensorFlow is imported, so its C++ INFO/WARNING lines stay off the console.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from keras_gan import evaluation, training

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _one_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _run_settings(source: Path) -> dict[str, Any]:
    """The dataset settings of a run directory's config.json ({} for a .keras file)."""
    if not source.is_dir() or not (source / "config.json").is_file():
        return {}
    config = training.load_config(source)
    return {"dataset": config.dataset, "data_dir": config.data_dir}


def _load_generator(source: Path) -> Any:
    """``training.load_generator``, with any failure to read the file as one ValueError."""
    try:
        return training.load_generator(source)
    except (ValueError, OSError):
        raise
    except Exception as error:
        raise evaluation.EvaluationError(f"Cannot load {source}: {_one_line(error)}") from None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
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
    default=10_000,
    show_default=True,
    type=click.IntRange(min=2),
    help="Generated samples (and at most as many real images).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the noise.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--features",
    type=click.Choice(["classifier", "inception_v3"]),
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
@click.option("--data-dir", default=None, help="Where local copies of the dataset live.")
@click.option("--retrain-classifier", is_flag=True, help="Retrain the cached domain classifier.")
def cli(
    source: Path,
    dataset: str | None,
    n: int,
    as_json: bool,
    seed: int,
    batch_size: int,
    features: str,
    inception_weights: Path | None,
    data_dir: str | None,
    retrain_classifier: bool,
) -> int:
    """Evaluate the generator of RUN_DIR (or a generator .keras file)."""
    try:
        settings = _run_settings(source)
        dataset = dataset or settings.get("dataset")
        data_dir = data_dir or settings.get("data_dir")
        if dataset is None:
            raise evaluation.EvaluationError(
                "--dataset is required (RUN_DIR has no config.json naming one)."
            )
        generator = _load_generator(source)
        output = sys.stdout
        with contextlib.redirect_stdout(sys.stderr):
            options = evaluation.matching_data_options(
                dataset, generator.output_shape[1:], data_dir
            )
            space = evaluation.feature_space(
                dataset,
                features,
                inception_weights=inception_weights,
                data_dir=data_dir,
                retrain=retrain_classifier,
                verbose=True,
                **options,
            )
            real, _, real_source = evaluation.reference_images(
                dataset, n, seed=seed, data_dir=data_dir, **options
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
    except (ValueError, OSError) as error:
        click.echo(f"Error: {_one_line(error)}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    if as_json:
        click.echo(json.dumps({"source": str(source), **result.to_dict()}, indent=2), file=output)
    else:
        click.echo(f"Evaluation of {source} against {dataset}", file=output)
        click.echo(result.table(), file=output)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; usage errors become one line on stderr."""
    try:
        result = cli.main(args=argv, prog_name="evaluate.py", standalone_mode=False)
    except click.UsageError as error:
        click.echo(f"Error: {error.format_message()} (see python evaluate.py --help)", err=True)
        return EXIT_USAGE
    except click.ClickException as error:
        click.echo(f"Error: {error.format_message()}", err=True)
        return error.exit_code
    except click.Abort:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
