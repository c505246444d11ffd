"""sample.py and keras_gan.sampling: grids, latent walks, latent arithmetic, files, bad input."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from keras_gan import GAN, callbacks, latent, networks, sampling, training
from keras_gan.cli import sample as sample_cli

REPO = Path(__file__).resolve().parents[1]
SAMPLE_PY = REPO / "sample.py"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
LATENT = 8
SHAPE = (16, 16, 1)
CLASSES = 3


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SAMPLE_PY), *map(str, args)],
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_one_error_line(stderr: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")


# ------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def pair() -> tuple[keras.Model, keras.Model]:
    return networks.build("dcgan", SHAPE, LATENT, base_filters=4)


@pytest.fixture(scope="module")
def generator(pair) -> keras.Model:
    return pair[0]


@pytest.fixture(scope="module")
def conditional_pair() -> tuple[keras.Model, keras.Model]:
    return networks.build("dcgan", (16, 16, 3), LATENT, base_filters=4, num_classes=CLASSES)


@pytest.fixture(scope="module")
def vivid() -> keras.Model:
    """A generator whose images change visibly along a walk (an untrained DCGAN's are nearly
    flat grey, and Pillow merges identical consecutive GIF frames)."""
    model, _ = networks.build("mlp", SHAPE, LATENT, generator_hidden=(), output_activation="tanh")
    dense = model.get_layer("to_pixels")
    kernel = np.random.default_rng(1).normal(0, 0.5, dense.kernel.shape).astype("float32")
    dense.set_weights([kernel, np.zeros(dense.bias.shape, "float32")])
    return model


@pytest.fixture(scope="module")
def files(tmp_path_factory, pair, conditional_pair, vivid) -> dict[str, Path]:
    """Saved models, a run directory and broken files, shared by the tests of this module."""
    root = tmp_path_factory.mktemp("models")
    names = ("generator", "conditional", "critic", "vivid", "checkpoint")
    paths = {name: root / f"{name}.keras" for name in names}
    pair[0].save(paths["generator"])
    conditional_pair[0].save(paths["conditional"])
    pair[1].save(paths["critic"])
    vivid.save(paths["vivid"])
    GAN(*pair, latent_dim=LATENT).save(paths["checkpoint"])
    run = root / "run"
    run.mkdir()
    pair[0].save(run / "generator.keras")
    config = training.TrainConfig(
        dataset="blobs", arch="dcgan", latent_dim=LATENT, image_shape=SHAPE, seed=0
    )
    config.save(training.RunPaths(run).config)
    paths["run"] = run
    paths["text"] = root / "notes.keras"
    paths["text"].write_text("not a model\n")
    content = paths["generator"].read_bytes()
    paths["truncated"] = root / "truncated.keras"
    paths["truncated"].write_bytes(content[: len(content) // 2])
    paths["empty_dir"] = root / "empty"
    paths["empty_dir"].mkdir()
    return paths


@pytest.fixture(scope="module")
def linear():
    """G(z) = A z + b on 4x4 images, with A and b small enough to stay inside [-1, 1]."""
    model, _ = networks.build("mlp", (4, 4, 1), 6, generator_hidden=(), output_activation="linear")
    rng = np.random.default_rng(0)
    kernel = rng.normal(0, 0.08, (6, 16)).astype("float32")
    bias = rng.normal(0, 0.05, 16).astype("float32")
    model.get_layer("to_pixels").set_weights([kernel, bias])
    return model, kernel, bias


# ------------------------------------------------------------------------------- generators
def test_describe_generator_reads_latent_size_classes_and_rejects_other_models(
    generator, conditional_pair, pair
):
    info = sampling.describe_generator(generator)
    assert (info.latent_dim, info.output_shape, info.num_classes) == (LATENT, SHAPE, None)
    assert not info.conditional and info.is_image
    conditional = sampling.describe_generator(conditional_pair[0])
    assert conditional.conditional and conditional.num_classes == CLASSES
    with pytest.raises(sampling.SamplingError, match="not a generator"):
        sampling.describe_generator(pair[1])


def test_load_generator_reads_run_directories_and_keras_files(files):
    for source in (files["run"], files["generator"], files["checkpoint"]):
        assert sampling.describe_generator(sampling.load_generator(source)).latent_dim == LATENT
    assert sampling.describe_generator(sampling.load_generator(files["conditional"])).conditional


def test_a_torn_generator_keras_falls_back_to_the_newest_checkpoint(tmp_path, files, pair):
    run = tmp_path / "run"
    shutil.copytree(files["run"], run)
    content = (run / "generator.keras").read_bytes()
    (run / "generator.keras").write_bytes(content[: len(content) // 3])
    with pytest.raises(sampling.SamplingError, match="damaged"):
        sampling.load_generator(run)
    gan = GAN(*pair, latent_dim=LATENT)
    gan.compile()
    checkpoint = callbacks.TrainingCheckpoint(training.RunPaths(run).checkpoints)
    checkpoint.set_model(gan)
    checkpoint.save(epochs_completed=1, end_of_epoch=True)
    loaded = sampling.load_generator(run)
    for saved, restored in zip(pair[0].get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, restored)


def test_a_run_whose_config_disagrees_with_its_generator_is_refused(tmp_path, files):
    run = tmp_path / "run"
    shutil.copytree(files["run"], run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "latent_dim": LATENT + 1}))
    with pytest.raises(sampling.SamplingError, match="the run directory is inconsistent"):
        sampling.load_generator(run)


def test_inference_imports_no_training_callbacks_or_data(files):
    """Loading and sampling from a run or a checkpoint needs none of the training stack."""
    code = textwrap.dedent(
        f"""
        import sys
        from keras_gan import sampling
        for source in ({str(files["run"])!r}, {str(files["checkpoint"])!r}):
            sampling.sample_grid(sampling.load_generator(source), 4, seed=0)
        heavy = ("training", "callbacks", "data", "performance", "evaluation")
        loaded = [m for m in sys.modules if m.startswith("keras_gan.") and m.split(".")[1] in heavy]
        assert not loaded, loaded
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("text", "not a Keras model file"),
        ("truncated", "not a Keras model file"),
        ("critic", "not a generator"),
        ("empty_dir", "not a run directory"),
        ("missing", "No such run directory"),
    ],
)
def test_load_generator_fails_with_one_line(files, name, message):
    source = files.get(name, files["run"].parent / "missing.keras")
    with pytest.raises(ValueError, match=message) as caught:
        sampling.load_generator(source)
    assert "\n" not in str(caught.value)


# ------------------------------------------------------------------------------- grids
def test_grid_size_follows_n_cols_padding_and_scale(generator):
    picture = sampling.sample_grid(generator, 10, seed=1, cols=4, padding=3, scale=2)
    rows, cols, cell = 3, 4, 16 * 2
    assert picture.dtype == np.uint8
    assert picture.shape == (rows * cell + (rows + 1) * 3, cols * cell + (cols + 1) * 3)
    assert (picture[:3] == 255).all() and (picture[:, :3] == 255).all()
    samples = sampling.draw_samples(generator, 10, seed=1, cols=4)
    expected = latent.to_uint8(sampling.generate(generator, latent.sample_noise(10, LATENT, 1)))
    np.testing.assert_array_equal(samples.images, expected)
    first = picture[3 : 3 + cell : 2, 3 : 3 + cell : 2]
    np.testing.assert_array_equal(first, samples.images[0, ..., 0])


def test_same_seed_gives_the_images_of_gan_generate(pair):
    gan = GAN(*pair, latent_dim=LATENT)
    samples = sampling.draw_samples(pair[0], 12, seed=5)
    np.testing.assert_array_equal(samples.images, latent.to_uint8(gan.generate(12, seed=5)))
    again = sampling.sample_grid(pair[0], 12, seed=5)
    np.testing.assert_array_equal(again, sampling.sample_grid(pair[0], 12, seed=5))
    assert not np.array_equal(again, sampling.sample_grid(pair[0], 12, seed=6))


@pytest.mark.parametrize("conditional", [False, True])
def test_gan_sampling_and_evaluation_generate_identical_arrays(pair, conditional_pair, conditional):
    """One generation path: the same noise gives bit-identical samples everywhere."""
    from keras_gan.evaluation import generate_images

    networks_, options = (conditional_pair, {"num_classes": CLASSES}) if conditional else (pair, {})
    gan = GAN(*networks_, latent_dim=LATENT, ema_momentum=0.9, **options)
    n, seed = 300, 4  # more than one batch of 256
    expected = gan.generate(n, seed=seed)
    assert expected.dtype == np.float32 and expected.shape == (n, *gan.generator.output_shape[1:])
    z = latent.sample_noise(n, LATENT, seed)
    labels = np.arange(n) % CLASSES if conditional else None
    np.testing.assert_array_equal(sampling.generate(gan.sampling_generator, z, labels), expected)
    np.testing.assert_array_equal(generate_images(gan, n, seed=seed), expected)
    drawn = sampling.draw_samples(gan.sampling_generator, n, seed=seed)
    np.testing.assert_array_equal(drawn.images, latent.to_uint8(expected))


def test_numbered_grid_keeps_its_size_and_marks_the_cells(generator):
    plain = sampling.sample_grid(generator, 6, seed=0, scale=3)
    numbered = sampling.sample_grid(generator, 6, seed=0, scale=3, numbered=True)
    assert numbered.shape == plain.shape
    assert not np.array_equal(numbered, plain)


def test_conditional_grids_cycle_classes_or_give_one_row_per_class(conditional_pair):
    model = conditional_pair[0]
    gan = GAN(*conditional_pair, latent_dim=LATENT, num_classes=CLASSES)
    default = sampling.draw_samples(model, 7, seed=2)
    np.testing.assert_array_equal(default.labels, np.arange(7) % CLASSES)
    np.testing.assert_array_equal(default.images, latent.to_uint8(gan.generate(7, seed=2)))
    assert (sampling.draw_samples(model, 4, seed=2, label=1).labels == 1).all()
    rows = sampling.draw_samples(model, 64, seed=2, classes="all", cols=5)
    np.testing.assert_array_equal(rows.labels, np.repeat(np.arange(CLASSES), 5))
    np.testing.assert_array_equal(rows.z[:5], rows.z[10:15])
    picture = sampling.grid_image(rows.images, rows.cols, padding=2)
    assert picture.shape == (CLASSES * 16 + (CLASSES + 1) * 2, 5 * 16 + 6 * 2, 3)
    with pytest.raises(sampling.SamplingError, match="out of range"):
        sampling.draw_samples(model, 4, seed=0, label=CLASSES)


def test_labels_on_an_unconditional_generator_are_refused(generator):
    with pytest.raises(sampling.SamplingError, match="not conditional"):
        sampling.draw_samples(generator, 4, label=0)
    with pytest.raises(sampling.SamplingError, match="not conditional"):
        sampling.interpolation_frames(generator, classes="all")


# ------------------------------------------------------------------------------- walks
@pytest.mark.parametrize(("points", "steps", "closed"), [(2, 5, False), (4, 3, True)])
def test_walks_have_the_documented_frame_count_and_start_at_grid_samples(points, steps, closed):
    walks = sampling.walk_latents(LATENT, 3, points, steps, "slerp", seed=4, closed=closed)
    frames = sampling.frame_count(points, steps, closed)
    assert walks.shape == (3, frames, LATENT)
    bank = latent.sample_noise(3, LATENT, 4)
    np.testing.assert_allclose(walks[:, 0], bank, rtol=1e-6)


def test_gif_has_one_frame_per_step_and_loops(vivid, tmp_path):
    frames = sampling.interpolation_frames(vivid, 3, "lerp", seed=0, walks=4, points=4, closed=True)
    assert frames.shape == (4, 12, *SHAPE) and frames.dtype == np.uint8
    path = sampling.save_gif(sampling.gif_frames(frames, scale=2), tmp_path / "walk.gif", fps=20)
    with Image.open(path) as gif:
        assert gif.n_frames == 12
        assert gif.info["loop"] == 0
        assert gif.size == (2 * 32 + 3 * 2, 2 * 32 + 3 * 2)
    strip = sampling.interpolation_strip(frames[:2, :5])
    assert strip.shape == (2 * 16 + 3 * 2, 5 * 16 + 6 * 2)
    assert [p.name for p in tmp_path.iterdir()] == ["walk.gif"]


# ------------------------------------------------------------------------------- arithmetic
def test_arithmetic_on_a_linear_generator_renders_g_of_the_mean_combination(linear):
    model, kernel, bias = linear
    figure = sampling.arithmetic_figure(model, "0,1,2 - 3,4 + 5", n=12, seed=7, padding=2)
    bank = latent.sample_noise(12, 6, 7).astype(np.float64)
    expected_z = bank[0:3].mean(0) - bank[3:5].mean(0) + bank[5]
    np.testing.assert_allclose(figure.result, expected_z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(figure.neighbourhood[0], figure.result)
    expected = np.clip(expected_z @ kernel + bias, -1, 1).reshape(4, 4)
    top, left, height, width = figure.result_box
    cell = figure.image[top : top + height, left : left + width]
    assert np.abs(cell / 127.5 - 1.0 - expected).max() <= 1 / 255 + 1e-6
    # members, 3 operators and the 3-wide result block, each a 4-pixel cell
    cells = 6 + 3 + 3
    assert figure.image.shape == (3 * 4 + 4 * 2, cells * 4 + (cells + 1) * 2)


def test_arithmetic_rejects_indices_outside_the_bank(generator):
    with pytest.raises(ValueError, match="out of range"):
        sampling.arithmetic_figure(generator, "1 - 70", n=64, seed=0)
    with pytest.raises(ValueError, match="not a non-negative integer"):
        sampling.arithmetic_figure(generator, "1,a - 2", n=64, seed=0)


# ------------------------------------------------------------------------------- files
def test_save_npz_and_png_write_complete_files_atomically(generator, tmp_path):
    samples = sampling.draw_samples(generator, 5, seed=3)
    npz = sampling.save_npz(tmp_path / "samples.data", **samples.arrays())
    assert npz.name == "samples.data"
    with np.load(npz) as stored:
        assert stored["images"].dtype == np.uint8
        assert stored["images"].shape == (5, *SHAPE)
        np.testing.assert_array_equal(stored["z"], latent.sample_noise(5, LATENT, 3))
        assert int(stored["seed"]) == 3 and "labels" not in stored
    png = sampling.save_png(sampling.grid_image(samples.images), tmp_path / "grid.png")
    with Image.open(png) as image:
        assert image.mode == "L" and image.size == (3 * 16 + 4 * 2, 2 * 16 + 3 * 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png", "samples.data"]


# ------------------------------------------------------------------------------- CLI
def test_cli_methods_match_the_library():
    assert sample_cli.METHODS == latent.INTERPOLATION_METHODS


def test_help_describes_every_mode(capfd):
    assert sample_cli.main(["--help"]) == 0
    help_text = capfd.readouterr().out
    for text in ("--interpolate", "--arithmetic", "--labels", "--save-npz", "row-major"):
        assert text in help_text


def test_cli_grid_and_npz_from_a_run_directory_match_the_library(files, generator, tmp_path):
    out, npz = tmp_path / "grid.png", tmp_path / "samples.npz"
    result = run_cli(
        files["run"], "--n", 10, "--seed", 3, "--cols", 5, "--out", out, "--save-npz", npz
    )
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.size == (5 * 16 + 6 * 2, 2 * 16 + 3 * 2)
        pixels = np.asarray(image)
    np.testing.assert_array_equal(pixels, sampling.sample_grid(generator, 10, seed=3, cols=5))
    with np.load(npz) as stored:
        assert stored["images"].dtype == np.uint8 and stored["images"].shape == (10, *SHAPE)
        np.testing.assert_array_equal(
            stored["images"], sampling.draw_samples(generator, 10, seed=3).images
        )


def test_cli_gif_walk_has_points_times_steps_frames(files, tmp_path, capfd):
    gif = tmp_path / "walk.gif"
    argv = [files["vivid"], "--interpolate", "--n", 4, "--points", 3, "--steps", 4, "--seed", 0]
    assert sample_cli.main([*map(str, argv), "--out", str(gif)]) == 0
    assert capfd.readouterr().err == ""
    with Image.open(gif) as image:
        assert image.n_frames == 3 * 4
        assert image.info["loop"] == 0


def test_cli_labels_all_gives_one_row_per_class(files, tmp_path, capfd):
    rows = tmp_path / "classes.png"
    argv = [str(files["conditional"]), "--labels", "all", "--cols", "4", "--out", str(rows)]
    assert sample_cli.main(argv) == 0
    assert capfd.readouterr().err == ""
    with Image.open(rows) as image:
        assert image.size == (4 * 16 + 5 * 2, CLASSES * 16 + (CLASSES + 1) * 2)


def test_cli_bad_file_gives_one_line_and_exit_code_1(files, tmp_path, capfd):
    assert sample_cli.main([str(files["text"]), "--out", str(tmp_path / "grid.png")]) == 1
    stderr = capfd.readouterr().err
    assert_one_error_line(stderr)
    assert "not a Keras model file" in stderr
    assert not (tmp_path / "grid.png").exists()


@pytest.mark.parametrize(
    ("source", "args", "code"),
    [
        ("truncated", [], 1),
        ("critic", [], 1),
        ("missing", [], 1),
        ("conditional", ["--label", "7"], 1),
        ("generator", ["--label", "1"], 1),
        ("generator", ["--arithmetic", "1 - 99", "--seed", "0"], 1),
        ("generator", ["--arithmetic", "1,x", "--seed", "0"], 1),
        ("generator", ["--arithmetic", "1 - 2"], 2),
        ("generator", ["--steps", "3"], 2),
        ("generator", ["--interpolate"], 2),
    ],
)
def test_cli_errors_in_process_are_one_line(files, tmp_path, capfd, source, args, code):
    out = tmp_path / ("walk.jpg" if "--interpolate" in args else "out.png")
    path = files.get(source, tmp_path / "missing.keras")
    assert sample_cli.main([str(path), *args, "--out", str(out)]) == code
    captured = capfd.readouterr()
    assert_one_error_line(captured.err)
    assert not out.exists()


def test_cli_arithmetic_writes_the_figure(files, tmp_path, capfd):
    out = tmp_path / "arith.png"
    argv = [str(files["generator"]), "--n", "16", "--seed", "2", "--arithmetic", "1,2 - 3 + 4"]
    assert sample_cli.main([*argv, "--out", str(out)]) == 0
    assert capfd.readouterr().err == ""
    expected = sampling.arithmetic_figure(
        sampling.load_generator(files["generator"]), "1,2 - 3 + 4", 16, 2
    ).image
    with Image.open(out) as image:
        np.testing.assert_array_equal(np.asarray(image), expected)
