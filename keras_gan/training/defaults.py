"""The names a run may choose from and the defaults of `TrainConfig`, with their sources.

Plain constants (no TensorFlow, no Keras), re-exported by `keras_gan.training.config`; the
command line reads them to list its choices and defaults. docs/training.md explains them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_DEFAULTS",
    "ARCHITECTURE_LOSSES",
    "AUGMENT_AUTO_MAX_IMAGES",
    "AUGMENT_CHOICES",
    "DATASET_DEFAULTS",
    "DCGAN_EXTRA_LAYERS",
    "DCGAN_EXTRA_LAYERS_MAX_UPSAMPLINGS",
    "DCGAN_MIN_BASE_FILTERS",
    "DCGAN_WIDEST_FILTERS",
    "DEFAULT_LOSS",
    "EVALUATIONS_PER_RUN",
    "EVAL_N",
    "GRADIENT_PENALTY_LOSSES",
    "JIT_COMPILE_CHOICES",
    "LEGACY_AUGMENT",
    "LEGACY_DCGAN_BASE_FILTERS",
    "LEGACY_DCGAN_EXTRA_LAYERS",
    "LEGACY_PRECISION",
    "LOSSES",
    "LOSS_ALIASES",
    "LOSS_DEFAULTS",
    "MAX_EVAL_CLASSES",
    "PRECISIONS",
    "PRECISION_CHOICES",
    "RESUME_OVERRIDES",
    "SAMPLE_IMAGES",
    "SAMPLE_POINTS",
    "STRATEGIES",
]

# ---------------------------------------------------------------------- names offered as choices
# The built-in entries of the `keras_gan.networks` and `keras_gan.losses` registries;
# tests/test_training_config.py checks that they match.
ARCHITECTURES: tuple[str, ...] = ("dcgan", "mlp", "resnet")
LOSSES: tuple[str, ...] = ("minimax", "non_saturating", "least_squares", "wasserstein", "hinge")
LOSS_ALIASES: dict[str, str] = {"lsgan": "least_squares", "wgan_gp": "wasserstein"}
GRADIENT_PENALTY_LOSSES: tuple[str, ...] = ("wasserstein",)  # the DCGAN critic gets layer norm
# The settings of `keras_gan.performance`.
PRECISIONS: tuple[str, ...] = ("float32", "mixed_bfloat16", "mixed_float16")
PRECISION_CHOICES: tuple[str, ...] = ("auto", *PRECISIONS)
JIT_COMPILE_CHOICES: tuple[str, ...] = ("auto", "on", "off")
STRATEGIES: tuple[str, ...] = ("default", "mirrored", "multiworker", "tpu")

# ---------------------------------------------------------------------- defaults
# DCGAN: Radford et al. 2016 (Sec. 4), but Adam 6e-4, batch 64 and a weight average of G
# (Yazici et al. 2019), which about halve the FID at equal wall time. MLP: the fully connected
# GAN of common reference code (Adam 2e-4, beta_1 0.5). ResNet: setting C of Miyato et al. 2018
# (Table 1: one D step, Adam 2e-4/0.5/0.999), 4x the G updates per second of their ResNet's
# 5 D steps on a CPU. Sources in docs/training.md.
ARCHITECTURE_DEFAULTS: dict[str, dict[str, Any]] = {
    "dcgan": {
        "epochs": 25,
        "batch_size": 64,
        "latent_dim": 100,
        "lr_d": 6e-4,
        "lr_g": 6e-4,
        "beta1": 0.5,
        "beta2": 0.999,
        "d_steps": 1,
        "ema_momentum": 0.99,
    },
    "mlp": {
        "epochs": 100,
        "batch_size": 64,
        "latent_dim": 100,
        "lr_d": 2e-4,
        "lr_g": 2e-4,
        "beta1": 0.5,
        "beta2": 0.999,
        "d_steps": 1,
        "ema_momentum": 0.0,
    },
    "resnet": {
        "epochs": 25,
        "batch_size": 64,
        "latent_dim": 128,
        "lr_d": 2e-4,
        "lr_g": 2e-4,
        "beta1": 0.5,
        "beta2": 0.999,
        "d_steps": 1,
        "ema_momentum": 0.99,
    },
}

# The DCGAN's width (`base_filters`) when a run sets none: G's widest layer, at the start size,
# gets DCGAN_WIDEST_FILTERS[precision] channels, never below DCGAN_MIN_BASE_FILTERS[precision]:
# in float32 64 channels and a floor of 16 (base_filters 32 at 28x28, 16 at 32x32 and up), in
# the mixed precisions twice that (64 at 28x28, 32 at 32x32 and up). Measured at equal wall
# time (10 minutes) on 2-core CPUs (docs/benchmarks.md, "The DCGAN's width"). In float32 the
# step time falls nearly in proportion to the multiply-adds, so narrow wins: at 28x28 width 32
# scored 13.71 on Fashion-MNIST against 22.89 at 64 in one run (width 16: 17.30), at 64x64
# width 16 scored 6.05 on the colour emoji against 63.87 at 64. In bfloat16 on a CPU with
# AMX/AVX512_BF16 a wide net costs far less (width 64 1.75-2x width 32's step at 28x28), and
# twice the float32 width won every pair: at 28x28 width 64 against 32 on Fashion-MNIST (8.93
# against 10.46), the 2,000-image subset (12.85 against 14.30) and the digits (4.54 against
# 5.21); at 64x64 width 32 scored 2.05 on the emoji against 4.56 at 16 and 3.50 at 64. GPUs
# take the mixed-precision width unmeasured. Files of runs written before this rule hold no
# width and load as 64.
DCGAN_WIDEST_FILTERS: dict[str, int] = {"float32": 64, "mixed_bfloat16": 128, "mixed_float16": 128}
DCGAN_MIN_BASE_FILTERS: dict[str, int] = {"float32": 16, "mixed_bfloat16": 32, "mixed_float16": 32}
LEGACY_DCGAN_BASE_FILTERS = 64

# DCGAN_EXTRA_LAYERS stride-1 3x3 conv blocks per resolution in the DCGAN's G and D
# (`extra_layers`, the WGAN code's `n_extra_layers`) when a run sets none, for nets of at most
# DCGAN_EXTRA_LAYERS_MAX_UPSAMPLINGS upsamplings (28x28: 7 -> 14 -> 28). At equal wall time the
# depth bought far more than the images/s it cost, more than any other lever measured: on the
# 2,000-image Fashion-MNIST subset, 5 minutes, FID 14.04 with none, 5.23 with 1, 4.56 with 2
# and 7.00 with 3 in bfloat16 at width 64; 14.22, 7.80 and 7.12 (0, 1, 2) in float32 at width
# 32. In 10-minute pairs against the plain net: 0.24 of its FID on Fashion-MNIST (2.39 against
# 9.86) and 0.86 on the 2,000 images (docs/benchmarks.md, "Extra layers"). Larger images keep
# the plain DCGAN: each added resolution costs more there, and no run measured it. Files of
# runs written before this rule hold no `extra_layers` and load as 0.
DCGAN_EXTRA_LAYERS = 2
DCGAN_EXTRA_LAYERS_MAX_UPSAMPLINGS = 2
LEGACY_DCGAN_EXTRA_LAYERS = 0

# The 2-D mixtures of the mode-collapse literature train as in PacGAN's code (Lin et al. 2018,
# github.com/fjxmlzn/PacGAN, after VEEGAN): G 4 x 400 ReLU units with batch norm, D 3 x 200
# maxout units of 5 pieces, kernels from N(0, 0.02), a 2-D z, Adam 1e-4 with beta_1 0.8, batch
# 100. They apply to the `mlp` architecture, under the loss's defaults and what the run sets;
# `network_options` given by the run are added to (and override) these.
_MIXTURE_DEFAULTS: dict[str, Any] = {
    "epochs": 20,
    "batch_size": 100,
    "latent_dim": 2,
    "lr_d": 1e-4,
    "lr_g": 1e-4,
    "beta1": 0.8,
    "beta2": 0.999,
    "d_steps": 1,
    "ema_momentum": 0.0,
    "network_options": {
        "generator_hidden": [400, 400, 400, 400],
        "generator_batchnorm": True,
        "discriminator_hidden": [200, 200, 200],
        "discriminator_maxout": 5,
        "discriminator_dropout": 0.0,
        "init_std": 0.02,
    },
}
# grid25's 25 narrow modes need a discriminator that gets ahead of G (with one D step per G
# step the packed D stays at chance and G never finds the modes) and an average of G, which
# oscillates around them (docs/benchmarks.md, "grid25: five D steps and a weight average").
# Five D steps and a weight average of momentum 0.999 took packing 4 from 14 / 25 modes (2.8%
# high quality) to 25 / 25 (78.6%) at 20,000 steps and 25 / 25 (83.8%) at 30,000, and no
# packing from 16 / 25 (36.4%, 15,000 steps) to 19 / 25 (84.6%, 20,000). ring8 meets its
# target with PacGAN's one step (five made it worse unpacked: 7 / 8 modes).
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "ring8": _MIXTURE_DEFAULTS,
    "grid25": {**_MIXTURE_DEFAULTS, "epochs": 30, "d_steps": 5, "ema_momentum": 0.999},
}

# The loss of a config that names none: SNGAN's ResNet trains with the hinge loss (Miyato et
# al. 2018, Sec. 4); the others, and architectures registered by users, with DEFAULT_LOSS.
DEFAULT_LOSS = "non_saturating"
ARCHITECTURE_LOSSES: dict[str, str] = {"resnet": "hinge"}

# WGAN-GP (Gulrajani et al. 2017, Alg. 1): Adam(1e-4, beta_1=0, beta_2=0.9), 5 critic steps
# per generator step.
LOSS_DEFAULTS: dict[str, dict[str, Any]] = {
    "wasserstein": {"lr_d": 1e-4, "lr_g": 1e-4, "beta1": 0.0, "beta2": 0.9, "d_steps": 5},
}

# Settings a resumed run may change; the others define the model and its data.
RESUME_OVERRIDES = frozenset(
    {
        "epochs",
        "steps_per_epoch",
        "sample_every",
        "checkpoint_every",
        "keep_checkpoints",
        "log_every",
        "data_dir",
        "cache_data",
        "jit_compile",
        "steps_per_execution",
        "strategy",
        "deterministic",
        "eval_every",
        "eval_n",
        "monitor",
    }
)
LEGACY_PRECISION = "float32"  # the precision of config files written before the setting existed
SAMPLE_IMAGES = 64  # an 8 x 8 grid
SAMPLE_POINTS = 1000  # enough generated points to see the shape of a 2-D distribution
# Augmentation of D's inputs (keras_gan.augment). "auto" resolves to "ada" for a DCGAN with
# extra layers (28x28 and smaller) on at most AUGMENT_AUTO_MAX_IMAGES images, and to "off"
# otherwise (docs/benchmarks.md, "`--augment auto` with the deeper DCGAN"). The deeper D
# memorises small sets: against no augmentation ADA scored 0.45x the FID on 2,000 Fashion-MNIST
# images and 0.86x on the 5,000 digits, and 1.07x on 60,000 (p never rose). With the plain
# DCGAN ADA lost on 500, 2,000 and 3,786 images ("ADA against no augmentation"). 10,000 is
# twice the largest win, not a measured edge. Config files written before augment and pack
# existed load as "off" and 1.
AUGMENT_AUTO_MAX_IMAGES = 10_000
AUGMENT_CHOICES: tuple[str, ...] = ("auto", "off", "diffaugment", "ada")
LEGACY_AUGMENT = "off"
# FID/KID during training (docs/training.md, "Evaluation during training"): on by default for
# labelled image data, about this many times per run, on EVAL_N samples.
EVALUATIONS_PER_RUN = 10
EVAL_N = 2000
MAX_EVAL_CLASSES = 100  # more classes: no evaluation by default (Stacked MNIST has 1000)
