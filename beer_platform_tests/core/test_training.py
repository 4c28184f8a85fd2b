"""The IBU pipeline: honest evaluation on the real dataset, missing values, importances, plots, hash.

No timing thresholds here (they belong to the benchmarks): only that the figures exist and are
sane, and that the model beats the mean predictor.
"""

from __future__ import annotations

import math
import pickle
import struct

import numpy as np
import polars as pl
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.pipeline import Pipeline

from beer_platform.core import training
from beer_platform.core.features import FEATURES, training_rows
from beer_platform_tests.beer_frames import shipped_beers

METRIC_KEYS = {
    "rows", "cv_mae", "cv_rmse", "cv_r2", "cv_mae_std", "cv_rmse_std", "cv_r2_std",
    "baseline_cv_mae", "baseline_cv_rmse", "baseline_cv_r2", "split_mae", "split_rmse", "split_r2",
    "single_row_predict_ms",
}  # fmt: skip


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return training_rows(shipped_beers())[0]


@pytest.fixture(scope="module")
def trained(rows: pl.DataFrame) -> training.TrainedModel:
    return training.train(rows)  # 25 CV fits, the baseline's, a split and the final fit: a few seconds, once


@pytest.fixture(scope="module")
def metrics(trained: training.TrainedModel) -> dict[str, float]:
    return trained.metrics


@pytest.fixture(scope="module")
def pipeline(trained: training.TrainedModel) -> Pipeline:
    return trained.pipeline


def test_evaluation_reports_every_figure(metrics: dict[str, float]) -> None:
    assert set(metrics) == METRIC_KEYS
    assert all(isinstance(value, float) and math.isfinite(value) for value in metrics.values())
    assert metrics["rows"] == 317
    assert min(metrics["cv_mae_std"], metrics["cv_rmse_std"], metrics["cv_r2_std"]) > 0
    assert metrics["single_row_predict_ms"] > 0


def test_the_model_beats_the_mean_predictor_within_sane_bounds(metrics: dict[str, float]) -> None:
    assert 5 < metrics["cv_mae"] < metrics["baseline_cv_mae"]
    assert metrics["cv_rmse"] < metrics["baseline_cv_rmse"]
    assert 0.3 < metrics["cv_r2"] < 0.9
    assert abs(metrics["baseline_cv_r2"]) < 0.1  # a mean predictor explains nothing
    assert 5 < metrics["split_mae"] < metrics["baseline_cv_mae"]
    assert metrics["cv_mae"] <= metrics["cv_rmse"]


def test_the_pipeline_takes_the_client_fields_with_nulls_and_empty_names(pipeline: Pipeline) -> None:
    records = [
        {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4},
        {"name": "", "abv": None, "target_fg": None, "target_og": None, "ebc": None, "srm": None, "ph": None},
        {"name": None, "abv": 8.0, "target_fg": 1012, "target_og": None, "ebc": 30.0, "srm": None, "ph": 4.2},
        {"name": "Never Seen Words Whatsoever", "abv": 100, "target_fg": 1200, "target_og": 900, "ebc": 2000,
         "srm": 1000, "ph": 14},
    ]  # fmt: skip
    predicted = pipeline.predict(training.as_matrix(records))
    assert predicted.shape == (4,)
    assert np.isfinite(predicted).all() and (predicted >= 0).all()


def test_a_polars_frame_and_the_object_matrix_give_the_same_predictions(pipeline: Pipeline, rows: pl.DataFrame) -> None:
    from_frame = pipeline.predict(rows.select(FEATURES))
    np.testing.assert_array_equal(from_frame, pipeline.predict(training.as_matrix(rows)))
    assert training.as_matrix([]).shape == (0, len(FEATURES))


def test_the_fast_forest_predicts_what_scikit_learns_forest_does(pipeline: Pipeline, rows: pl.DataFrame) -> None:
    features = pipeline.named_steps["features"].transform(training.as_matrix(rows))
    forest = pipeline.named_steps["model"].regressor_
    assert isinstance(forest, training.FastExtraTreesRegressor)
    np.testing.assert_allclose(forest.predict(features), ExtraTreesRegressor.predict(forest, features), rtol=1e-12)
    np.testing.assert_allclose(forest.predict(features[:1]), ExtraTreesRegressor.predict(forest, features[:1]))
    with pytest.raises(ValueError, match="features"):
        forest.predict(features[:, :3])


def test_the_log_target_matches_transformed_target_regressor(rows: pl.DataFrame) -> None:
    X = training.BeerFeatures().fit_transform(training.as_matrix(rows))
    y = training.target(rows)
    forest = training.FastExtraTreesRegressor(n_estimators=10, random_state=0)
    ours = training.Log1pTargetRegressor(forest).fit(X, y)
    theirs = TransformedTargetRegressor(regressor=forest, func=np.log1p, inverse_func=np.expm1).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X))


def test_name_words_need_two_training_names_and_are_cut_to_five_letters() -> None:
    names = ["Punk IPA", "Hazy Jane IPA", "Imperial Stout", "Imperialist", "AB:06", "AB:07", "Hopped-Up"]
    matrix = training.as_matrix([{"name": name} for name in names])
    features = training.BeerFeatures().fit(matrix)
    assert list(features.vocabulary_) == ["imper", "ipa"]  # "ab" is too short to count
    names_out = features.get_feature_names_out()
    assert list(names_out[:9]) == [*FEATURES[1:], "og_minus_fg", "apparent_attenuation", "log1p_ebc"]
    assert list(names_out[9:]) == ["name_has_imper", "name_has_ipa"]
    out = features.transform(training.as_matrix([{"name": "Double IPA"}, {"name": ""}]))
    assert out.shape == (2, 11) and out[:, -1].tolist() == [1.0, 0.0]
    assert np.isfinite(out).all()  # no numbers at all in training: nulls become 0


def test_the_fitted_pipeline_survives_pickling(pipeline: Pipeline, rows: pl.DataFrame) -> None:
    matrix = training.as_matrix(rows.head(20))
    restored = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(restored.predict(matrix), pipeline.predict(matrix))


def test_feature_importances_cover_the_original_fields(pipeline: Pipeline, rows: pl.DataFrame) -> None:
    importances = training.feature_importances(pipeline, rows)
    assert list(importances) == FEATURES
    assert all(math.isfinite(value) for value in importances.values())
    assert importances["name"] > 0  # the name is a real signal


def test_the_plotted_predictions_are_out_of_fold_for_every_row(trained: training.TrainedModel, rows) -> None:
    assert trained.out_of_fold.shape == (rows.height,) and np.isfinite(trained.out_of_fold).all()
    in_sample = trained.pipeline.predict(training.as_matrix(rows))
    # a model that saw the row fits it closer than one that did not
    assert np.abs(in_sample - trained.actual).mean() < np.abs(trained.out_of_fold - trained.actual).mean()


def test_evaluation_plots_are_a_small_png(trained: training.TrainedModel) -> None:
    png = training.evaluation_plots(trained.actual, trained.out_of_fold)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (600, 300)
    assert len(png) < 200_000  # small enough to embed as a base64 markdown image


def test_content_hash_is_stable_and_order_independent() -> None:
    beers = shipped_beers()
    digest = training.content_hash(beers)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert training.content_hash(beers.reverse()) == digest
    assert training.content_hash(shipped_beers()) == digest
    changed = beers.with_columns(pl.when(pl.col("id") == 1).then(61.0).otherwise(pl.col("ibu")).alias("ibu"))
    assert training.content_hash(changed) != digest
    assert training.content_hash(beers.drop("ph")) != digest
