"""The physics check on real models and the whole shipped dataset: more boiled hops must predict more
IBU at every factor, no hops less. The gate refuses a model that ignores the hops and one taught to
follow them at a single factor; the shipped recipe model passes on every recipe with boiled hops."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.pipeline import Pipeline

from beer_platform.lake.recipe_tables import recipe_tables
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.predict.inputs import FEATURES, as_rows
from beer_platform.training import card_model, gate, line_forests, physics, recipe_model
from beer_platform.training.evaluation import SEED
from beer_platform.training.rows import target, training_rows
from beer_platform_tests.beer_frames import shipped_beers
from beer_platform_tests.shipped_model import shipped_models

TABLES = recipe_tables(load_beers())


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return training_rows(shipped_beers())[0]


@pytest.fixture(scope="module")
def X(rows: pl.DataFrame) -> np.ndarray:
    return recipe_model.lake_matrix(rows, TABLES.beer_hops, TABLES.recipes)


@pytest.fixture(scope="module")
def every_recipe() -> np.ndarray:
    """All 325 beers of the catalogue, with a known IBU or not."""
    return recipe_model.lake_matrix(shipped_beers(), TABLES.beer_hops, TABLES.recipes)


def _card(name: str = "x") -> list:
    return [name, 5.0, 1010, 1050, 20, 10, 4.4, 20.0]


def test_scaling_multiplies_the_boil_additions_only() -> None:
    hops = ((10.0, 20.0, 60.0, False), (5.0, 30.0, 0.0, False), (7.0, 40.0, 0.0, True))
    X = as_rows([[*_card(), hops], [*_card(), None], [*_card(), ()]])
    scaled = physics.with_boil_scaled(X, 1.5)
    assert scaled[0, -1] == ((10.0, 30.0, 60.0, False), (5.0, 45.0, 0.0, False), (7.0, 40.0, 0.0, True))
    assert scaled[1, -1] is None and scaled[2, -1] == ()
    assert [list(row[:-1]) for row in scaled] == [list(row[:-1]) for row in X]
    assert physics.with_boil_scaled(X, np.array([2.0, 1.0, 1.0]))[0, -1][0] == (10.0, 40.0, 60.0, False)
    assert physics.without_hops(X)[0, -1] == ()
    assert [physics.boils(row[-1]) for row in X] == [True, False, False]
    assert not physics.boils(hops[1:])  # a flame-out and a dry hop: no boil time, no Tinseth IBU


def test_the_learner_scales_features_as_the_features_of_scaled_recipes(X: np.ndarray) -> None:
    features = recipe_model.RecipeFeatures().fit(X)
    factors = np.random.default_rng(0).uniform(0.3, 3.0, len(X))
    expected = features.transform(physics.with_boil_scaled(X, factors))
    scaled = line_forests.boil_scaled(features.transform(X), factors)
    np.testing.assert_allclose(scaled, expected, rtol=1e-12, atol=1e-12)


def test_the_gate_refuses_a_model_that_ignores_the_hops(rows: pl.DataFrame, every_recipe: np.ndarray) -> None:
    card = card_model.fit(rows)  # the card model: no recipe in its input at all
    figures = physics.figures(lambda X: card.predict(X[:, : len(FEATURES)]), every_recipe)
    assert figures["physics_recipes"] == 320
    reasons = gate.judge_physics(figures)
    assert [reason.split(":")[0] for reason in reasons] == physics.figure_names()
    assert "for 0.0% of the 320 recipes with boiled hops, not 98%" in reasons[0]


def test_the_gate_refuses_a_model_taught_to_follow_the_hops_at_a_factor_of_two_only(
    X: np.ndarray, rows: pl.DataFrame, every_recipe: np.ndarray
) -> None:
    """Extra-trees on log1p(ibu) (the recipe model's learner before the physics) fit on the rows
    plus a copy of each with twice the boil hops and twice the IBU, as Tinseth would have it."""
    y = target(rows)
    doubled = Pipeline([("features", recipe_model.RecipeFeatures()), ("model", card_model.log1p_forest(SEED))])
    doubled.fit(np.vstack([X, physics.with_boil_scaled(X, 2.0)]), np.concatenate([y, 2 * y]))
    figures = physics.figures(doubled.predict, every_recipe)
    assert figures["physics_x2"] >= gate.PHYSICS_MIN_SHARE  # right where it was taught...
    failed = [reason.split(":")[0] for reason in gate.judge_physics(figures)]
    assert "physics_x1_5" in failed and "physics_x2" not in failed  # ...and nowhere else


def test_the_shipped_recipe_model_follows_the_physics_on_every_recipe_with_boiled_hops(every_recipe) -> None:
    models = shipped_models()
    compiled = models.compiled()
    figures = physics.figures(lambda X: compiled.predict_recipe(X)[:, 0], every_recipe)
    assert figures["physics_recipes"] == 320 and gate.judge_physics(figures) == []
    # what guarantees most of it: the line rises and the constrained forest never falls with the boil hops
    learner, features = models.recipe.named_steps["model"], models.recipe.named_steps["features"]
    boiled = as_rows([list(row) for row in every_recipe if physics.boils(row[-1])])
    base = features.transform(boiled)
    for factor in physics.FACTORS:
        more = features.transform(physics.with_boil_scaled(boiled, factor))
        assert (learner.line(more) > learner.line(base)).all()
        assert (learner.monotonic_.predict(more) >= learner.monotonic_.predict(base)).all()
