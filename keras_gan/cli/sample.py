"""`keras-gan sample` (`python sample.py`): grids, latent walks and latent arithmetic.

A thin layer over `keras_gan.sampling`: it parses the flags, calls the library and writes the
files. Exit codes are those of `keras_gan.cli.common`: 0 done; 1 the model, a label, the
expression or an output file is wrong (one line on stderr); 2 the command line is wrong.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from keras_gan.cli import common
from keras_gan.errors import KerasGanError

EXIT_ERROR = common.EXIT_ERROR
EXIT_USAGE = common.EXIT_USAGE

# keras_gan.latent.INTERPOLATION_METHODS, repeated so that --help does not import TensorFlow.
METHODS = ("slerp", "lerp")
DEFAULT_N = {"grid": 64, "arithmetic": 64, "interpolate": 9}
DEFAULT_POINTS = {".png": 2, ".gif": 4}
OUTPUT_SUFFIXES = {"grid": (".png",), "arithmetic": (".png",), "interpolate": (".gif", ".png")}
# Options that only make sense in some modes (a flag given elsewhere is an error, not ignored).
MODE_OPTIONS = {
    "save_npz": ("grid",),
    "numbered": ("grid",),
    "cols": ("grid", "interpolate"),
    "labels": ("grid", "interpolate"),
    "steps": ("interpolate",),
    "points": ("interpolate",),
    "method": ("interpolate",),
    "fps": ("interpolate",),
    "noise_scale": ("arithmetic",),
}


class CommandError(KerasGanError):
    """Bad input found by the CLI itself; the message is one line."""


def _parse_labels(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | list[int] | None:
    """`all` or a comma-separated list of class labels."""
    if value is None:
        return None
    text = value.strip().lower()
    if text == "all":
        return "all"
    try:
        labels = [int(item) for item in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected 'all' or labels like 0,3,7, got {value!r}") from None
    if any(label < 0 for label in labels):
        raise click.BadParameter(f"labels must be non-negative, got {value!r}")
    return labels


def _mode(interpolate: bool, arithmetic: str | None) -> str:
    if interpolate and arithmetic is not None:
        raise click.UsageError("choose one of --interpolate and --arithmetic, not both")
    if interpolate:
        return "interpolate"
    return "grid" if arithmetic is None else "arithmetic"


def _check_options(ctx: click.Context, mode: str, options: dict[str, Any]) -> None:
    """Reject flags that the chosen mode would ignore, and a wrong --out suffix."""
    for name, modes in MODE_OPTIONS.items():
        if mode not in modes and ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE:
            flag = "--" + name.replace("_", "-")
            wanted = " or ".join("a grid" if m == "grid" else f"--{m}" for m in modes)
            raise click.UsageError(f"{flag} applies to {wanted} only")
    if options["label"] is not None and options["labels"] is not None:
        raise click.UsageError("give --label K (one class) or --labels all|LIST, not both")
    out = options["out"]
    if out is None:
        if mode != "grid" or options["save_npz"] is None:
            raise click.UsageError("--out is required (e.g. --out grid.png)")
        return
    suffixes = OUTPUT_SUFFIXES[mode]
    if out.suffix.lower() not in suffixes:
        raise click.UsageError(
            f"--out must end in {' or '.join(suffixes)} for "
            f"{'a grid' if mode == 'grid' else '--' + mode}, got {out.name!r}"
        )
    if mode == "interpolate" and options["cols"] is not None and out.suffix.lower() == ".png":
        raise click.UsageError("--cols applies to GIF walks; a PNG strip has one walk per row")
    fps_given = ctx.get_parameter_source("fps") is ParameterSource.COMMANDLINE
    if mode == "interpolate" and fps_given and out.suffix.lower() == ".png":
        raise click.UsageError("--fps applies to GIF output only")


def _write(save: Any, *args: Any, path: Path, **kwargs: Any) -> None:
    """Call a `sampling.save_*` function; an OS error becomes one line naming `path`."""
    try:
        save(*args, **kwargs)
    except OSError as error:
        raise CommandError(f"Cannot write {path}: {error.strerror or error}") from None


def _run_grid(sampling: Any, generator: Any, o: dict[str, Any]) -> None:
    samples = sampling.draw_samples(
        generator, o["n"], o["seed"], cols=o["cols"], label=o["label"], classes=o["labels"]
    )
    count, cols = len(samples.images), samples.cols
    if o["out"] is not None:
        picture = sampling.grid_image(
            samples.images, cols, padding=o["padding"], scale=o["scale"], numbered=o["numbered"]
        )
        _write(sampling.save_png, picture, o["out"], path=o["out"])
        where = (
            "one row per class"
            if o["labels"] is not None
            else f"sample i at row i // {cols}, column i % {cols}"
        )
        click.echo(
            f"Wrote {o['out']}: {count} samples, {cols} per row ({where}), seed {o['seed']}."
        )
    if o["save_npz"] is not None:
        arrays = samples.arrays()
        _write(sampling.save_npz, o["save_npz"], path=o["save_npz"], **arrays)
        click.echo(
            f"Wrote {o['save_npz']}: images uint8 {samples.images.shape} (NHWC), "
            f"{', '.join(name for name in arrays if name != 'images')}."
        )


def _run_interpolate(sampling: Any, generator: Any, o: dict[str, Any]) -> None:
    gif = o["out"].suffix.lower() == ".gif"
    steps = o["steps"]
    points = o["points"] or DEFAULT_POINTS[".gif" if gif else ".png"]
    frames = sampling.interpolation_frames(
        generator,
        steps,
        o["method"],
        o["seed"],
        walks=o["n"],
        points=points,
        closed=gif,
        label=o["label"],
        classes=o["labels"],
    )
    walks, count = frames.shape[:2]
    what = (
        f"{points} points x {steps} steps, closed loop"
        if gif
        else f"{points} points, {steps} steps per segment"
    )
    if gif:
        pictures = sampling.gif_frames(frames, o["cols"], padding=o["padding"], scale=o["scale"])
        _write(sampling.save_gif, pictures, o["out"], o["fps"], path=o["out"])
        summary = f"{count} frames ({what}), {walks} walk(s)"
    else:
        picture = sampling.interpolation_strip(frames, padding=o["padding"], scale=o["scale"])
        _write(sampling.save_png, picture, o["out"], path=o["out"])
        summary = f"{walks} walk(s) of {count} images ({what})"
    click.echo(f"Wrote {o['out']}: {summary}, {o['method']}, seed {o['seed']}.")


def _run_arithmetic(sampling: Any, generator: Any, o: dict[str, Any]) -> None:
    figure = sampling.arithmetic_figure(
        generator,
        o["arithmetic"],
        o["n"],
        o["seed"],
        label=o["label"],
        noise_scale=o["noise_scale"],
        padding=o["padding"],
        scale=o["scale"],
    )
    _write(sampling.save_png, figure.image, o["out"], path=o["out"])
    click.echo(
        f"Wrote {o['out']}: {o['arithmetic'].strip()} over the {o['n']} samples of seed "
        f"{o['seed']}; the result is the centre of the 3x3 block."
    )


RUNNERS = {"grid": _run_grid, "interpolate": _run_interpolate, "arithmetic": _run_arithmetic}


def _best_generator(source: Path) -> Path:
    """RUN's `generator_best.keras`, after saying which epoch and FID it comes from."""
    from keras_gan.run_dir import RunPaths

    if not source.is_dir():
        raise CommandError(f"--best takes a run directory, got {source}")
    paths = RunPaths(source)
    if not paths.best_generator.is_file():
        raise CommandError(f"no generator_best.keras in {source}; train with --eval-every")
    try:
        meta = json.loads(paths.best_generator_info.read_text())
        click.echo(
            f"Best generator of {source}: epoch {meta['epoch']}, FID {meta['fid']:.3f} "
            f"({meta['feature_space']}, n={meta['n']})."
        )
    except (OSError, ValueError, KeyError, TypeError):
        click.echo(f"Best generator of {source} ({paths.best_generator_info.name} unreadable).")
    return paths.best_generator


@click.command(
    "sample",
    short_help="Draw a sample grid, a latent walk or latent arithmetic from a generator.",
    context_settings=common.CONTEXT_SETTINGS,
    epilog=(
        "Examples:\n\n"
        "\b\n"
        "  python sample.py runs/mnist-dcgan-20250101-120000 --n 64 --seed 1 --numbered "
        "--scale 2 --out grid.png\n"
        "  python sample.py generator.keras --n 10000 --seed 0 --save-npz samples.npz\n"
        "  python sample.py RUN --interpolate --n 9 --points 4 --steps 10 --out walk.gif\n"
        "  python sample.py RUN --interpolate --n 8 --steps 8 --method lerp --out walk.png\n"
        '  python sample.py RUN --n 64 --seed 1 --arithmetic "3,17,40 - 5,9,22 + 11,30,61" '
        "--out arith.png\n"
        "  python sample.py cgan-run --labels all --cols 10 --out classes.png\n"
        "  python sample.py RUN --best --n 64 --seed 1 --out best.png\n\n"
        "Exit codes: 0 done, 1 bad model, label, expression or output file, 2 bad command line."
    ),
)
@click.argument("source", metavar="RUN_DIR_OR_GENERATOR.keras", type=click.Path(path_type=Path))
@click.option(
    "--best",
    is_flag=True,
    help="Sample RUN_DIR's generator_best.keras: the generator with the lowest FID while it "
    "trained (train.py --eval-every) instead of the last one.",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Picture to write: .png for a grid or --arithmetic; .gif (animated, looping) or .png "
    "(strip) for --interpolate. Required unless a grid goes to --save-npz only.",
)
@click.option(
    "--n",
    "n",
    type=common.IntRange(min=1),
    help="Samples in the grid (and in the --arithmetic bank: use the grid's --n); walks for "
    "--interpolate. [default: 64; 9 for --interpolate]",
)
@click.option(
    "--seed",
    type=common.IntRange(min=0),
    help="Seed of the noise: the same --seed and --n give the images GAN.generate(n, seed=seed) "
    "gives. [default: random, printed; --arithmetic requires it]",
)
@click.option(
    "--cols",
    type=common.IntRange(min=1),
    help="Columns of the grid (GIF: of the walks). [default: ceil(sqrt(n)); with --labels, "
    "ceil(n / classes) samples per class row]",
)
@click.option(
    "--numbered",
    is_flag=True,
    help="Write each sample's index in its cell, to pick --arithmetic groups. Indices are "
    "row-major: sample i is at row i // cols, column i % cols, counting from 0.",
)
@click.option(
    "--scale",
    type=common.IntRange(min=1),
    default=1,
    show_default=True,
    help="Enlarge each image N times (nearest neighbour), e.g. 4 for 28x28 MNIST.",
)
@click.option(
    "--padding",
    type=common.IntRange(min=0),
    default=2,
    show_default=True,
    help="White pixels between and around cells.",
)
@click.option(
    "--save-npz",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write the raw samples for evaluation: images (uint8, NHWC), z (float32), labels "
    "(int32, conditional models) and seed.",
)
@click.option(
    "--interpolate",
    is_flag=True,
    help="Walk between random latent points. GIF: each of the --n walks loops through --points "
    "points, points x steps frames. PNG: one row per walk through --points points, "
    "(points - 1) x steps + 1 images. Walk i starts at sample i of the grid of the same seed.",
)
@click.option(
    "--steps",
    type=common.IntRange(min=1),
    default=8,
    show_default=True,
    help="Frames per segment, from one point up to the next.",
)
@click.option(
    "--points",
    type=common.IntRange(min=2),
    help="Latent points per walk. [default: 4 for a GIF, 2 for a PNG strip]",
)
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="slerp",
    show_default=True,
    help="Interpolation: slerp (great circle, White 2016) or lerp (straight line).",
)
@click.option(
    "--fps",
    type=common.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="GIF frames per second.",
)
@click.option(
    "--arithmetic",
    metavar="EXPR",
    help='Latent arithmetic (Radford et al. 2016, Fig. 7), e.g. "1,2,3 - 4,5,6 + 7,8,9": each '
    "group lists sample indices of the grid drawn with the same --n and --seed; group means "
    "of z are added or subtracted as written. The picture shows each group's samples above the "
    "image of its mean, and the result in the centre of a 3x3 block of nearby points.",
)
@click.option(
    "--noise-scale",
    type=common.FloatRange(min=0),
    default=0.25,
    show_default=True,
    help="Std of the noise around the --arithmetic result in its 3x3 block.",
)
@click.option(
    "--label",
    type=common.IntRange(min=0),
    metavar="K",
    help="Conditional models: draw every sample from class K. [default: the classes in turn, "
    "sample i from class i % num_classes]",
)
@click.option(
    "--labels",
    metavar="all|LIST",
    callback=_parse_labels,
    help="Conditional models: one row per class (all, or e.g. 0,3,7), each row on the same "
    "noise. With --interpolate: one walk per class along the same path (--n is ignored).",
)
@common.debug_option
@click.pass_context
def cli(ctx: click.Context, source: Path, **options: Any) -> int:
    """Draw samples from a trained generator into a grid PNG, a latent walk (GIF or PNG) or a
    latent-arithmetic figure.

    RUN_DIR_OR_GENERATOR.keras is a run directory written by train.py (its generator.keras,
    or the newest checkpoint's generator if that is newer; with --best its generator_best.keras)
    or a .keras file holding a generator or a GAN checkpoint; it is loaded with safe_mode=True.

    Sample i of a grid sits at row i // cols, column i % cols (--numbered prints the indices).
    To do arithmetic, make a grid, pick groups of indices from it, and run --arithmetic with
    the grid's --n and --seed. The same --n and --seed always give the same samples.
    """
    mode = _mode(options.pop("interpolate"), options["arithmetic"])
    best = options.pop("best")
    _check_options(ctx, mode, options)
    if options["n"] is None:
        options["n"] = DEFAULT_N[mode]
    if options["seed"] is None:
        if mode == "arithmetic":
            raise click.UsageError(
                "--arithmetic needs --seed (and --n): those of the grid the indices come from"
            )
        options["seed"] = secrets.randbelow(2**31)
    if best:
        source = _best_generator(source)
    from keras_gan import sampling

    generator = sampling.load_generator(source)
    if (options["label"], options["labels"]) != (None, None) and not (
        sampling.describe_generator(generator).conditional
    ):
        raise CommandError(
            f"{source} is not a conditional generator: it takes no labels; drop "
            f"{'--label' if options['label'] is not None else '--labels'}."
        )
    RUNNERS[mode](sampling, generator, options)
    return common.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run `sample` and return its exit code (see `keras_gan.cli.common.main`)."""
    return common.main(cli, argv, prog_name="python sample.py")
