"""Mode collapse (issue 15): the ring8/grid25/stacked_mnist data, the mode metrics, evaluate.py."""

import json
import math
import re

import keras
import numpy as np
import pytest

from keras_gan import data, evaluation, training
from keras_gan.cli import evaluate as evaluate_cli
from keras_gan.data.digits import digits_arrays
from keras_gan.data.stacked import stacked_indices
from keras_gan.data.toy import MIXTURES, mixture_points

RING = MIXTURES["ring8"]


# ----------------------------------------------------------------------------- metrics
def test_samples_at_three_modes_cover_three_with_the_kl_by_hand():
    counts = {0: 10, 1: 20, 2: 30}
    points = np.concatenate([np.repeat(RING.centres[[k]], c, axis=0) for k, c in counts.items()])
    far = np.full((5, 2), 100.0)
    result = evaluation.mixture_modes(np.concatenate([points, far]), RING.centres, RING.std)
    assert result.modes_covered == 3 and result.num_modes == 8
    assert result.histogram == [10, 20, 30, 0, 0, 0, 0, 0]
    assert result.high_quality == pytest.approx(60 / 65)
    # KL(p || uniform over 8) = sum p log(8 p) with p = 1/6, 1/3, 1/2.
    by_hand = (1 / 6) * math.log(8 / 6) + (1 / 3) * math.log(8 / 3) + (1 / 2) * math.log(8 / 2)
    assert result.kl == pytest.approx(by_hand, rel=1e-12)
    assert re.search(r"modes covered +3 / 8", result.table())


def test_points_far_from_every_mode_are_not_high_quality():
    result = evaluation.mixture_modes(np.full((50, 2), 10.0), RING.centres, RING.std)
    assert result.high_quality == 0.0 and result.modes_covered == 0 and result.kl is None
    assert "n/a" in result.table()


def test_the_high_quality_radius_is_three_standard_deviations():
    centre = RING.centres[0]
    inside = centre + np.array([2.9 * RING.std, 0.0])
    outside = centre + np.array([3.1 * RING.std, 0.0])
    result = evaluation.mixture_modes(np.stack([inside, outside]), RING.centres, RING.std)
    assert result.high_quality == 0.5 and result.modes_covered == 1
    strict = evaluation.mixture_modes(
        np.stack([inside, inside]), RING.centres, RING.std, min_count=3
    )
    assert strict.modes_covered == 0


def test_mode_kl_is_zero_for_uniform_and_log_k_for_one_mode():
    assert evaluation.mode_kl(np.full(25, 7)) == pytest.approx(0.0, abs=1e-12)
    assert evaluation.mode_kl(np.eye(25)[3] * 40) == pytest.approx(math.log(25))
    assert evaluation.mode_kl(np.zeros(8)) is None


def test_stacked_modes_count_the_channel_digits():
    one = evaluation.stacked_modes(np.tile([1, 2, 3], (50, 1)))
    assert one.modes_covered == 1 and one.histogram[123] == 50
    assert one.kl == pytest.approx(math.log(1000))
    every = np.array([[m // 100, m // 10 % 10, m % 10] for m in range(1000)] * 2)
    full = evaluation.stacked_modes(every)
    assert full.modes_covered == 1000 and full.kl == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(evaluation.EvaluationError, match=r"0\.\.9"):
        evaluation.stacked_modes(np.array([[1, 2, 10]]))


def brightness_classifier() -> evaluation.FeatureSpace:
    """A 'digit classifier' reading digit k from an image of constant value -0.9 + 0.2 k.

    logits_k = s (2 c_k m - c_k^2) for the mean pixel m, whose argmax is the nearest c_k.
    """
    levels = -0.9 + 0.2 * np.arange(10)
    inputs = keras.Input((28, 28, 1))
    mean = keras.layers.GlobalAveragePooling2D()(inputs)
    logits = keras.layers.Dense(10)
    probabilities = keras.layers.Softmax()(logits(mean))
    logits.set_weights([100.0 * 2 * levels[None, :], -100.0 * levels**2])
    model = keras.Model(inputs, [mean, probabilities])
    return evaluation.FeatureSpace("brightness", model, image_shape=(28, 28, 1), num_classes=10)


def test_stacked_samples_are_read_channel_by_channel():
    digits = np.array([[0, 5, 9], [3, 3, 3], [0, 5, 9], [7, 1, 4]])
    images = np.ones((4, 28, 28, 3), np.float32) * (-0.9 + 0.2 * digits[:, None, None, :])
    space = brightness_classifier()
    np.testing.assert_array_equal(evaluation.classify_channels(images, space, 3), digits)
    result = evaluation.evaluate_modes(images, "stacked_mnist", classifier=space)
    assert result.modes_covered == 3 and result.histogram[59] == 2 and result.high_quality is None
    assert result.classifier == "brightness" and "26,000" in result.notes[0]


def test_evaluate_modes_refuses_data_without_known_modes():
    assert evaluation.is_mode_dataset("Ring8") and not evaluation.is_mode_dataset("mnist")
    with pytest.raises(evaluation.EvaluationError, match="no known modes"):
        evaluation.evaluate_modes(np.zeros((3, 2)), "gaussian")


# ----------------------------------------------------------------------------- datasets
def all_points(name: str, split: str = "train", seed: int = 0, **options) -> np.ndarray:
    batches = data.load(name, split, batch_size=10_000, seed=seed, drop_remainder=False, **options)
    return np.concatenate([batch.numpy() for batch in batches])


@pytest.mark.parametrize("name, radius", [("ring8", 1.0), ("grid25", None)])
def test_mixtures_have_the_papers_centres_and_std(name, radius):
    mixture = MIXTURES[name]
    points = all_points(name)
    assert points.shape == (100_000, 2) and points.dtype == np.float32
    if radius is not None:
        np.testing.assert_allclose(np.linalg.norm(mixture.centres, axis=1), radius)
    else:
        assert sorted(set(mixture.centres.ravel())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    nearest = np.linalg.norm(points[:, None] - mixture.centres[None], axis=2).argmin(axis=1)
    shares = np.bincount(nearest, minlength=mixture.num_modes) / len(points)
    np.testing.assert_allclose(shares, 1 / mixture.num_modes, atol=0.01)
    for mode in (0, mixture.num_modes - 1):
        member = points[nearest == mode]
        np.testing.assert_allclose(member.mean(axis=0), mixture.centres[mode], atol=0.01)
        np.testing.assert_allclose(member.std(axis=0), mixture.std, rtol=0.05)
    real = evaluation.mixture_modes(points[:2500], mixture.centres, mixture.std)
    assert real.modes_covered == mixture.num_modes and real.high_quality > 0.98
    assert real.kl < 0.02


def test_mixture_points_are_fixed_and_the_test_split_differs():
    first = all_points("ring8", seed=0, num_examples=20_000)
    second = all_points("ring8", seed=5, num_examples=20_000)
    assert not np.array_equal(first, second)  # shuffled by the seed ...
    np.testing.assert_array_equal(np.sort(first, axis=0), np.sort(second, axis=0))  # same set
    prefix = all_points("ring8", shuffle=False, num_examples=15_000)
    np.testing.assert_array_equal(prefix, mixture_points("ring8", "train", 20_000)[:15_000])
    test = all_points("ring8", "test", shuffle=False)
    assert test.shape == (10_000, 2)
    assert not {tuple(row) for row in test.tolist()} & {tuple(row) for row in first.tolist()}
    with pytest.raises(data.DataError, match="points, not images"):
        data.describe("grid25", image_size=28)


def test_stacked_mnist_labels_match_its_channels():
    info = data.describe("stacked_mnist")
    assert info.element_shape == (28, 28, 3) and info.num_classes == 1000
    assert info.num_examples == 128_000 and data.describe("stacked_mnist", "test").num_examples
    digits, digit_labels = digits_arrays()
    for split, held_out in (("train", False), ("test", True)):
        dataset = data.load(
            "stacked_mnist", split, batch_size=64, with_labels=True, shuffle=False, num_examples=64
        )
        images, labels = (tensor.numpy() for tensor in next(iter(dataset)))
        indices, _ = stacked_indices(split, 64)
        assert np.all((indices % 10 == 0) == held_out)
        for channel in range(3):
            expected = digits[indices[:, channel], :, :, 0].astype(np.float32) / 127.5 - 1.0
            np.testing.assert_allclose(images[..., channel], expected, atol=1e-6)
        truth = digit_labels[indices] @ np.array([100, 10, 1])
        np.testing.assert_array_equal(labels, truth)
    _, train_labels = stacked_indices("train")
    assert len(np.unique(train_labels)) == 1000


# ----------------------------------------------------------------------------- evaluate.py
def test_evaluate_cli_prints_the_mode_metrics_of_a_ring8_run(capsys, tmp_path):
    run_dir = training.train(
        training.TrainConfig(
            dataset="ring8",
            epochs=1,
            steps_per_epoch=2,
            batch_size=16,
            latent_dim=2,
            network_options={"generator_hidden": [8], "discriminator_hidden": [8]},
            seed=1,
            run_dir=str(tmp_path / "run"),
        ),
        verbose=0,
    )
    capsys.readouterr()
    code = evaluate_cli.main([str(run_dir), "--json", "--n", "300"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["dataset"] == "ring8" and result["num_samples"] == 300
    assert result["num_modes"] == 8 and 0 <= result["modes_covered"] <= 8
    assert 0.0 <= result["high_quality"] <= 1.0 and sum(result["histogram"]) <= 300
    code = evaluate_cli.main([str(run_dir)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "modes covered" in out and "high-quality samples" in out and "2,500" in out
    assert "FID" not in out
