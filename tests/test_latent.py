"""keras_gan.latent: noise, lerp/slerp, latent arithmetic and image grids (NumPy only)."""

import numpy as np
import pytest

from keras_gan import latent

# ---------------------------------------------------------------------------------- noise


def test_sample_noise_is_float32_standard_normal_and_deterministic_for_a_seed():
    z = latent.sample_noise(4000, 16, seed=3)
    assert z.shape == (4000, 16)
    assert z.dtype == np.float32
    assert abs(z.mean()) < 0.02
    assert abs(z.std() - 1.0) < 0.02
    np.testing.assert_array_equal(z, latent.sample_noise(4000, 16, seed=3))
    assert not np.allclose(z[:10], latent.sample_noise(10, 16, seed=4))


def test_sample_noise_accepts_a_generator_and_zero_samples():
    rng = np.random.default_rng(0)
    first, second = latent.sample_noise(2, 3, rng), latent.sample_noise(2, 3, rng)
    assert not np.allclose(first, second)
    assert latent.sample_noise(0, 5).shape == (0, 5)


@pytest.mark.parametrize(("n", "latent_dim"), [(-1, 4), (3, 0), (2.5, 4), (3, "8")])
def test_sample_noise_rejects_bad_sizes(n, latent_dim):
    with pytest.raises(ValueError, match="must be"):
        latent.sample_noise(n, latent_dim)


def test_label_grid_noise_has_one_row_per_class_sharing_each_columns_noise():
    z, labels = latent.label_grid_noise(num_classes=3, per_class=4, latent_dim=5, seed=1)
    assert z.shape == (12, 5)
    assert z.dtype == np.float32
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    np.testing.assert_array_equal(z[0:4], z[4:8])
    np.testing.assert_array_equal(z[0:4], z[8:12])
    assert len(np.unique(z[:4], axis=0)) == 4


def test_label_grid_noise_can_draw_fresh_noise_for_every_cell():
    z, _ = latent.label_grid_noise(2, 3, 4, seed=0, same_noise_per_column=False)
    assert len(np.unique(z, axis=0)) == 6


def test_neighbourhood_starts_with_z_and_spreads_by_scale():
    z = latent.sample_noise(1, 8, seed=0)[0]
    points = latent.neighbourhood(z, n=9, seed=1)
    assert points.shape == (9, 8)
    assert points.dtype == np.float32
    np.testing.assert_array_equal(points[0], z)
    np.testing.assert_array_equal(points, latent.neighbourhood(z, n=9, seed=1))
    spread = latent.neighbourhood(z, n=5001, scale=0.25, seed=2)[1:] - z
    assert abs(spread.std() - 0.25) < 0.005
    assert abs(spread.mean()) < 0.005


def test_neighbourhood_rejects_a_batch():
    with pytest.raises(ValueError, match="one latent vector"):
        latent.neighbourhood(np.zeros((2, 4)))


# ---------------------------------------------------------------------------------- lerp / slerp


def test_lerp_midpoint_endpoints_and_stacked_t():
    a, b = np.array([0.0, 2.0, -4.0]), np.array([2.0, 4.0, 4.0])
    np.testing.assert_allclose(latent.lerp(a, b, 0.5), [1.0, 3.0, 0.0])
    np.testing.assert_array_equal(latent.lerp(a, b, 0.0), a)
    np.testing.assert_array_equal(latent.lerp(a, b, 1.0), b)
    stacked = latent.lerp(a, b, [0.0, 0.25, 1.0])
    assert stacked.shape == (3, 3)
    np.testing.assert_allclose(stacked[1], [0.5, 2.5, -2.0])


def test_slerp_keeps_the_norm_of_equal_norm_endpoints_and_hits_them():
    a, b = latent.sample_noise(2, 64, seed=5).astype(np.float64)
    b = b * np.linalg.norm(a) / np.linalg.norm(b)
    t = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    path = latent.slerp(a, b, t)
    assert path.shape == (7, 64)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-12)
    np.testing.assert_allclose(path[0], a, atol=1e-12)
    np.testing.assert_allclose(path[-1], b, atol=1e-12)
    lerp_midpoint = latent.lerp(a, b, 0.5)
    assert np.linalg.norm(lerp_midpoint) < 0.9 * np.linalg.norm(a)


def test_slerp_moves_at_constant_angular_speed():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(latent.slerp(a, b, 0.5), [np.sqrt(0.5), np.sqrt(0.5)])
    np.testing.assert_allclose(
        latent.slerp(a, b, 1 / 3), [np.cos(np.pi / 6), np.sin(np.pi / 6)], atol=1e-12
    )


def test_slerp_of_parallel_and_opposite_vectors_falls_back_to_lerp():
    a = np.array([1.0, -2.0, 3.0])
    t = [0.0, 0.3, 1.0]
    np.testing.assert_allclose(latent.slerp(a, 2 * a, t), latent.lerp(a, 2 * a, t))
    np.testing.assert_allclose(latent.slerp(a, a, 0.5), a)
    np.testing.assert_allclose(latent.slerp(a, -a, 0.5), [0.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(latent.slerp(np.zeros(3), a, 0.5), a / 2)
    nearly_parallel = a + np.array([1e-9, 0.0, 0.0])
    result = latent.slerp(a, nearly_parallel, 0.5)
    assert np.all(np.isfinite(result))
    np.testing.assert_allclose(result, (a + nearly_parallel) / 2, rtol=1e-9)


def test_slerp_keeps_float32_and_broadcasts_over_leading_axes():
    starts = latent.sample_noise(3, 10, seed=0)
    ends = latent.sample_noise(3, 10, seed=1)
    path = latent.slerp(starts, ends, np.linspace(0, 1, 5))
    assert path.dtype == np.float32
    assert path.shape == (5, 3, 10)
    np.testing.assert_allclose(path[2, 1], latent.slerp(starts[1], ends[1], 0.5), rtol=1e-6)


def test_interpolate_includes_both_endpoints():
    z_start, z_end = latent.sample_noise(2, 12, seed=9)
    for method in ("slerp", "lerp"):
        path = latent.interpolate(z_start, z_end, steps=6, method=method)
        assert path.shape == (6, 12)
        assert path.dtype == np.float32
        np.testing.assert_allclose(path[0], z_start, atol=1e-6)
        np.testing.assert_allclose(path[-1], z_end, atol=1e-6)
    midpoint = latent.interpolate(z_start, z_end, steps=3, method="lerp")[1]
    np.testing.assert_allclose(midpoint, (z_start + z_end) / 2, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 1}, "steps must be an integer of at least 2"),
        ({"steps": 4, "method": "cubic"}, "Unknown interpolation method 'cubic'"),
        ({"steps": 4, "z_end": np.zeros(5)}, "same shape"),
    ],
)
def test_interpolate_rejects_bad_arguments(kwargs, message):
    arguments = {"z_start": np.zeros(4), "z_end": np.ones(4), **kwargs}
    with pytest.raises(ValueError, match=message):
        latent.interpolate(**arguments)


def test_open_interpolation_path_visits_every_point_once():
    points = latent.sample_noise(3, 4, seed=2)
    path = latent.interpolation_path(points, steps_per_segment=5, method="lerp")
    assert path.shape == (11, 4)
    for index, point in enumerate(points):
        np.testing.assert_allclose(path[5 * index], point, atol=1e-6)
    np.testing.assert_allclose(path[1], latent.lerp(points[0], points[1], 0.2), atol=1e-6)


def test_closed_interpolation_path_loops_without_repeating_the_first_point():
    points = latent.sample_noise(3, 4, seed=2)
    path = latent.interpolation_path(points, steps_per_segment=4, closed=True)
    assert path.shape == (12, 4)
    np.testing.assert_allclose(path[8], points[2], atol=1e-6)
    np.testing.assert_allclose(path[-1], latent.slerp(points[2], points[0], 0.75), atol=1e-6)
    assert not np.allclose(path[-1], points[0])


def test_interpolation_path_needs_two_points():
    with pytest.raises(ValueError, match="at least two latent vectors"):
        latent.interpolation_path(np.zeros((1, 4)), 3)


# ---------------------------------------------------------------------------------- arithmetic


def test_parse_arithmetic_reads_signed_groups():
    assert latent.parse_arithmetic("1,2,3 - 4,5,6 + 7,8,9") == [
        (1, [1, 2, 3]),
        (-1, [4, 5, 6]),
        (1, [7, 8, 9]),
    ]
    assert latent.parse_arithmetic(" + 0 ,12-3 ") == [(1, [0, 12]), (-1, [3])]
    assert latent.parse_arithmetic("5") == [(1, [5])]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("- 1,2 + 3", "must start with a group of indices"),
        ("1,2 -", "empty group"),
        ("1,2 - + 3", "empty group"),
        ("+", "empty group"),
        ("1,,2", "an empty index in group 1"),
        ("1,2,", "an empty index in group 1"),
        ("1 - 2.5", "'2.5' in group 2 is not a non-negative integer"),
        ("1 - a,b", "'a' in group 2"),
        ("1 2", "'1 2' in group 1"),
        ("*1", "'\\*1' in group 1"),
    ],
)
def test_parse_arithmetic_rejects_bad_syntax_in_one_line(expression, message):
    with pytest.raises(ValueError, match=message) as error:
        latent.parse_arithmetic(expression)
    assert "\n" not in str(error.value)


def test_arithmetic_on_a_linear_generator_matches_the_same_arithmetic_on_images():
    rng = np.random.default_rng(0)
    latent_dim, pixels = 6, 20
    A = rng.normal(size=(pixels, latent_dim))
    b = rng.normal(size=pixels)

    def generator(z):
        return z @ A.T + b

    z_bank = latent.sample_noise(10, latent_dim, seed=4)
    group_means, result = latent.arithmetic(z_bank, "1,2,3 - 4,5,6 + 7,8,9")
    expected = z_bank[[1, 2, 3]].mean(0) - z_bank[[4, 5, 6]].mean(0) + z_bank[[7, 8, 9]].mean(0)
    assert group_means.shape == (3, latent_dim)
    assert result.shape == (latent_dim,)
    assert result.dtype == np.float32
    np.testing.assert_allclose(group_means[1], z_bank[[4, 5, 6]].mean(0), atol=1e-6)
    np.testing.assert_allclose(result, expected, atol=1e-6)
    np.testing.assert_allclose(generator(result), A @ result + b, atol=1e-6)
    # The signs sum to one, so for an affine G the image of the result is the same
    # arithmetic on the mean images (Radford et al. 2016, Fig. 7 read in pixel space).
    images = generator(z_bank)
    image_arithmetic = images[[1, 2, 3]].mean(0) - images[[4, 5, 6]].mean(0)
    image_arithmetic += images[[7, 8, 9]].mean(0)
    np.testing.assert_allclose(generator(result), image_arithmetic, atol=1e-5)


def test_arithmetic_accepts_parsed_terms():
    z_bank = np.arange(12, dtype=np.float64).reshape(4, 3)
    group_means, result = latent.arithmetic(z_bank, [(1, [0, 2]), (-1, [3])])
    np.testing.assert_allclose(group_means, [[3.0, 4.0, 5.0], [9.0, 10.0, 11.0]])
    np.testing.assert_allclose(result, [-6.0, -6.0, -6.0])


def test_arithmetic_names_the_valid_index_range():
    with pytest.raises(ValueError, match=r"index 10 is out of range.*valid indices 0\.\.9"):
        latent.arithmetic(np.zeros((10, 4)), "1 - 10")


# ---------------------------------------------------------------------------------- images


def test_to_uint8_maps_minus_one_to_zero_and_one_to_255():
    images = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, -3.0, 2.0, np.nan], dtype=np.float32)
    np.testing.assert_array_equal(latent.to_uint8(images), [0, 64, 128, 191, 255, 0, 255, 0])
    assert latent.to_uint8(images).dtype == np.uint8
    already = np.array([[7, 200]], dtype=np.uint8)
    np.testing.assert_array_equal(latent.to_uint8(already), already)


@pytest.mark.parametrize(
    ("n", "cols", "expected"),
    [(10, 4, (3, 4)), (10, None, (3, 4)), (9, None, (3, 3)), (1, None, (1, 1)), (3, 8, (1, 8))],
)
def test_grid_shape(n, cols, expected):
    assert latent.grid_shape(n, cols) == expected


def test_image_grid_size_padding_and_pixel_values_for_grayscale():
    images = np.zeros((10, 8, 8, 1), dtype=np.float32)
    images[0, 0, 0, 0] = -1.0
    images[0, 7, 7, 0] = 1.0
    images[5] = 1.0
    grid = latent.image_grid(images, cols=4, padding=2, pad_value=255)
    assert grid.shape == (3 * 8 + 4 * 2, 4 * 8 + 5 * 2)
    assert grid.dtype == np.uint8
    assert grid.min() >= 0
    assert grid.max() <= 255
    assert grid[2, 2] == 0
    assert grid[2 + 7, 2 + 7] == 255
    assert grid[2, 2 + 1] == 128
    top, left = 2 + 1 * (8 + 2), 2 + 1 * (8 + 2)  # image 5: row 1, column 1
    assert np.all(grid[top : top + 8, left : left + 8] == 255)
    assert np.all(grid[:2] == 255)
    assert np.all(grid[:, 10:12] == 255)
    empty_cell_top, empty_cell_left = 2 + 2 * 10, 2 + 2 * 10  # cell 10: row 2, column 2
    assert np.all(grid[empty_cell_top : empty_cell_top + 8, empty_cell_left:] == 255)


def test_image_grid_colour_default_columns_and_pad_value():
    images = np.full((5, 4, 6, 3), -1.0)
    grid = latent.image_grid(images, padding=1, pad_value=0)
    assert grid.shape == (2 * 4 + 3 * 1, 3 * 6 + 4 * 1, 3)
    assert grid.dtype == np.uint8
    assert np.all(grid == 0)


def test_image_grid_without_padding_tiles_exactly():
    images = np.arange(4 * 2 * 3, dtype=np.uint8).reshape(4, 2, 3)
    grid = latent.image_grid(images, cols=2, padding=0)
    expected = np.block([[images[0], images[1]], [images[2], images[3]]])
    np.testing.assert_array_equal(grid, expected)


@pytest.mark.parametrize(
    ("images", "kwargs", "message"),
    [
        (np.zeros((2, 4, 4, 2)), {}, "got \\(2, 4, 4, 2\\)"),
        (np.zeros((4, 4)), {}, "got \\(4, 4\\)"),
        (np.zeros((0, 4, 4, 1)), {}, "No images"),
        (np.zeros((2, 4, 4)), {"cols": 0}, "cols must be a positive integer"),
        (np.zeros((2, 4, 4)), {"padding": -1}, "padding must be a non-negative integer"),
        (np.zeros((2, 4, 4)), {"pad_value": 300}, "pad_value must be"),
        ([np.zeros((4, 4)), np.zeros((5, 4))], {}, "same shape"),
    ],
)
def test_image_grid_rejects_bad_input(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        latent.image_grid(images, **kwargs)
