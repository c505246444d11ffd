"""`keras-gan train` (`python train.py --dataset mnist`): train a GAN and write a run directory.

A thin layer over `keras_gan.training`: it parses the flags, hands them to `training.train` or
`training.resume` and reports the result. The choices and defaults of the flags come from
`keras_gan.training.config`, so `--help` imports no TensorFlow. Exit codes are those of
`keras_gan.cli.common` (0 done, 1 bad input or a failed write, 2 bad command line, 3 NaN loss,
130 Ctrl-C, 143 SIGTERM); docs/training.md describes the settings.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from keras_gan.cli import common, train_report
from keras_gan.cli.common import FloatRange, IntRange, Names
from keras_gan.errors import one_line
from keras_gan.training import config
from keras_gan.training.defaults import AUGMENT_AUTO_MAX_IMAGES

EXIT_ERROR = common.EXIT_ERROR
EXIT_USAGE = common.EXIT_USAGE
EXIT_DIVERGED = common.EXIT_DIVERGED
EXIT_INTERRUPTED = common.EXIT_INTERRUPTED
EXIT_TERMINATED = common.EXIT_TERMINATED

DEFAULTS = {field.name: field.default for field in dataclasses.fields(config.TrainConfig)}
POSITIVE = IntRange(min=1)
UNIT_INTERVAL = FloatRange(min=0, max=1, max_open=True)  # [0, 1)


def _arch_default(name: str) -> str:
    """The `[default: ...]` text of a setting whose default depends on the arch and loss."""
    by_arch = {arch: values[name] for arch, values in config.ARCHITECTURE_DEFAULTS.items()}
    if len(set(by_arch.values())) == 1:
        parts = [f"{next(iter(by_arch.values())):g}"]
    else:
        parts = [f"{value:g} ({arch})" for arch, value in by_arch.items()]
    for loss, values in config.LOSS_DEFAULTS.items():
        if name in values:
            parts.append(f"{values[name]:g} with --loss {loss}")
    return "[default: " + ", ".join(parts) + "]"


def _parse_network_options(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, Any]:
    """`KEY=VALUE` pairs; `VALUE` is read as JSON (8, 0.3, [128, 256], true) or kept as text."""
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


def _explicit_settings(ctx: click.Context, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in settings.items()
        if ctx.get_parameter_source(name)
        in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    }


@click.command(
    "train",
    short_help="Train a GAN and write a run directory (or --resume one).",
    context_settings=common.CONTEXT_SETTINGS,
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
    type=Names(config.architectures),
    help="Architecture; also any registered with keras_gan.networks.register. "
    "[default: dcgan for images, mlp for 2-D points]",
)
@click.option(
    "--loss",
    type=Names((*config.LOSSES, *config.LOSS_ALIASES)),
    default=DEFAULTS["loss"],
    help="Adversarial loss (lsgan is least_squares, wgan_gp is wasserstein); wasserstein has a "
    f"gradient penalty of weight 10. [default: {config.DEFAULT_LOSS}, "
    + ", ".join(f"{loss} for {arch}" for arch, loss in config.ARCHITECTURE_LOSSES.items())
    + "]",
)
@click.option("--epochs", type=POSITIVE, help=f"Epochs to train. {_arch_default('epochs')}")
@click.option(
    "--batch-size", type=POSITIVE, help=f"Real images per step. {_arch_default('batch_size')}"
)
@click.option(
    "--latent-dim",
    type=POSITIVE,
    help=f"Size of the noise vector z. {_arch_default('latent_dim')}",
)
@click.option(
    "--d-steps",
    type=POSITIVE,
    help=f"Discriminator updates per generator update. {_arch_default('d_steps')}",
)
@click.option(
    "--lr-d",
    type=FloatRange(min=0, min_open=True),
    help=f"Discriminator Adam learning rate. {_arch_default('lr_d')}",
)
@click.option(
    "--lr-g",
    type=FloatRange(min=0, min_open=True),
    help=f"Generator Adam learning rate. {_arch_default('lr_g')}",
)
@click.option(
    "--beta1", type=UNIT_INTERVAL, help=f"Adam beta_1 of both players. {_arch_default('beta1')}"
)
@click.option(
    "--beta2", type=UNIT_INTERVAL, help=f"Adam beta_2 of both players. {_arch_default('beta2')}"
)
@click.option(
    "--ema-momentum",
    type=UNIT_INTERVAL,
    help="Momentum m of the moving average of G's weights (avg = m * avg + (1 - m) * w after "
    "every step) that samples and generator.keras come from; 0 turns it off. "
    f"{_arch_default('ema_momentum')}",
)
@click.option(
    "--image-size",
    type=POSITIVE,
    help="Resize (centre-cropping to square) to N x N; dcgan needs N = s * 2**k with s <= 7, "
    "e.g. 28, 32, 64. [default: the data's own size]",
)
@click.option(
    "--channels",
    type=click.Choice([1, 3]),
    help="Force 1 (grayscale) or 3 (RGB). [default: the data's own]",
)
@click.option(
    "--background",
    metavar="COLOUR",
    default=DEFAULTS["background"],
    show_default=True,
    callback=common.check_background,
    help="Colour that transparent pixels of image files (PNG alpha, GIF/palette transparency) "
    "are composited onto: a name such as white or black, or #rrggbb.",
)
@click.option("--num-examples", type=POSITIVE, help="Use only the first N examples. [default: all]")
@click.option(
    "--steps-per-epoch",
    type=POSITIVE,
    help="Steps per epoch, cycling through the data. [default: one pass over the data]",
)
@click.option(
    "--seed",
    type=IntRange(min=0),
    help="Seed of weights, data order and noise. [default: random, recorded]",
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
    "--data-dir, --cache-data, --jit-compile, --steps-per-execution, --strategy, "
    "--deterministic, --eval-every, --eval-n and --monitor may change (--precision may not).",
)
@click.option(
    "--sample-every",
    type=POSITIVE,
    default=DEFAULTS["sample_every"],
    show_default=True,
    help="Sample picture every N epochs, and after the last.",
)
@click.option(
    "--num-samples",
    type=POSITIVE,
    help=f"Samples in each picture. [default: {config.SAMPLE_IMAGES} images, "
    f"{config.SAMPLE_POINTS} points on a 2-D plot]",
)
@click.option(
    "--checkpoint-every",
    type=POSITIVE,
    help="Also checkpoint every N steps. [default: at the end of each epoch only]",
)
@click.option(
    "--keep-checkpoints",
    type=POSITIVE,
    default=DEFAULTS["keep_checkpoints"],
    show_default=True,
    help="How many of the newest checkpoints to keep.",
)
@click.option(
    "--log-every",
    type=POSITIVE,
    default=DEFAULTS["log_every"],
    show_default=True,
    help="TensorBoard per-step scalars every N steps.",
)
@click.option(
    "--eval-every",
    type=IntRange(min=0),
    metavar="N",
    help="FID and KID in the dataset's domain-classifier space every N epochs and after the "
    "last (0: off), into history.csv, losses.png and TensorBoard; the generator with the best "
    "FID is kept as generator_best.keras (sample.py RUN --best). [default: about "
    f"{config.EVALUATIONS_PER_RUN} times per run (ceil(epochs / {config.EVALUATIONS_PER_RUN})) "
    "for labelled images, off otherwise]",
)
@click.option(
    "--eval-n",
    type=IntRange(min=2),
    default=DEFAULTS["eval_n"],
    show_default=True,
    help="Generated (and at most as many real) images per evaluation.",
)
@click.option(
    "--monitor/--no-monitor",
    default=DEFAULTS["monitor"],
    show_default=True,
    help="Alarms for the failure modes (D overpowering G, mode collapse, diverging or "
    "oscillating losses): one line each on stderr, in TensorBoard and history.csv "
    "(docs/callbacks.md).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Folder with local dataset copies (IDX files, <name>.npz) or TFDS data.",
)
@click.option(
    "--cache-data/--no-cache-data",
    default=DEFAULTS["cache_data"],
    show_default=True,
    help="Keep an image folder's decoded images in RUN/data_cache after the first epoch, so "
    "later epochs and resumes read them instead of decoding the files (costs disk: about "
    "H*W*C bytes per image). Data held in memory ignores it.",
)
@click.option(
    "--conditional",
    is_flag=True,
    default=DEFAULTS["conditional"],
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
    type=click.Choice(config.PRECISION_CHOICES),
    default=DEFAULTS["precision"],
    show_default=True,
    help="Number format: mixed_* compute in 16 bits with float32 weights (the generator's "
    "output stays float32). auto picks mixed_bfloat16 where bfloat16 is native (GPU compute "
    "capability >= 8, TPU, CPU with AVX512_BF16/AMX), else float32; the choice is recorded in "
    "config.json.",
)
@click.option(
    "--jit-compile",
    type=click.Choice(config.JIT_COMPILE_CHOICES),
    default=DEFAULTS["jit_compile"],
    show_default=True,
    help="XLA-compile the training step; auto: on a GPU/TPU without a distribution strategy.",
)
@click.option(
    "--steps-per-execution",
    type=POSITIVE,
    default=DEFAULTS["steps_per_execution"],
    show_default=True,
    help="Training steps per compiled call (fewer Python round trips).",
)
@click.option(
    "--strategy",
    type=click.Choice(config.STRATEGIES),
    default=DEFAULTS["strategy"],
    show_default=True,
    help="tf.distribute strategy: default (one device), mirrored (all local GPUs), "
    "multiworker (the machines in TF_CONFIG; only the chief writes the run directory), tpu. "
    "--batch-size is the global batch, split over the replicas.",
)
@click.option(
    "--deterministic/--no-deterministic",
    default=DEFAULTS["deterministic"],
    show_default=True,
    help="TensorFlow op determinism: the same --seed gives bit-identical weights (slower on "
    "some GPU ops).",
)
@click.option(
    "--augment",
    type=click.Choice(config.AUGMENT_CHOICES),
    default=DEFAULTS["augment"],
    show_default=True,
    help="Differentiable augmentation of D's inputs, real and fake (colour, translation, "
    "cutout): diffaugment applies each op always (Zhao et al. 2020), ada with a probability "
    "steered by D's overfitting (Karras et al. 2020). auto: ada for the DCGAN with extra "
    f"layers (28x28 and smaller) on at most {AUGMENT_AUTO_MAX_IMAGES:,} images, whose deeper D "
    "memorises them; off otherwise (docs/benchmarks.md); the choice is recorded in config.json.",
)
@click.option(
    "--pack",
    type=POSITIVE,
    default=DEFAULTS["pack"],
    show_default=True,
    help="PacGAN packing: D judges m samples at once (against mode collapse, Lin et al. "
    "2018); --batch-size must be a multiple of it. Not with --conditional.",
)
@common.debug_option
@click.pass_context
def cli(ctx: click.Context, resume_dir: Path | None, **settings: Any) -> int:
    """Train a GAN and write a run directory: config.json, checkpoints/, generator.keras,
    samples/epoch_NNNN.png, logs/ (TensorBoard), history.csv, losses.png, model_summary.txt
    and, when FID is evaluated (--eval-every), generator_best.keras.

    DCGAN defaults: Adam 6e-4, beta_1 0.5, batch 64, z of 100, samples from a moving average
    of G's weights (momentum 0.99), which about halved the FID of the DCGAN paper's settings (Adam
    2e-4, batch 128, no average) at equal wall time (docs/benchmarks.md). The MLP GAN: Adam
    2e-4, beta_1 0.5, batch 64 (Goodfellow et al. 2014 used SGD schedules tuned to maxout
    networks); WGAN-GP (Gulrajani et al. 2017) Adam 1e-4, betas (0, 0.9), 5 critic steps.
    """
    from keras_gan import training  # TensorFlow: only once the command runs

    with common.library_logs_on_stdout():
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
                run_dir = training.train(
                    training.TrainConfig(
                        **settings,
                        run_dir=None if run_dir_setting is None else str(run_dir_setting),
                    )
                )
        except training.TrainingInterrupted as stop:
            return train_report.report_interrupted(stop)
        except training.TrainingDivergedError as error:
            click.echo(f"Error: {one_line(error)}", err=True)
            return EXIT_DIVERGED
    train_report.report_finished(run_dir)
    return common.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run `train` and return its exit code (see `keras_gan.cli.common.main`)."""
    return common.main(cli, argv, prog_name="python train.py")
