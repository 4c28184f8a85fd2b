"""Both models trained together on the real dataset: each evaluated, compared, gated, served alike.

No timing thresholds here (they belong to the benchmarks).
"""

from __future__ import annotations

import struct

import numpy as np
import polars as pl
import pytest

from beer_platform.lake.recipe_tables import recipe_tables
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.training import gate, ibu_models, physics, plots, recipe_model
from beer_platform.training.rows import card_matrix, data_version, training_rows
from beer_platform_tests.beer_frames import shipped_beers


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return training_rows(shipped_beers())[0]


@pytest.fixture(scope="module")
def tables():
    return recipe_tables(load_beers())


@pytest.fixture(scope="module")
def trained(rows: pl.DataFrame, tables) -> ibu_models.TrainedModels:
    return ibu_models.train(rows, tables.beer_hops, tables.recipes, beers=shipped_beers())  # both CVs: ~30 s, once


def test_both_models_are_evaluated_on_the_same_protocol_and_pass_the_gate(trained: ibu_models.TrainedModels) -> None:
    card, recipe = trained.metrics["card"], trained.metrics["recipe"]
    assert card["rows"] == recipe["rows"] == 317
    assert card["baseline_cv_mae"] == pytest.approx(recipe["baseline_cv_mae"])  # the same folds
    assert recipe["cv_mae"] <= 12.2 and recipe["cv_r2"] >= 0.70 and recipe["grouped_cv_mae"] <= 14.9  # the goals
    assert recipe["physics_recipes"] == 320  # every beer of the catalogue whose recipe boils hops
    assert min(recipe[name] for name in physics.figure_names()) >= 0.98
    assert recipe["cv_mae"] < card["cv_mae"] and recipe["grouped_cv_mae"] < card["grouped_cv_mae"]
    assert card["cv_mae"] < card["grouped_cv_mae"]  # near-copies flatter random folds for both
    assert recipe["cv_mae"] < recipe["tinseth_cv_mae"] < recipe["baseline_cv_mae"]
    assert gate.judge_models(trained.metrics, None).passed


def test_the_models_predict_what_each_pipeline_does(trained: ibu_models.TrainedModels, rows, tables) -> None:
    models = trained.models
    X_card = card_matrix(rows)
    np.testing.assert_array_equal(models.predict_card(X_card), trained.card.pipeline.predict(X_card))
    X = recipe_model.lake_matrix(rows, tables.beer_hops, tables.recipes)
    answer = models.predict_recipe(X)
    assert answer.shape == (317, 2)
    np.testing.assert_allclose(answer[:, 0], trained.recipe.pipeline.predict(X))
    np.testing.assert_allclose(answer[:, 1], trained.tinseth_estimate)


def test_the_comparison_names_both_models_the_physics_and_the_baseline(trained: ibu_models.TrainedModels) -> None:
    rows = ibu_models.comparison(trained.metrics)
    assert rows["recipe model"]["mae"] == trained.metrics["recipe"]["cv_mae"]
    assert rows["card model, grouped folds"]["r2"] == trained.metrics["card"]["grouped_cv_r2"]
    assert rows["Tinseth estimate alone, calibrated"]["mae"] == trained.metrics["recipe"]["tinseth_cv_mae"]
    table = ibu_models.comparison_table(trained.metrics)
    assert table.count("\n| ") == len(rows)
    assert "recipe CV MAE" in ibu_models.headline(trained.metrics)
    assert ", more hops more IBU x1.5/x2/x3 " in ibu_models.headline(trained.metrics)


def test_the_comparison_plot_is_a_png(trained: ibu_models.TrainedModels) -> None:
    png = plots.comparison_plot(trained.card.actual, trained.card.out_of_fold, trained.recipe.out_of_fold,
                                     trained.tinseth_estimate)  # fmt: skip
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (900, 300)


def test_the_data_version_follows_every_table(rows, tables) -> None:
    version = data_version(rows, tables.beer_hops, tables.recipes)
    assert version == data_version(rows, tables.beer_hops.reverse(), tables.recipes)
    fewer_hops = tables.beer_hops.filter(pl.col("beer_id") != 1)
    assert version != data_version(rows, fewer_hops, tables.recipes)
