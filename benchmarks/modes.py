"""Mode collapse with and without packing: ring8, grid25 (and Stacked MNIST) at PacGAN's settings.

Each row trains one GAN through the real path, ``keras_gan.training.train(TrainConfig(...))``
(so ``pack`` travels in the config as ``train.py --pack`` sends it), for a fixed number of
steps (``--steps``, ``--stacked-steps``), then scores the saved generator with
``keras_gan.evaluation.evaluate_modes`` on PacGAN's sample counts (2,500 points, 26,000 Stacked
MNIST images): modes covered, high-quality share (2-D), KL of the mode histogram from uniform.

Settings (Lin et al. 2018, and their code github.com/fjxmlzn/PacGAN): 2-D: the defaults of
`train.py --dataset ring8` (``DATASET_DEFAULTS``): G an MLP of 4 hidden ReLU layers of 400
with batch norm, D 3 maxout layers of 200 units with 5 pieces, kernels from N(0, 0.02), z 2-D
Gaussian, Adam 1e-4 with beta_1 0.8, batch 100 (PacGAN trains 400 epochs of 100,000 points:
400,000 steps); grid25 adds its own 5 D steps per G step and a weight average of momentum
0.999 (``--override`` replaces them). With packing m the batch is m times larger, as in
PacGAN, whose batch counts D's packed examples. Stacked MNIST: the project's
DCGAN, Adam 2e-4 with beta_1 0.5, batch 64, z 100, no weight average (PacGAN: 50 epochs of
128,000). Both run 25 steps per compiled call (``steps_per_execution``), which changes no
number, and without FID during training (``eval_every`` 0). The 2-D rows compile with XLA
(``--jit-compile on``): for these small MLPs it is 1.4x faster per step on the 2-core CPU
(2,000 grid25 steps: 67 s without, 49 s with), unlike the DCGAN, where Keras's CPU default (off)
is right.

    python benchmarks/modes.py [--steps 30000] [--packs 1,4] [--stacked] [--stacked-steps 20000]
        [--score-every 10000] [--jit-compile on] [--override '{"d_steps": 5}']

``--score-every N`` also prints the row's figures every N steps while it trains (the
generator as it is then), to see whether a row is still improving when it stops.

Prints one table (dataset, packing, modes, high-quality %, KL, wall time) and a Markdown
version, and saves a scatter plot per 2-D row (an 8x8 grid for Stacked MNIST) as
``docs/img/modes_<dataset>_pack<m>.png``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from keras_gan import evaluation, latent, training
from keras_gan.data.toy import MIXTURES
from keras_gan.training.defaults import DATASET_DEFAULTS

PUBLISHED = {  # PacGAN, Tables 1 and 2 (means of 10 runs)
    ("ring8", 1): "GAN 6.3 / 8",
    ("ring8", 4): "PacGAN4 7.8 / 8",
    ("grid25", 1): "GAN 17.3 / 25",
    ("grid25", 4): "PacGAN4 24.8 / 25",
    ("stacked_mnist", 1): "DCGAN 99 / 1000",
    ("stacked_mnist", 2): "PacDCGAN2 1000 / 1000, KL 0.06",
}
# What `train.py --dataset ring8` (grid25) resolves to: PacGAN's settings (DATASET_DEFAULTS).
MIXTURE_SETTINGS = {
    "arch": "mlp",
    "batch_size": DATASET_DEFAULTS["ring8"]["batch_size"],
    "steps_per_execution": 25,
}
STACKED_SETTINGS = {
    "arch": "dcgan",
    "batch_size": 64,
    "latent_dim": 100,
    "lr_d": 2e-4,
    "lr_g": 2e-4,
    "beta1": 0.5,
    "ema_momentum": 0.0,
    "steps_per_execution": 25,
}


@dataclasses.dataclass
class Row:
    dataset: str
    pack: int
    steps: int
    seconds: float
    result: evaluation.ModeResult


def has_packing() -> bool:
    """Whether this version's TrainConfig has a `pack` field (GAN(pack=m), PacGAN)."""
    return "pack" in {field.name for field in dataclasses.fields(training.TrainConfig)}


def run_config(
    dataset: str,
    pack: int,
    steps: int,
    seed: int,
    run_dir: Path,
    jit_compile: str = "on",
    override: dict | None = None,
) -> dict:
    """The row's `TrainConfig` fields; `override` (``--override``) replaces any of them."""
    settings = STACKED_SETTINGS if dataset == "stacked_mnist" else MIXTURE_SETTINGS
    per_epoch = min(steps, 1000)
    epochs = max(1, steps // per_epoch)
    config = {
        **settings,
        # PacGAN's batch counts D's packed examples: m times as many samples per step.
        "batch_size": settings["batch_size"] * pack,
        "dataset": dataset,
        "epochs": epochs,
        "steps_per_epoch": per_epoch,
        "sample_every": epochs,
        "seed": seed,
        "run_dir": str(run_dir),
        "precision": "float32",
        "jit_compile": jit_compile if dataset != "stacked_mnist" else "auto",
    }
    if pack != 1 or has_packing():
        config["pack"] = pack
    if "eval_every" in {field.name for field in dataclasses.fields(training.TrainConfig)}:
        config["eval_every"] = 0  # no FID during training: the rows are scored by their modes
    return {**config, **(override or {})}


class ModeProgress(keras.callbacks.Callback):
    """Prints the generator's mode figures every `every_epochs` epochs while the row trains.

    It scores `GAN.sampling_generator`, what the run saves: the weight average when the row
    keeps one (`ema_momentum`)."""

    def __init__(self, dataset: str, pack: int, every_epochs: int, steps_per_epoch: int, seed: int):
        super().__init__()
        self.dataset, self.pack, self.seed = dataset, pack, seed
        self.every_epochs, self.steps_per_epoch = every_epochs, steps_per_epoch
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.every_epochs:
            return
        result = evaluation.evaluate_modes(
            self.model.sampling_generator, self.dataset, seed=self.seed
        )
        seconds = time.perf_counter() - self.started
        row = Row(self.dataset, self.pack, (epoch + 1) * self.steps_per_epoch, seconds, result)
        print("  at " + "  ".join(cells(row)[:-1]), flush=True)


def train_and_score(
    dataset: str,
    pack: int,
    steps: int,
    seed: int,
    root: Path,
    *,
    score_every: int = 0,
    jit_compile: str = "on",
    override: dict | None = None,
) -> tuple[Row, keras.Model]:
    """Train one row, then score its saved generator; returns the row and that generator."""
    run_dir = root / f"{dataset}-pack{pack}"
    config = training.TrainConfig(
        **run_config(dataset, pack, steps, seed, run_dir, jit_compile, override)
    )
    callbacks = []
    if score_every:
        every_epochs = max(1, score_every // config.steps_per_epoch)
        callbacks.append(ModeProgress(dataset, pack, every_epochs, config.steps_per_epoch, seed))
    started = time.perf_counter()
    training.train(config, callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - started
    generator = training.load_generator(run_dir)
    result = evaluation.evaluate_modes(generator, dataset, seed=seed)
    return Row(dataset, pack, config.epochs * config.steps_per_epoch, seconds, result), generator


def scatter(dataset: str, points: np.ndarray, result: evaluation.ModeResult, path: Path) -> None:
    """Generated points over the real ones, titled with the figures."""
    real, _ = MIXTURES[dataset].sample(2500, [0, 1])
    figure = Figure(figsize=(5, 5))
    axes = figure.add_subplot()
    axes.scatter(*real.T, s=3, alpha=0.3, label="real", color="tab:green")
    axes.scatter(*points.T, s=3, alpha=0.5, label="generated", color="tab:blue")
    limit = 1.5 if dataset == "ring8" else 5.5
    axes.set_xlim(-limit, limit)
    axes.set_ylim(-limit, limit)
    axes.set_aspect("equal")
    axes.legend(loc="upper right")
    hq = 100 * (result.high_quality or 0.0)
    axes.set_title(f"{path.stem}: {result.modes_covered}/{result.num_modes} modes, {hq:.1f}% HQ")
    figure.tight_layout()
    figure.savefig(path, dpi=80)


def cells(row: Row) -> list[str]:
    result = row.result
    hq = "-" if result.high_quality is None else f"{100 * result.high_quality:.1f}"
    kl = "-" if result.kl is None else f"{result.kl:.3f}"
    published = PUBLISHED.get((row.dataset, row.pack), "")
    return [
        row.dataset,
        str(row.pack),
        f"{result.modes_covered} / {result.num_modes}",
        hq,
        kl,
        f"{row.steps:,}",
        f"{row.seconds:.0f}",
        published,
    ]


HEADER = ["dataset", "packing", "modes", "high-quality %", "KL", "steps", "wall s", "published"]


def table(rows: list[Row]) -> str:
    body = [HEADER, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in body) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in body
    )


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30_000, help="training steps per 2-D row")
    parser.add_argument("--packs", default="1,4", help="packing degrees, comma-separated")
    parser.add_argument("--datasets", default="ring8,grid25", help="2-D mixtures to train on")
    parser.add_argument("--stacked", action="store_true", help="also Stacked MNIST (slow)")
    parser.add_argument("--stacked-steps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--score-every", type=int, default=0, help="also print the figures every N steps"
    )
    parser.add_argument(
        "--jit-compile", choices=["on", "off", "auto"], default="on", help="XLA for 2-D rows"
    )
    parser.add_argument(
        "--override",
        type=json.loads,
        default={},
        help="TrainConfig fields of every row, as JSON (e.g. '{\"d_steps\": 5}')",
    )
    parser.add_argument("--img-dir", type=Path, default=Path("docs/img"))
    parser.add_argument("--runs-dir", type=Path, default=None, help="keep the runs here")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    packs = [int(p) for p in args.packs.split(",") if p.strip()]
    if any(p != 1 for p in packs) and not has_packing():
        print("This version has no TrainConfig.pack yet: use --packs 1.", file=sys.stderr)
        return 2
    plan = [(d.strip(), p) for d in args.datasets.split(",") if d.strip() for p in packs]
    if args.stacked:
        plan += [("stacked_mnist", p) for p in packs]
    args.img_dir.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="modes-") as scratch:
        root = args.runs_dir or Path(scratch)
        for dataset, pack in plan:
            steps = args.stacked_steps if dataset == "stacked_mnist" else args.steps
            print(f"training {dataset} with pack {pack} for {steps:,} steps", flush=True)
            row, generator = train_and_score(
                dataset,
                pack,
                steps,
                args.seed,
                root,
                score_every=args.score_every,
                jit_compile=args.jit_compile,
                override=args.override,
            )
            rows.append(row)
            print("  " + "  ".join(cells(row)), flush=True)
            path = args.img_dir / f"modes_{dataset}_pack{pack}.png"
            if dataset in MIXTURES:
                points = evaluation.generate_images(generator, 2500, seed=args.seed)
                scatter(dataset, points, row.result, path)
            else:
                images = evaluation.generate_images(generator, 64, seed=args.seed)
                Image.fromarray(latent.image_grid(images, cols=8)).save(path)
    print()
    print(table(rows))
    print()
    print(markdown(rows))
    if args.json_out is not None:
        args.json_out.write_text(
            json.dumps(
                [{**dataclasses.asdict(row), "result": row.result.to_dict()} for row in rows],
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
