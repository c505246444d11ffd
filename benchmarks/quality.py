"""Sample quality at equal wall time: a matrix of (dataset, config) rows.

Each row trains one config on one dataset for ``--minutes`` (timed from the start of ``fit``, so
graph tracing counts) and scores ``--eval-n`` samples in the dataset's domain-classifier space
against real images (docs/benchmarks.md, Quality, says which ones). Prints one table, its
Markdown version and the targets' verdicts; saves a grid per row to ``--img-dir``.

    python benchmarks/quality.py --datasets fashion2k,emoji --configs old-default,new-default
    python benchmarks/quality.py --datasets fashion --configs new-default,tutorial,paper
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
import tensorflow as tf
from PIL import Image
from quality_data import DATASETS, MATRIX, Dataset, real_images, resolve_dataset, training_images
from quality_references import build_reference

import keras_gan
from keras_gan import data, evaluation, latent, training
from keras_gan.gan import sampling_generator

PROJECT_CONFIGS = ("old-default", "dcgan-ada", "dcgan-diffaugment", "resnet", "resnet-ada")
CONFIGS = (*PROJECT_CONFIGS, "new-default")
REFERENCE_CONFIGS = ("tutorial", "paper")  # Keras reference GANs, fashion only
# Not trained: the training images themselves scored as samples (a G that memorised them).
TRAINING_SET = "training-set"
GRID_SAMPLES = 64
# The project default before issue 13 (commit b59f185 and after), pinned so that the row keeps
# meaning the same thing when the defaults change: DCGAN, non-saturating loss, no augmentation.
OLD_DEFAULT = {
    "arch": "dcgan",
    "loss": "non_saturating",
    "batch_size": 64,
    "latent_dim": 100,
    "lr_d": 6e-4,
    "lr_g": 6e-4,
    "beta1": 0.5,
    "beta2": 0.999,
    "d_steps": 1,
    "ema_momentum": 0.99,
    "augment": "off",
    # The builder's width at every image size, no extra layers, and Keras's own
    # BatchNormalization layer, which every network used before FusedBatchNormalization (the
    # same results, slower on CPUs).
    "network_options": {"base_filters": 64, "extra_layers": 0, "fused_batch_norm": False},
}
CONFIG_FIELDS = {
    "old-default": OLD_DEFAULT,
    "dcgan-ada": {"arch": "dcgan", "augment": "ada"},
    "dcgan-diffaugment": {"arch": "dcgan", "augment": "diffaugment"},
    "resnet": {"arch": "resnet", "augment": "off"},
    "resnet-ada": {"arch": "resnet", "augment": "ada"},
    "new-default": {},  # exactly what `train.py --dataset X` resolves to
}
# Targets of issue 13: new-default FID / old-default FID at most this, per dataset.
TARGETS = {"fashion2k": 0.5, "emoji": 0.5, "fashion": 0.6}


# ----------------------------------------------------------------------------- time budget
class TimeBudget(keras.callbacks.Callback):
    """Stops ``fit`` after the first batch that ends past ``seconds`` of training (timed from
    ``on_train_begin``, less the time spent in checks), or after ``max_steps`` batches when
    given, and counts the batches trained.

    ``checks`` maps minutes of training to a function of the model called once that much
    training time has passed (intermediate evaluations), ``step_checks`` maps batch counts to
    one; their time is not counted.
    """

    def __init__(
        self,
        seconds: float,
        checks: dict[float, Callable] | None = None,
        max_steps: int | None = None,
        step_checks: dict[int, Callable] | None = None,
    ) -> None:
        super().__init__()
        self.seconds = float(seconds)
        self.max_steps = max_steps
        self.checks = dict(sorted((checks or {}).items()))
        self.step_checks = dict(sorted((step_checks or {}).items()))
        self.batches = 0
        self.started = 0.0
        self.elapsed = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.batches += 1
        self.elapsed = time.perf_counter() - self.started
        due = [self.checks.pop(m) for m in list(self.checks) if self.elapsed >= m * 60.0]
        due += [self.step_checks.pop(n) for n in list(self.step_checks) if self.batches >= n]
        for check in due:
            paused = time.perf_counter()
            check(self.model, self.batches, self.elapsed)
            self.started += time.perf_counter() - paused
        if self.max_steps is not None:
            if self.batches >= self.max_steps:
                self.model.stop_training = True
        elif self.elapsed >= self.seconds:
            self.model.stop_training = True


# ----------------------------------------------------------------------------- configurations
@dataclasses.dataclass
class Config:
    name: str
    description: str
    batch_size: int
    precision: str
    build: Callable[[], keras.Model]
    settings: training.TrainConfig | None = None  # project configs: what trains


def data_options(settings: training.TrainConfig) -> dict:
    """The `data.describe`/`data.load` options `train.py` passes for `settings`."""
    options = {
        "image_size": settings.image_size,
        "channels": settings.channels,
        "data_dir": settings.data_dir,
        "num_examples": settings.num_examples,
    }
    if hasattr(settings, "background"):
        options["background"] = settings.background
    return options


def project_config(
    dataset: Dataset, name: str, seed: int, override: dict | None
) -> training.TrainConfig:
    """The resolved `TrainConfig` of project config `name` on `dataset` (``override`` first)."""
    fields = {field.name for field in dataclasses.fields(training.TrainConfig)}
    values = {**CONFIG_FIELDS[name], **(override or {})}
    missing = sorted(set(values) - fields)
    if missing:
        raise SystemExit(f"Error: TrainConfig has no field(s) {', '.join(missing)} ({name}).")
    settings = training.TrainConfig(dataset=dataset.source, seed=seed, **values)
    settings = settings.resolved(data.describe(dataset.source, **data_options(settings)))
    settings.validate()
    return settings


def describe(settings: training.TrainConfig) -> str:
    text = (
        f"{settings.arch}, {settings.loss}, Adam {settings.lr_d:g}/{settings.lr_g:g} (D/G) "
        f"beta {settings.beta1:g}/{settings.beta2:g}, d_steps {settings.d_steps}, "
        f"EMA {settings.ema_momentum or 'off'}, augment {getattr(settings, 'augment', 'off')}"
    )
    if settings.network_options:
        text += f", {json.dumps(settings.network_options)}"
    return text


def with_augment_options(settings: training.TrainConfig, options: dict) -> keras.Model:
    """`training.build_gan(settings)` with its augmentation's `ada_kimg`, `target` or
    `interval` set to ``options`` (read when `fit` traces the step; for ``--augment-options``)."""
    model = training.build_gan(settings)
    if model.augmentation is not None:
        for name, value in options.items():
            if not hasattr(model.augmentation, name):
                raise SystemExit(f"Error: the augmentation has no option {name!r}.")
            setattr(model.augmentation, name, type(getattr(model.augmentation, name))(value))
    return model


def configurations(
    dataset: Dataset,
    names: list[str],
    seed: int,
    override: dict | None,
    augment_options: dict | None = None,
):
    """`Config`s by name for one dataset (the Keras references only on full Fashion-MNIST)."""
    found = {}
    for name in names:
        if name == TRAINING_SET:
            continue
        if name in REFERENCE_CONFIGS:
            if dataset.name != "fashion":
                continue
            lr, beta_1, precision, batch = (
                (1e-4, 0.9, "float32", 256)
                if name == "tutorial"
                else (2e-4, 0.5, "mixed_bfloat16", 64)
            )
            found[name] = Config(
                name,
                f"keras.io train_step + TF tutorial nets, Adam {lr:g} (beta_1 {beta_1:g})",
                batch,
                precision,
                functools.partial(build_reference, lr, beta_1, precision != "float32"),
            )
            continue
        settings = project_config(dataset, name, seed, override)
        tuned = augment_options and settings.augment != "off"
        found[name] = Config(
            name,
            describe(settings) + (f", augment options {augment_options}" if tuned else ""),
            settings.batch_size,
            settings.precision,
            functools.partial(with_augment_options, settings, augment_options or {}),
            settings,
        )
    return found


# ----------------------------------------------------------------------------- running
@dataclasses.dataclass
class Row:
    dataset: str
    name: str
    description: str
    precision: str
    batch_size: int
    steps: int
    images_seen: int
    train_seconds: float
    result: evaluation.EvaluationResult
    augment_p: float | None = None  # the adaptive augmentation's probability when training ended

    @property
    def images_per_second(self) -> float:
        return self.images_seen / self.train_seconds if self.train_seconds else 0.0


def training_data(dataset: Dataset, config: Config, seed: int) -> tf.data.Dataset:
    settings = config.settings
    if settings is None:
        stream = data.load(dataset.source, batch_size=config.batch_size, shuffle=True, seed=seed)
    else:
        stream = data.load(
            settings.dataset,
            batch_size=settings.batch_size,
            with_labels=settings.conditional,
            shuffle=True,
            seed=seed,
            drop_remainder=True,
            **data_options(settings),
        )
    return stream.repeat()


def train_one(
    dataset: Dataset,
    config: Config,
    minutes: float,
    seed: int,
    checks: dict | None = None,
    max_steps: int | None = None,
    step_checks: dict | None = None,
) -> tuple[keras.Model, TimeBudget]:
    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_dtype_policy(config.precision)
    try:
        model = config.build()
        stream = training_data(dataset, config, seed)
        budget = TimeBudget(minutes * 60.0, checks, max_steps, step_checks)
        model.fit(
            stream, epochs=1, steps_per_epoch=10**9, callbacks=[budget], verbose=0, shuffle=False
        )
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    return model, budget


def samplers(model: keras.Model, raw: bool) -> dict[str, keras.Model]:
    """Row-name suffix -> generator: the sampling generator (G's weight average when the GAN
    keeps one) and, with ``raw``, the raw generator it averages."""
    found = {"": sampling_generator(model)}
    if raw and getattr(model, "generator_ema", None) is not None:
        found[" (raw G)"] = model.generator
    return found


def augment_probability(model: keras.Model) -> float | None:
    """The probability D's inputs are augmented with now (ADA adapts it), or None without
    augmentation."""
    augmentation = getattr(model, "augmentation", None)
    return None if augmentation is None else float(augmentation.p.numpy())


def intermediate_score(space, real, seed, model, steps, seconds) -> None:
    """Print FID and coverage of the model so far (``--eval-at``)."""
    result = evaluation.evaluate(
        sampling_generator(model), n=len(real), space=space, real_images=real, seed=seed
    )
    p = augment_probability(model)
    p = "" if p is None else f", augment p {p:.3f}"
    print(
        f"  after {seconds / 60:.1f} min ({steps:,} steps): FID {result.fid:.2f} on "
        f"{len(real):,}, classes covered {result.classes_covered}/{result.num_classes}{p}",
        flush=True,
    )


def score_training_set(dataset, space, real, real_source, args) -> Row:
    """The ``training-set`` row: ``--eval-n`` training images drawn with replacement, scored
    like samples. No generator can beat a perfect copy of its data by much, so this is the
    floor of the dataset's FID (for mnist and emoji, scored against their own training images,
    it is the sampling noise alone)."""
    images = training_images(dataset, args.eval_n, args.seed)
    result = evaluation.evaluate(images, space=space, real_images=real, seed=args.seed)
    result.real_source = real_source
    row = Row(
        dataset.name,
        TRAINING_SET,
        "the training images, drawn with replacement",
        "-",
        0,
        0,
        0,
        0.0,
        result,
    )
    print(row_line(row), flush=True)
    return row


def save_grid(generator: keras.Model, path: Path, seed: int) -> None:
    images = evaluation.generate_images(generator, GRID_SAMPLES, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(latent.image_grid(images, cols=8)).save(path)


def _cells(row: Row) -> list[str]:
    result = row.result
    return [
        row.dataset,
        row.name,
        f"{row.images_seen:,}",
        f"{row.images_per_second:,.0f}",
        f"{result.fid:.2f}",
        f"{result.kid_mean:.4f} ± {result.kid_std:.4f}",
        f"{result.classes_covered}/{result.num_classes}",
        f"{result.class_kl:.3f}",
    ]


def row_line(row: Row) -> str:
    """One row as the line printed when it is scored."""
    return " ".join(f"{h}: {c}," for h, c in zip(HEADERS, _cells(row), strict=True))


HEADERS = ["dataset", "config", "images seen", "images/s", "FID", "KID", "covered", "class KL"]


def table(rows: list[Row]) -> str:
    cells = [HEADERS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
        for line in cells
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def markdown(rows: list[Row], minutes: float, spaces: dict[str, str]) -> str:
    lines = [
        f"Budget {minutes:g} min of training per row; {rows[0].result.num_samples:,} samples "
        "per row. Real images and feature space per dataset:",
        "",
    ]
    lines += [f"- {name}: {text}" for name, text in spaces.items()]
    lines += ["", "| " + " | ".join([*HEADERS, "setup", "precision", "batch"]) + " |"]
    lines.append("|" + "---|" * (len(HEADERS) + 3))
    for row in rows:
        setup = row.description
        if row.augment_p is not None:
            setup += f", augment p {row.augment_p:.3f} at the end"
        extra = [setup, row.precision, str(row.batch_size)]
        lines.append("| " + " | ".join([*_cells(row), *extra]) + " |")
    return "\n".join(lines)


def verdicts(rows: list[Row]) -> list[str]:
    """The issue-13 targets (new-default vs old-default) and the reference ratio, per dataset."""
    found = {(row.dataset, row.name): row.result for row in rows}
    lines = []
    for dataset in dict.fromkeys(row.dataset for row in rows):
        new, old = found.get((dataset, "new-default")), found.get((dataset, "old-default"))
        if new is not None and old is not None:
            ratio, target = new.fid / old.fid, TARGETS.get(dataset)
            covered = new.classes_covered == new.num_classes
            verdict = ""
            if target is not None:
                met = ratio <= target and (dataset != "fashion" or covered)
                verdict = f" (target <= {target:.2f}): {'met' if met else 'NOT met'}"
            lines.append(
                f"{dataset}: new-default FID / old-default FID = {new.fid:.2f} / "
                f"{old.fid:.2f} = {ratio:.2f}{verdict}, classes covered "
                f"{new.classes_covered}/{new.num_classes}"
            )
        references = [found[(dataset, n)].fid for n in REFERENCE_CONFIGS if (dataset, n) in found]
        if new is not None and references:
            lines.append(
                f"{dataset}: new-default FID / best reference FID = {new.fid / min(references):.2f}"
            )
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per row")
    parser.add_argument("--eval-n", type=int, default=10_000, help="samples to evaluate")
    parser.add_argument("--datasets", default=",".join(MATRIX), help=", ".join(DATASETS))
    parser.add_argument(
        "--configs",
        default=",".join(CONFIGS),
        help=", ".join((*CONFIGS, *REFERENCE_CONFIGS, TRAINING_SET)),
    )
    parser.add_argument("--emoji", type=Path, default=None, help="emoji folder (else `emoji`)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--img-dir", type=Path, default=Path("docs/img"))
    parser.add_argument("--json-out", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--raw-g", action="store_true", help="also score G without its average")
    parser.add_argument(
        "--override",
        type=json.loads,
        default=None,
        help="JSON of TrainConfig fields for the project configs, e.g. '{\"d_steps\": 1}'",
    )
    parser.add_argument("--eval-at", default="", help="also score at these minutes, e.g. 2.5,5")
    parser.add_argument("--eval-at-n", type=int, default=5000, help="samples for --eval-at")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="train this many steps instead of --minutes (equal steps: for comparing settings "
        "of one architecture on a machine that is not idle)",
    )
    parser.add_argument(
        "--eval-at-steps", default="", help="with --steps: also score after these steps"
    )
    parser.add_argument(
        "--augment-options",
        type=json.loads,
        default=None,
        help="JSON of augmentation settings for configs that augment, e.g. '{\"ada_kimg\": 100}'",
    )
    args = parser.parse_args(argv)
    args.dataset_names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    args.config_names = [n.strip() for n in args.configs.split(",") if n.strip()]
    bad = [n for n in args.dataset_names if n not in DATASETS] + [
        n for n in args.config_names if n not in (*CONFIGS, *REFERENCE_CONFIGS, TRAINING_SET)
    ]
    if bad or not args.dataset_names or not args.config_names:
        parser.error(f"unknown dataset/config {', '.join(bad) or '(none given)'}")
    if args.minutes <= 0 or args.eval_n < 2 or (args.steps is not None and args.steps < 1):
        parser.error("--minutes and --steps must be > 0 and --eval-n >= 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])])
    print(f"$ python {command}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}",
        flush=True,
    )
    # An editable install imports the library of the checkout it points at, not this one's
    # (a `git archive` copy needs PYTHONPATH=<copy>): say which one trains.
    print(f"keras_gan: {Path(keras_gan.__file__).parent}", flush=True)
    rows, spaces = [], {}
    for dataset_name in args.dataset_names:
        dataset = resolve_dataset(dataset_name, args)
        if dataset is None:
            continue
        space = evaluation.domain_classifier(dataset.space, verbose=True)
        real, real_source = real_images(dataset, args.eval_n, args.seed)
        spaces[dataset.name] = f"{real_source}; {space.description}"
        if TRAINING_SET in args.config_names:
            rows.append(score_training_set(dataset, space, real, real_source, args))
        for name, config in configurations(
            dataset, args.config_names, args.seed, args.override, args.augment_options
        ).items():
            print(
                f"\n== {dataset.name} / {name}: {config.description}, batch "
                f"{config.batch_size}, {config.precision}, "
                + (f"{args.steps:,} steps" if args.steps else f"{args.minutes:g} min"),
                flush=True,
            )
            score = functools.partial(intermediate_score, space, real[: args.eval_at_n], args.seed)
            checks = {float(mark): score for mark in args.eval_at.split(",") if mark.strip()}
            step_checks = {int(n): score for n in args.eval_at_steps.split(",") if n.strip()}
            model, budget = train_one(
                dataset, config, args.minutes, args.seed, checks, args.steps, step_checks
            )
            final_p = augment_probability(model)
            print(
                f"trained {budget.batches:,} steps ({budget.batches * config.batch_size:,} "
                f"images) in {budget.elapsed:.0f} s"
                + ("" if final_p is None else f", augment p {final_p:.3f} at the end"),
                flush=True,
            )
            for suffix, generator in samplers(model, args.raw_g).items():
                result = evaluation.evaluate(
                    generator, n=args.eval_n, space=space, real_images=real, seed=args.seed
                )
                result.real_source = real_source
                if not suffix:
                    grid = args.img_dir / f"quality_{dataset.name}_{name}.png"
                    save_grid(generator, grid, args.seed)
                row = Row(
                    dataset.name,
                    name + suffix,
                    config.description,
                    config.precision,
                    config.batch_size,
                    budget.batches,
                    budget.batches * config.batch_size,
                    budget.elapsed,
                    result,
                    final_p,
                )
                rows.append(row)
                print(row_line(row), flush=True)
    if not rows:
        print("Error: no dataset could be loaded.", file=sys.stderr)
        return 1
    print(f"\n{table(rows)}\n\n{markdown(rows, args.minutes, spaces)}\n")
    print("\n".join(verdicts(rows)))
    if args.json_out is not None:
        records = [
            {
                **{k: v for k, v in dataclasses.asdict(row).items() if k != "result"},
                "images_per_second": row.images_per_second,
                "result": row.result.to_dict(),
            }
            for row in rows
        ]
        args.json_out.write_text(json.dumps({"spaces": spaces, "rows": records}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
