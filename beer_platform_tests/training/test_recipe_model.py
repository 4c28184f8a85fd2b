"""The recipe-aware model on the real dataset: one input from requests and from the lake, and
predictions that move the way a brewer expects (its figures: test_ibu_models)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import polars as pl
import pytest
from sklearn.pipeline import Pipeline

from beer_platform.brewing import tinseth
from beer_platform.brewing.recipes import RecipeError
from beer_platform.lake.recipe_tables import recipe_tables
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.predict.inputs import INPUT_COLUMNS, recipe_rows
from beer_platform.training import recipe_model
from beer_platform.training.rows import target, training_rows
from beer_platform_tests.beer_frames import shipped_beers

BEERS = {beer["id"]: beer for beer in load_beers()}
HAMMERS = [168, 218, 226, 229, 230, 249]  # Jack, Monk, Chili, Rye, Black Hammer, Hop Shot: one schedule


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return training_rows(shipped_beers())[0]


@pytest.fixture(scope="module")
def X(rows: pl.DataFrame) -> np.ndarray:
    tables = recipe_tables(load_beers())
    return recipe_model.lake_matrix(rows, tables.beer_hops, tables.recipes)


@pytest.fixture(scope="module")
def pipeline(X: np.ndarray, rows: pl.DataFrame) -> Pipeline:
    return recipe_model.fit(X, target(rows))


def test_posted_punkapi_records_and_the_lake_tables_give_the_same_input(X: np.ndarray, rows: pl.DataFrame, pipeline: Pipeline) -> None:
    posted = recipe_rows([BEERS[beer_id] for beer_id in rows["id"]])
    assert posted.shape == X.shape == (317, len(INPUT_COLUMNS))
    assert [list(row) for row in posted] == [list(row) for row in X]
    np.testing.assert_array_equal(pipeline.predict(posted), pipeline.predict(X))


def test_more_bittering_hops_predict_more_bitterness_and_dry_hops_less(pipeline: Pipeline) -> None:
    buzz = BEERS[1]
    more = copy.deepcopy(buzz)
    more["ingredients"]["hops"].append({"name": "Columbus", "amount": {"value": 60, "unit": "grams"}, "add": "start"})
    dry = copy.deepcopy(buzz)
    for hop in dry["ingredients"]["hops"]:
        hop["add"] = "dry hop"
    X = recipe_rows([buzz, more, dry])
    as_published, with_columbus, all_dry = pipeline.predict(X)
    assert with_columbus > as_published + 10  # 60 g of 16% alpha for an hour
    assert all_dry < as_published - 10  # dry hops are not boiled: no isomerised alpha acids
    estimates = pipeline.named_steps["features"].tinseth_ibu(X)
    assert estimates[2] == 0.0 and estimates[1] > estimates[0] > 0


def test_the_estimate_it_carries_is_tinseths(pipeline: Pipeline) -> None:
    buzz = BEERS[1]  # OG 1.044, 20 L: Fuggles 4.3%, First Gold 7.8% at 60 and 30 min, Cascade 7% at 5
    hops = [(4.3, 25, 60), (7.8, 25, 60), (4.3, 37.5, 30), (7.8, 37.5, 30), (7.0, 37.5, 5)]
    [estimate] = pipeline.named_steps["features"].tinseth_ibu(recipe_rows([buzz]))
    assert estimate == pytest.approx(tinseth.recipe_ibu(hops, 20.0, 1.044))


def test_a_batch_scaled_up_predicts_the_same(pipeline: Pipeline) -> None:
    big = copy.deepcopy(BEERS[1])
    big["volume"] = {"value": 1000, "unit": "litres"}
    for hop in big["ingredients"]["hops"]:
        hop["amount"] = {"value": hop["amount"]["value"] * 50 / 1000, "unit": "kilograms"}
    small_ibu, big_ibu = pipeline.predict(recipe_rows([BEERS[1], big]))
    assert big_ibu == pytest.approx(small_ibu)


def _card(**values: Any) -> dict[str, Any]:
    return {"name": "x", "abv": 5.0, "target_fg": 1010, "target_og": 1050, "ebc": 20, "srm": 10, "ph": 4.4, **values}


def test_unknown_card_fields_and_volume_take_the_training_medians(pipeline: Pipeline) -> None:
    hops = {"hops": [{"name": "Simcoe", "amount": {"value": 40, "unit": "grams"}, "add": "60"}]}
    records = [
        _card(ingredients=hops),
        _card(ingredients=hops, volume={"value": 20, "unit": "litres"}),  # every training batch is 20 L
        _card(ingredients=hops, target_og=None, abv=None, ph=None, name=None),
        _card(ingredients={"hops": []}),
        {"name": "", "abv": None, "target_fg": None, "target_og": None, "ebc": None, "srm": None, "ph": None},
    ]
    predicted = pipeline.predict(recipe_rows(records))
    assert predicted[0] == predicted[1]
    assert np.isfinite(predicted).all() and (predicted >= 0).all()


def test_every_problem_of_every_record_is_named() -> None:
    bad_name = _card(ingredients={"hops": [{"name": "Galxy", "amount": {"value": 10, "unit": "grams"}, "add": "start"}]})
    negative = _card(ingredients={"hops": [{"name": "Citra", "amount": {"value": -1, "unit": "grams"}, "add": "end"}]})
    with pytest.raises(RecipeError) as raised:
        recipe_rows([_card(), bad_name, negative])
    assert str(raised.value) == (
        "[1].ingredients.hops[0].name: unknown hop variety 'Galxy'; "
        "[2].ingredients.hops[0].amount.value: must not be negative, got -1"
    )


def test_the_lake_path_refuses_a_hop_name_nothing_matched(rows: pl.DataFrame) -> None:
    misspelt = copy.deepcopy(BEERS[1])
    misspelt["ingredients"]["hops"][0]["name"] = "Fugles"
    tables = recipe_tables([misspelt])
    with pytest.raises(ValueError, match="beer 1: hop 'Fugles' matches nothing"):
        recipe_model.lake_matrix(rows.filter(pl.col("id") == 1), tables.beer_hops, tables.recipes)


def test_beers_sharing_a_hop_schedule_share_a_group(X: np.ndarray, rows: pl.DataFrame) -> None:
    groups = dict(zip(rows["id"], recipe_model.hop_schedule_groups(X), strict=True))
    assert len({groups[beer_id] for beer_id in HAMMERS}) == 1
    hazy_janes = rows.filter(pl.col("name").str.starts_with("Hazy Jane"))["id"]
    assert len(hazy_janes) == 3 and len({groups[beer_id] for beer_id in hazy_janes}) == 1  # oak chips aside
    assert groups[1] not in {groups[beer_id] for beer_id in HAMMERS}


def test_the_features_are_named_and_carry_no_name_words(pipeline: Pipeline) -> None:
    names = pipeline.named_steps["features"].get_feature_names_out()
    assert len(names) == pipeline.named_steps["model"].n_features_in_
    assert not any(name.startswith("name_has_") for name in names)
