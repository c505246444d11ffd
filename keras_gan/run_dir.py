"""The layout of a run directory: where each file of a training run lives.

Shared by training (which writes a run) and inference (which reads one) so that neither
imports the other. The layout is drawn in `docs/architecture.md`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

__all__ = ["RunPaths"]


@dataclasses.dataclass(frozen=True)
class RunPaths:
    """Where each artefact of the run in `root` lives."""

    root: Path

    @property
    def config(self) -> Path:
        """`config.json`: every setting, read by `--resume` and `sample.py`."""
        return self.root / "config.json"

    @property
    def sample_noise(self) -> Path:
        """`sample_noise.npy`: the fixed noise of the sample grids."""
        return self.root / "sample_noise.npy"

    @property
    def checkpoints(self) -> Path:
        """`checkpoints/`: the full training state, newest few kept."""
        return self.root / "checkpoints"

    @property
    def generator(self) -> Path:
        """`generator.keras`: the sampling generator (the weight average when kept)."""
        return self.root / "generator.keras"

    @property
    def best_generator(self) -> Path:
        """`generator_best.keras`: the generator with the best FID, when evaluation is on."""
        return self.root / "generator_best.keras"

    @property
    def best_generator_info(self) -> Path:
        """`generator_best.json`: the epoch, FID, KID, feature space and `n` of that generator."""
        return self.root / "generator_best.json"

    @property
    def model_summary(self) -> Path:
        """`model_summary.txt`: `generator.summary()` and `discriminator.summary()`."""
        return self.root / "model_summary.txt"

    @property
    def data_cache(self) -> Path:
        """`data_cache/`: an image folder's decoded images, with `--cache-data`."""
        return self.root / "data_cache"

    @property
    def samples(self) -> Path:
        """`samples/`: one grid on the fixed noise per epoch."""
        return self.root / "samples"

    @property
    def logs(self) -> Path:
        """`logs/`: TensorBoard event files."""
        return self.root / "logs"

    @property
    def history(self) -> Path:
        """`history.csv`: one row of logs per epoch."""
        return self.root / "history.csv"

    @property
    def losses_plot(self) -> Path:
        """`losses.png`: the history drawn."""
        return self.root / "losses.png"

    def sample_image(self, epoch_number: int) -> Path:
        """The sample picture after `epoch_number` epochs (1-based)."""
        return self.samples / f"epoch_{epoch_number:04d}.png"
