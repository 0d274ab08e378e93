"""The dissimilarity index and area of applicability (core.spatial.applicability): a hand-computed case,
the cross-validated DI of training rows, new rows inside and outside, and the file it is kept in."""
import math

import numpy as np
import pytest
import torch

from core.spatial.applicability import (Applicability, cross_validated_distance, fit_applicability, mean_distance,
                                normalised_weights, upper_whisker)
from core.errors import HybridlabError
from core.hybrid.model import ModelOutput
from core.run.applicability import permutation_importance, validation_score
from core.training.tensors import Tensors

SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def test_the_di_of_a_square_of_four_points_is_the_hand_computed_one():
    # standardised (mean 0.5, sd 0.5) the corners are (+-1, +-1): 4 sides of 2, 2 diagonals of 2 sqrt 2
    app = fit_applicability(SQUARE, np.arange(4), np.ones(2), ["a", "b"])
    d_bar = (4 * 2 + 2 * 2 * math.sqrt(2)) / 6
    assert app.mean_distance == pytest.approx(d_bar)
    np.testing.assert_allclose(app.train_di, 2 / d_bar)  # each corner's nearest other corner: a side
    assert app.threshold == pytest.approx(2 / d_bar)
    # the centre lies sqrt 2 from every corner; (3, 0.5) lies at (5, 0), sqrt(4^2 + 1) from (1, +-1)
    di = app.dissimilarity(np.array([[0.5, 0.5], [3.0, 0.5], [np.nan, 0.0]]))
    np.testing.assert_allclose(di[:2], [math.sqrt(2) / d_bar, math.sqrt(17) / d_bar])
    assert np.isnan(di[2])
    assert app.inside(di).tolist() == [True, False, False]


def test_a_weight_of_zero_leaves_a_predictor_out_of_the_distance():
    app = fit_applicability(SQUARE, np.arange(4), np.array([2.0, 0.0]), ["a", "b"])
    np.testing.assert_allclose(app.weights, [1.0, 0.0])
    far_in_b = app.dissimilarity(np.array([[1.0, 50.0]]))
    assert far_in_b[0] == pytest.approx(0.0)
    assert normalised_weights(np.array([-1.0, np.nan, 0.0])).tolist() == [1.0, 1.0, 1.0]  # none informative: equal


def test_a_training_row_is_measured_to_rows_of_other_groups_only():
    # rows 0 and 1 coincide but share a group: row 0's DI is to row 2 (distance 3 in raw units)
    x = np.array([[0.0], [0.0], [3.0], [10.0]])
    distance = cross_validated_distance(x, np.array(["a", "a", "b", "c"]))
    np.testing.assert_allclose(distance, [3.0, 3.0, 3.0, 7.0])


def test_large_groups_and_small_groups_give_the_brute_force_distances():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(300, 3))
    groups = np.r_[np.zeros(150, int), np.repeat(np.arange(1, 31), 5)]  # one group of 150, 30 of 5
    pairs = np.linalg.norm(z[:, None, :] - z[None, :, :], axis=2)
    other = np.where(groups[:, None] == groups[None, :], np.inf, pairs)
    np.testing.assert_allclose(cross_validated_distance(z, groups), other.min(1))
    assert mean_distance(z) == pytest.approx(pairs.sum() / (300 * 299))


def test_the_threshold_is_the_upper_whisker():
    values = np.r_[np.linspace(0.0, 1.0, 21), 5.0]  # 5 lies beyond Q75 + 1.5 IQR
    assert upper_whisker(values) == pytest.approx(1.0)


def _gaussian_reference(seed=0, n=600, p=8):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) * np.arange(1, p + 1) + 10
    return fit_applicability(x, np.arange(n) // 3, rng.uniform(0.2, 1.0, p), [f"v{j}" for j in range(p)]), rng


def test_rows_drawn_like_the_training_rows_fall_inside_and_shifted_rows_outside():
    app, rng = _gaussian_reference()
    p = len(app.predictors)
    like = rng.normal(size=(2000, p)) * np.arange(1, p + 1) + 10
    shifted = like + 4 * np.arange(1, p + 1)  # every predictor 4 sd off
    assert app.inside(app.dissimilarity(like)).mean() >= 0.9
    assert (~app.inside(app.dissimilarity(shifted))).mean() >= 0.9


def test_new_rows_in_blocks_give_the_di_of_one_query():
    app, rng = _gaussian_reference(seed=1, n=200)
    rows = rng.normal(size=(57, len(app.predictors))) + 10
    np.testing.assert_array_equal(app.dissimilarity(rows, block=8), app.dissimilarity(rows))


def test_it_is_saved_and_read_back_and_a_damaged_file_is_one_line(tmp_path):
    app, rng = _gaussian_reference(seed=2, n=100)
    app.save(tmp_path / "a.npz")
    back = Applicability.load(tmp_path / "a.npz")
    rows = rng.normal(size=(20, len(app.predictors))) + 10
    np.testing.assert_array_equal(back.dissimilarity(rows), app.dissimilarity(rows))
    assert (back.threshold, back.predictors, back.importance) == (app.threshold, app.predictors, app.importance)
    app.sd[0] = np.nan
    app.save(tmp_path / "bad.npz")
    with pytest.raises(HybridlabError, match="bad.npz: its arrays do not describe"):
        Applicability.load(tmp_path / "bad.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(HybridlabError, match="text.npz: not an applicability file"):
        Applicability.load(tmp_path / "text.npz")


def test_too_few_complete_training_rows_are_refused_in_one_line():
    with pytest.raises(HybridlabError, match="1 training row"):
        fit_applicability(np.array([[1.0, np.nan], [2.0, 3.0]]), np.arange(2), np.ones(2), ["a", "b"])


class _FirstPredictorOnly(torch.nn.Module):
    """Predicts its one target from predictor 0 alone."""

    def forward(self, x, forcing):
        return ModelOutput(2.0 * x[:, :1] + 1.0)


@pytest.mark.parametrize("batch", [3, 20_000_000])
def test_permutation_importance_finds_the_one_predictor_the_model_uses(monkeypatch, batch):
    import core.run.applicability as run_applicability

    monkeypatch.setattr(run_applicability, "BATCH_VALUES", batch)  # one copy per pass, or all in one
    x = torch.as_tensor(np.random.default_rng(5).normal(size=(200, 4)), dtype=torch.float32)
    tensors = Tensors(x, torch.zeros(200, 0), 2.0 * x[:, :1] + 1.0)
    drops = permutation_importance(_FirstPredictorOnly(), tensors, ["y"], seed=1)
    assert drops[0] > 0.5 and np.abs(drops[1:]).max() == 0.0
    assert validation_score(_FirstPredictorOnly(), tensors, ["y"]) == pytest.approx(1.0)
