"""keras_gan.training.config: the names it offers match the registries, without TensorFlow."""

import dataclasses
import json
import subprocess
import sys

import pytest

from keras_gan import losses, networks, performance
from keras_gan.networks import registry
from keras_gan.training import config


def test_choice_names_match_the_registries():
    assert tuple(networks.available()) == config.ARCHITECTURES
    assert config.architectures() == tuple(networks.available())
    assert config.LOSSES == losses.NAMES
    for alias in [*config.LOSS_ALIASES, "wgan-gp", "LSGAN", *losses.NAMES]:
        assert config.canonical_loss(alias) == losses.get(alias).name
    penalised = {name for name in losses.NAMES if losses.get(name).gradient_penalty_weight}
    assert set(config.GRADIENT_PENALTY_LOSSES) == penalised
    assert ("auto", *performance.PRECISIONS) == performance.PRECISION_CHOICES


def test_registered_architectures_are_accepted(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    networks.register("mine", networks.build_mlp_generator, networks.build_mlp_discriminator)
    assert "mine" in config.architectures()
    config.TrainConfig("mnist", arch="mine").validate()


def test_unknown_names_are_one_line_training_errors():
    with pytest.raises(config.TrainingError, match="Unknown loss 'nope'"):
        config.TrainConfig("mnist", loss="nope").validate()
    with pytest.raises(config.TrainingError, match="Unknown architecture 'stylegan'; choose"):
        config.TrainConfig("mnist", arch="stylegan").validate()
    with pytest.raises(config.TrainingError, match="dcgan cannot build images of size 30"):
        config.TrainConfig("mnist", arch="dcgan", image_size=30).validate()


def test_importing_the_config_does_not_import_tensorflow():
    code = (
        "import sys; import keras_gan.training.config as c; from keras_gan import training; "
        "training.TrainConfig('mnist', precision='float32').resolved().validate(); "
        "training.load_config, training.TrainingInterrupted, training.default_run_dir; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_2d_mixtures_default_to_pacgans_setup_under_what_the_run_sets():
    from keras_gan import data

    ring = config.TrainConfig(dataset="ring8").resolved(data.describe("ring8"))
    assert (ring.arch, ring.batch_size, ring.latent_dim) == ("mlp", 100, 2)
    assert (ring.lr_d, ring.lr_g, ring.beta1, ring.ema_momentum) == (1e-4, 1e-4, 0.8, 0.0)
    assert ring.network_options["generator_hidden"] == [400] * 4
    assert ring.network_options["discriminator_maxout"] == 5
    mine = config.TrainConfig(
        dataset="grid25", latent_dim=8, network_options={"discriminator_maxout": 1}
    ).resolved(data.describe("grid25"))
    assert mine.latent_dim == 8 and mine.batch_size == 100
    assert (mine.epochs, mine.d_steps, mine.ema_momentum) == (30, 5, 0.999)  # grid25 only
    assert (ring.epochs, ring.d_steps) == (20, 1)
    assert mine.network_options["discriminator_maxout"] == 1
    assert mine.network_options["generator_batchnorm"] is True
    gaussian = config.TrainConfig(dataset="gaussian").resolved(data.describe("gaussian"))
    assert gaussian.network_options == {} and gaussian.latent_dim == 100


def test_runs_started_in_the_same_second_each_claim_their_own_run_directory(tmp_path, monkeypatch):
    """Eight threads claim a default run directory at once: eight new folders, each locked by
    its claimant, and removed again when a run ends before writing anything."""
    import contextlib
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from keras_gan.run_lock import LOCK_NAME
    from keras_gan.training import runs

    monkeypatch.setattr(runs, "time", SimpleNamespace(strftime=lambda _: "20261202-010203"))
    root = tmp_path / "runs"
    first = runs.default_run_dir("mnist", "dcgan", root)
    first.mkdir(parents=True)  # an earlier run of this second already has the plain name
    stacks = [contextlib.ExitStack() for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        claimed = list(
            pool.map(lambda stack: runs.claim_new_run_dir(stack, "mnist", "dcgan", root), stacks)
        )
    assert first.name == "mnist-dcgan-20261202-010203"
    assert sorted(path.name for path in claimed) == [f"{first.name}-{n}" for n in range(2, 10)]
    assert all([path.name for path in folder.iterdir()] == [LOCK_NAME] for folder in claimed)
    for stack in stacks:
        stack.close()
    assert [path.name for path in root.iterdir()] == [first.name]


@pytest.mark.parametrize(
    ("precision", "image_shape", "base_filters", "widest"),
    [
        ("float32", (28, 28, 1), 32, 64),
        ("float32", (32, 32, 3), 16, 64),
        ("float32", (64, 64, 3), 16, 128),
        ("float32", (128, 128, 3), 16, 256),
        ("mixed_bfloat16", (28, 28, 1), 64, 128),
        ("mixed_bfloat16", (32, 32, 3), 32, 128),
        ("mixed_bfloat16", (64, 64, 3), 32, 256),
        ("mixed_float16", (28, 28, 1), 64, 128),
        ("mixed_float16", (128, 128, 3), 32, 512),
    ],
)
def test_the_dcgans_default_width_in_float32_and_twice_it_in_mixed_precision(
    precision, image_shape, base_filters, widest
):
    """In float32 G's first layer has 64 channels (width 32 at 28x28, 16 at 32x32) and from
    64x64 on the floor of 16 holds, so G starts wider there (128 channels at 4x4 for 64x64);
    in the mixed precisions every width is doubled (64 at 28x28, 32 from 32x32 on)."""
    from keras_gan import training

    resolved = config.TrainConfig("mine", image_shape=image_shape, precision=precision).resolved()
    assert resolved.network_options["base_filters"] == base_filters
    assert config.default_dcgan_width(image_shape, precision) == base_filters
    if image_shape[0] <= 64:
        gan = training.build_gan(dataclasses.replace(resolved, latent_dim=8))
        dense = next(layer for layer in gan.generator.layers if type(layer).__name__ == "Reshape")
        assert dense.output.shape[-1] == widest
        assert gan.generator.output.shape[1:] == image_shape


def test_the_default_width_follows_the_precision_auto_resolves_to(monkeypatch):
    """`precision="auto"` is resolved before the width is chosen, so a machine with native
    bfloat16 gets the wider net (recorded in the config, so a resume elsewhere keeps it)."""
    for machine, base_filters in (("float32", 32), ("mixed_bfloat16", 64)):
        monkeypatch.setattr(performance, "recommended_precision", lambda machine=machine: machine)
        resolved = config.TrainConfig("mine", image_shape=(28, 28, 1)).resolved()
        assert (resolved.precision, resolved.network_options) == (
            machine,
            {"base_filters": base_filters, "extra_layers": 2},
        )


def test_the_default_width_refuses_an_unresolved_precision():
    with pytest.raises(config.TrainingError, match="precision must be one of"):
        config.default_dcgan_width((28, 28, 1), "auto")


def test_a_width_the_run_sets_wins_and_other_architectures_keep_their_own():
    shape = (64, 64, 3)
    mine = config.TrainConfig("mine", image_shape=shape, network_options={"base_filters": 64})
    assert mine.resolved().network_options == {"base_filters": 64, "extra_layers": 0}
    for arch in ("resnet", "mlp"):
        assert (
            config.TrainConfig("mine", arch=arch, image_shape=shape).resolved().network_options
            == {}
        )
    assert config.TrainConfig("mine").resolved().network_options == {}  # shape not known yet
    assert config.default_dcgan_width((30, 30, 1)) is None  # the build says why


def test_a_dcgan_config_file_written_before_the_width_rule_loads_as_the_builders_64(tmp_path):
    resolved = config.TrainConfig(
        "mine", image_shape=(64, 64, 3), seed=0, precision="float32"
    ).resolved()
    resolved.save(tmp_path / "config.json")
    assert config.TrainConfig.load(tmp_path / "config.json").network_options["base_filters"] == 16
    values = json.loads((tmp_path / "config.json").read_text())
    values["network_options"] = {"extra_layers": 1}  # what such a file held
    (tmp_path / "config.json").write_text(json.dumps(values))
    loaded = config.TrainConfig.load(tmp_path / "config.json")
    assert loaded.network_options == {"base_filters": 64, "extra_layers": 1}
    assert loaded.resolved().network_options == {"base_filters": 64, "extra_layers": 1}


@pytest.mark.parametrize(
    ("image_shape", "extra_layers", "extra_convs"),
    [((14, 14, 1), 2, 4), ((28, 28, 1), 2, 8), ((32, 32, 3), 0, 0), ((64, 64, 3), 0, 0)],
)
def test_the_dcgan_gets_two_extra_layers_per_resolution_up_to_28x28(
    image_shape, extra_layers, extra_convs
):
    """Nets of at most two upsamplings (7 -> 14 -> 28) get two stride-1 3x3 conv blocks at
    each resolution of G and D: at 28x28 four in G (7x7, 14x14) and four in D (14x14, 7x7).
    From 32x32 (three upsamplings) on the DCGAN stays plain."""
    from keras_gan import training

    resolved = config.TrainConfig("mine", image_shape=image_shape, precision="float32").resolved()
    assert resolved.network_options["extra_layers"] == extra_layers
    assert config.default_dcgan_extra_layers(image_shape) == extra_layers
    gan = training.build_gan(dataclasses.replace(resolved, latent_dim=8))
    stride_one = [
        layer
        for model in (gan.generator, gan.discriminator)
        for layer in model.layers
        if type(layer).__name__ == "Conv2D" and layer.strides == (1, 1)
    ]
    assert len(stride_one) == extra_convs
    assert all(layer.kernel_size == (3, 3) for layer in stride_one)


def test_extra_layers_the_run_sets_win_and_other_architectures_get_none():
    shape = (28, 28, 1)
    plain = config.TrainConfig("mine", image_shape=shape, network_options={"extra_layers": 0})
    assert plain.resolved().network_options["extra_layers"] == 0
    for arch in ("resnet", "mlp"):
        resolved = config.TrainConfig("mine", arch=arch, image_shape=shape).resolved()
        assert "extra_layers" not in resolved.network_options
    assert config.default_dcgan_extra_layers(None) is None
    assert config.default_dcgan_extra_layers((30, 30, 1)) is None  # the build says why


def test_a_dcgan_config_file_written_before_the_extra_layers_rule_loads_without_them(tmp_path):
    """A run saved before the rule built the plain DCGAN, and must resume with it: its weights
    have no extra layers to load into."""
    resolved = config.TrainConfig(
        "mine", image_shape=(28, 28, 1), seed=0, precision="float32"
    ).resolved()
    resolved.save(tmp_path / "config.json")
    assert config.TrainConfig.load(tmp_path / "config.json").network_options == {
        "base_filters": 32,
        "extra_layers": 2,
    }
    values = json.loads((tmp_path / "config.json").read_text())
    values["network_options"] = {"base_filters": 32}  # what such a file held
    (tmp_path / "config.json").write_text(json.dumps(values))
    loaded = config.TrainConfig.load(tmp_path / "config.json")
    assert loaded.resolved().network_options == {"base_filters": 32, "extra_layers": 0}


@pytest.mark.parametrize("value", ["-1", "1.5", "two"])
def test_an_extra_layers_value_that_is_not_a_count_gets_one_line(value, tmp_path, capsys):
    from keras_gan.cli import train as train_cli

    args = ["--dataset", "mnist", "--epochs", "1", "--run-dir", str(tmp_path / "run")]
    code = train_cli.main([*args, "--network-option", f"extra_layers={value}"])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Error")]
    assert code != 0
    assert len(errors) == 1
    assert errors[0].startswith("Error: Bad network option for dcgan: extra_layers must be a whole")
    assert not (tmp_path / "run" / "generator.keras").exists()
