"""The evaluation protocol: the card model's figures on the real dataset, grouped folds, out-of-fold plots.

No timing thresholds here (they belong to the benchmarks): only that the figures exist and are
sane, and that the model beats the mean predictor.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from beer_platform.training import card_model
from beer_platform.training.evaluation import CV_REPEATS, CV_SPLITS, Protocol, TrainedModel, repeated_group_folds
from beer_platform.training.rows import card_matrix, target, training_rows
from beer_platform_tests.beer_frames import shipped_beers

METRIC_KEYS = {
    "rows", *(f"{kind}_{score}{std}" for kind in ("cv", "grouped_cv") for score in ("mae", "rmse", "r2")
              for std in ("", "_std")),
    "baseline_cv_mae", "baseline_cv_rmse", "baseline_cv_r2", "split_mae", "split_rmse", "split_r2",
}  # fmt: skip


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return training_rows(shipped_beers())[0]


@pytest.fixture(scope="module")
def trained(rows: pl.DataFrame) -> TrainedModel:
    groups = np.arange(rows.height)  # every beer its own group: grouped folds are random folds of a kind
    return Protocol(target(rows), groups).evaluate(card_model.build_pipeline, card_matrix(rows), split=True)


def test_evaluation_reports_every_figure(trained: TrainedModel) -> None:
    metrics = trained.metrics
    assert set(metrics) == METRIC_KEYS
    assert all(isinstance(value, float) and math.isfinite(value) for value in metrics.values())
    assert metrics["rows"] == 317
    assert min(metrics["cv_mae_std"], metrics["cv_rmse_std"], metrics["cv_r2_std"]) > 0


def test_the_model_beats_the_mean_predictor_within_sane_bounds(trained: TrainedModel) -> None:
    metrics = trained.metrics
    assert 5 < metrics["cv_mae"] < metrics["baseline_cv_mae"]
    assert metrics["cv_rmse"] < metrics["baseline_cv_rmse"]
    assert 0.3 < metrics["cv_r2"] < 0.9
    assert abs(metrics["baseline_cv_r2"]) < 0.1  # a mean predictor explains nothing
    assert 5 < metrics["split_mae"] < metrics["baseline_cv_mae"]
    assert metrics["cv_mae"] <= metrics["cv_rmse"]


def test_the_plotted_predictions_are_out_of_fold_for_every_row(trained: TrainedModel, rows: pl.DataFrame) -> None:
    assert trained.out_of_fold.shape == (rows.height,) and np.isfinite(trained.out_of_fold).all()
    in_sample = trained.pipeline.predict(card_matrix(rows))
    # a model that saw the row fits it closer than one that did not
    assert np.abs(in_sample - trained.actual).mean() < np.abs(trained.out_of_fold - trained.actual).mean()


def test_every_row_is_tested_once_per_pass_and_a_group_stays_in_one_fold() -> None:
    groups = np.repeat(np.arange(40), 3)  # 40 groups of 3 rows
    splits = repeated_group_folds(groups, seed=42)
    assert len(splits) == CV_SPLITS * CV_REPEATS
    for repeat in range(CV_REPEATS):
        tested = np.concatenate([test for _, test in splits[repeat * CV_SPLITS : (repeat + 1) * CV_SPLITS]])
        assert sorted(tested) == list(range(len(groups)))
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])


def test_passes_shuffle_the_groups_differently() -> None:
    splits = repeated_group_folds(np.arange(50), seed=42)
    assert sorted(splits[0][1]) != sorted(splits[CV_SPLITS][1])
