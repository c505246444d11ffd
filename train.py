"""Train a GAN from the command line: ``python train.py --dataset mnist``.

A thin layer over :mod:`keras_gan.training`: it parses the flags, hands them to
``training.train``/``training.resume`` and turns bad input into one line on stderr.

Exit codes: 0 done; 1 a setting, the data or the run directory is wrong, or a write failed
(one line on stderr); 2 the command line itself cannot be parsed; 3 a loss became NaN or
infinite (the last good checkpoint is kept); 130 stopped by Ctrl-C and 143 by SIGTERM, after
saving a checkpoint and ``generator.keras`` (continue with ``--resume RUN_DIR``).
"""

from __future__ import annotations

import os

# Before TensorFlow is imported, so its C++ INFO/WARNING lines stay off the console.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json
import logging
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from keras_gan import losses, networks, performance, training

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


def _arch_default(name: str) -> str:
    """The ``[default: ...]`` text of a setting whose default depends on arch and loss."""
    by_arch = {arch: values[name] for arch, values in training.ARCHITECTURE_DEFAULTS.items()}
    if len(set(by_arch.values())) == 1:
        parts = [f"{next(iter(by_arch.values())):g}"]
    else:
        parts = [f"{value:g} ({arch})" for arch, value in by_arch.items()]
    for loss, values in training.LOSS_DEFAULTS.items():
        if name in values:
            parts.append(f"{values[name]:g} with --loss {loss}")
    return "default: " + ", ".join(parts)


def _parse_network_options(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; VALUE is read as JSON (8, 0.3, [128, 256], true) or kept as text."""
    options: dict[str, Any] = {}
    for item in values:
        key, separator, text = item.partition("=")
        if not separator or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", ctx, param)
        try:
            options[key.strip()] = json.loads(text)
        except ValueError:
            options[key.strip()] = text
    return options


def _quote(path: Path | str) -> str:
    return shlex.quote(str(path))


def _print_next_steps(run_dir: Path, finished: bool) -> None:
    click.echo(f"  TensorBoard: tensorboard --logdir {_quote(run_dir)}")
    click.echo(f"  Sample:      python sample.py {_quote(run_dir)} --n 64 --out grid.png")
    more_epochs = " --epochs N" if finished else ""
    click.echo(f"  Continue:    python train.py --resume {_quote(run_dir)}{more_epochs}")


def _report_finished(run_dir: Path) -> None:
    paths = training.RunPaths(run_dir)
    samples = sorted(paths.samples.glob("epoch_*.png"))
    click.echo(f"\nRun finished: {run_dir}")
    click.echo(f"  Generator:   {paths.generator}")
    if samples:
        click.echo(f"  Samples:     {samples[-1]}")
    click.echo(f"  Losses:      {paths.losses_plot} (history in {paths.history.name})")
    _print_next_steps(run_dir, finished=True)


def _report_interrupted(stop: training.TrainingInterrupted) -> None:
    checkpoint = stop.checkpoint
    how = "Interrupted" if stop.signal == signal.SIGINT else "Terminated"
    click.echo(f"\n{how}: state saved in {stop.run_dir}")
    if checkpoint is not None:
        where = "at the end of epoch" if checkpoint.end_of_epoch else "during epoch"
        epoch = (
            checkpoint.epochs_completed
            if checkpoint.end_of_epoch
            else checkpoint.epochs_completed + 1
        )
        click.echo(
            f"  Checkpoint:  {checkpoint.path.name} (step {checkpoint.step}, {where} {epoch})"
        )
    _print_next_steps(stop.run_dir, finished=False)


def configure_logging() -> None:
    """Show the library's INFO lines (data, model, run directory) as plain console output."""
    package_logger = logging.getLogger("keras_gan")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    package_logger.propagate = False


def _explicit_settings(ctx: click.Context, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in settings.items()
        if ctx.get_parameter_source(name)
        in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    }


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=(
        "Examples:\n\n"
        "\b\n"
        "  python train.py --dataset mnist --epochs 5\n"
        "  python train.py --dataset gaussian --arch mlp --epochs 20\n"
        "  python train.py --dataset ./faces --image-size 64 --loss wasserstein\n"
        "  python train.py --resume runs/mnist-dcgan-20250101-120000 --epochs 10\n\n"
        "Watch a run with `tensorboard --logdir runs`. Ctrl-C (or SIGTERM) saves a checkpoint "
        "and the generator, then exits with code 130 (143); --resume continues from the newest "
        "complete checkpoint with the same epoch numbering, data order and sample noise (a "
        "checkpoint taken inside an epoch restarts that epoch). A NaN or infinite loss stops "
        "the run without saving the poisoned state (exit code 3). Exit codes: 0 done, 1 bad "
        "setting/data/run directory or a failed write, 2 bad command line, 3 loss became NaN, "
        "130 interrupted, 143 terminated."
    ),
)
@click.option(
    "--dataset",
    metavar="NAME_OR_PATH",
    help="TFDS name (mnist, fashion_mnist, cifar10, celeb_a, ...), gaussian (2-D toy), a "
    "folder of images or an .npz/.npy file. Required unless --resume.",
)
@click.option(
    "--arch",
    metavar="NAME",
    help=f"Architecture: {', '.join(networks.available())} or any registered with "
    "keras_gan.networks.register. [default: dcgan for images, mlp for 2-D points]",
)
@click.option(
    "--loss",
    default="non_saturating",
    metavar="NAME",
    help=f"Adversarial loss: {', '.join(losses.NAMES)} (also lsgan, wgan-gp); wasserstein "
    "has a gradient penalty of weight 10. [default: non_saturating]",
)
@click.option("--epochs", type=int, help=f"Epochs to train. [{_arch_default('epochs')}]")
@click.option(
    "--batch-size", type=int, help=f"Real images per step. [{_arch_default('batch_size')}]"
)
@click.option(
    "--latent-dim", type=int, help=f"Size of the noise vector z. [{_arch_default('latent_dim')}]"
)
@click.option(
    "--d-steps",
    type=int,
    help=f"Discriminator updates per generator update. [{_arch_default('d_steps')}]",
)
@click.option(
    "--lr-d", type=float, help=f"Discriminator Adam learning rate. [{_arch_default('lr_d')}]"
)
@click.option("--lr-g", type=float, help=f"Generator Adam learning rate. [{_arch_default('lr_g')}]")
@click.option(
    "--beta1", type=float, help=f"Adam beta_1 of both players. [{_arch_default('beta1')}]"
)
@click.option(
    "--beta2", type=float, help=f"Adam beta_2 of both players. [{_arch_default('beta2')}]"
)
@click.option(
    "--ema-momentum",
    type=float,
    help="Momentum m of the moving average of G's weights (avg = m * avg + (1 - m) * w after "
    "every step) that samples and generator.keras come from; 0 turns it off. "
    f"[{_arch_default('ema_momentum')}]",
)
@click.option(
    "--image-size",
    type=int,
    help="Resize (centre-cropping to square) to N x N; dcgan needs N = s * 2**k with s <= 7, "
    "e.g. 28, 32, 64. [default: the data's own size]",
)
@click.option(
    "--channels", type=int, help="Force 1 (grayscale) or 3 (RGB). [default: the data's own]"
)
@click.option("--num-examples", type=int, help="Use only the first N examples. [default: all]")
@click.option(
    "--steps-per-epoch",
    type=int,
    help="Steps per epoch, cycling through the data. [default: one pass over the data]",
)
@click.option(
    "--seed", type=int, help="Seed of weights, data order and noise. [default: random, recorded]"
)
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the run is written. [default: runs/<dataset>-<arch>-<timestamp>]",
)
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="RUN_DIR",
    help="Continue this run from its newest complete checkpoint. Only --epochs, "
    "--steps-per-epoch, --sample-every, --checkpoint-every, --keep-checkpoints, --log-every, "
    "--data-dir, --jit-compile, --steps-per-execution, --strategy and --deterministic may "
    "change (--precision may not).",
)
@click.option(
    "--sample-every",
    type=int,
    default=1,
    help="Sample picture every N epochs, and after the last. [default: 1]",
)
@click.option(
    "--num-samples",
    type=int,
    help="Samples in each picture. [default: 64 images, 1000 points on a 2-D plot]",
)
@click.option(
    "--checkpoint-every",
    type=int,
    help="Also checkpoint every N steps. [default: at the end of each epoch only]",
)
@click.option(
    "--keep-checkpoints",
    type=int,
    default=3,
    help="How many of the newest checkpoints to keep. [default: 3]",
)
@click.option(
    "--log-every",
    type=int,
    default=10,
    help="TensorBoard per-step scalars every N steps. [default: 10]",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Folder with local dataset copies (IDX files, <name>.npz) or TFDS data.",
)
@click.option(
    "--conditional",
    is_flag=True,
    default=False,
    help="Train a class-conditional GAN on a labelled dataset (label embedding in G, projection "
    "discriminator); samples then show one row per class.",
)
@click.option(
    "--network-option",
    "network_options",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_parse_network_options,
    help="Architecture option, repeatable; VALUE is JSON, e.g. base_filters=128 or "
    "generator_hidden=[256,512].",
)
@click.option(
    "--precision",
    type=click.Choice(performance.PRECISION_CHOICES),
    default="auto",
    help="Number format: mixed_* compute in 16 bits with float32 weights (the generator's "
    "output stays float32). auto picks mixed_bfloat16 where bfloat16 is native (GPU compute "
    "capability >= 8, TPU, CPU with AVX512_BF16/AMX), else float32; the choice is recorded in "
    "config.json. [default: auto]",
)
@click.option(
    "--jit-compile",
    type=click.Choice(performance.JIT_COMPILE_CHOICES),
    default="auto",
    help="XLA-compile the training step; auto: on a GPU/TPU without a distribution strategy. "
    "[default: auto]",
)
@click.option(
    "--steps-per-execution",
    type=int,
    default=1,
    help="Training steps per compiled call (fewer Python round trips). [default: 1]",
)
@click.option(
    "--strategy",
    type=click.Choice(performance.STRATEGIES),
    default="default",
    help="tf.distribute strategy: default (one device), mirrored (all local GPUs), "
    "multiworker (the machines in TF_CONFIG; only the chief writes the run directory), tpu. "
    "--batch-size is the global batch, split over the replicas. [default: default]",
)
@click.option(
    "--deterministic/--no-deterministic",
    default=False,
    help="TensorFlow op determinism: the same --seed gives bit-identical weights (slower on "
    "some GPU ops). [default: off]",
)
@click.pass_context
def cli(ctx: click.Context, resume_dir: Path | None, **settings: Any) -> int:
    """Train a GAN and write a run directory: config.json, checkpoints/, generator.keras,
    samples/epoch_NNNN.png, logs/ (TensorBoard), history.csv and losses.png.

    DCGAN defaults: Adam 6e-4, beta_1 0.5, batch 64, z of 100, samples from a moving average
    of G's weights (momentum 0.99), which about halved the FID of the DCGAN paper's settings (Adam
    2e-4, batch 128, no average) at equal wall time (docs/benchmarks.md). The MLP GAN: Adam
    2e-4, beta_1 0.5, batch 64 (Goodfellow et al. 2014 used SGD schedules tuned to maxout
    networks); WGAN-GP (Gulrajani et al. 2017) Adam 1e-4, betas (0, 0.9), 5 critic steps.
    """
    try:
        if resume_dir is not None:
            overrides = _explicit_settings(ctx, settings)
            if "run_dir" in overrides:
                raise training.TrainingError("--resume RUN_DIR names the run; drop --run-dir.")
            run_dir = training.resume(resume_dir, **overrides)
        else:
            if not settings.get("dataset"):
                raise training.TrainingError("--dataset is required (or --resume RUN_DIR).")
            run_dir_setting = settings.pop("run_dir")
            config = training.TrainConfig(
                **settings, run_dir=None if run_dir_setting is None else str(run_dir_setting)
            )
            run_dir = training.train(config)
    except training.TrainingInterrupted as stop:
        _report_interrupted(stop)
        return EXIT_INTERRUPTED if stop.signal == signal.SIGINT else EXIT_TERMINATED
    except training.TrainingDivergedError as error:
        click.echo(f"Error: {error}", err=True)
        return EXIT_DIVERGED
    except (ValueError, OSError) as error:
        message = (str(error).strip().splitlines() or [type(error).__name__])[0]
        click.echo(f"Error: {message}", err=True)
        return EXIT_ERROR
    _report_finished(run_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; usage errors become one line on stderr."""
    try:
        result = cli.main(args=argv, prog_name="train.py", standalone_mode=False)
    except click.UsageError as error:
        click.echo(f"Error: {error.format_message()} See python train.py --help.", err=True)
        return EXIT_USAGE
    except click.ClickException as error:
        click.echo(f"Error: {error.format_message()}", err=True)
        return error.exit_code
    except click.Abort:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    configure_logging()
    sys.exit(main())
