"""Recipes from PunkAPI records: the real dataset parses whole, and every bad field is named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from beer_platform.brewing.recipes import HopAddition, RecipeError, parse_add, parse_recipe
from beer_platform.local.punkapi_replica import load_beers

BEERS = {beer["id"]: beer for beer in load_beers()}


def test_buzz_as_published() -> None:
    recipe = parse_recipe(BEERS[1])
    assert (recipe.volume_litres, recipe.boil_volume_litres, recipe.attenuation_level) == (20.0, 25.0, 75.0)
    assert recipe.hops[0] == HopAddition(
        name="Fuggles", kind="hop", variety="fuggle", grams=25.0, amount_value=25.0, amount_unit="grams",
        add="start", boil_minutes=60.0, dry_hop=False, attribute="bitter",
    )  # fmt: skip
    assert [(hop.name, hop.boil_minutes) for hop in recipe.hops] == [
        ("Fuggles", 60), ("First Gold", 60), ("Fuggles", 30), ("First Gold", 30), ("Cascade", 5),
    ]  # fmt: skip


def test_every_record_of_the_dataset_parses_with_every_hop_known() -> None:
    additions = [hop for beer in BEERS.values() for hop in parse_recipe(beer).hops]
    assert len(additions) == 1817
    assert all(hop.kind is not None for hop in additions)
    # a hop always has grams and a boil time; only non-hops lack them
    assert all(hop.grams is not None and hop.boil_minutes is not None for hop in additions if hop.kind != "not_a_hop")
    assert sum(hop.dry_hop for hop in additions) == 253 + 153 + 4 + 1 + 1 + 1 + 1 + 5  # dry hop, fv, ... wood ageing


def test_kilograms_become_grams_and_unweighed_non_hops_have_no_grams() -> None:
    apricot = parse_recipe(BEERS[265]).hops[2]  # Pump Action Poet: Apricot Juice, 1 kilogram
    assert (apricot.name, apricot.grams, apricot.amount_value, apricot.amount_unit) == ("Apricot Juice", 1000.0, 1.0, "kilogram")
    coffee = parse_recipe(BEERS[283]).hops[5]  # AB:24: Cold Brew Coffee, 160 ml
    assert (coffee.kind, coffee.grams, coffee.amount_value, coffee.amount_unit) == ("not_a_hop", None, 160.0, "ml")


@pytest.mark.parametrize(
    ("add", "expected"),
    [
        ("start", (60, False)), ("Start", (60, False)), ("middle", (30, False)), ("End", (5, False)),
        ("Flame Out", (5, False)), ("whirlpool", (5, False)), ("70", (70, False)), ("0", (0, False)),
        ("7.5", (7.5, False)), ("15 min", (15, False)), ("Dry Hop", (0, True)), ("FV", (0, True)),
        ("Wood Ageing", (0, True)), ("First Wort Hops", (60, False)), ("Mash", (0, False)),
        ("Additions", (None, False)), ("whenever", None), ("", None), ("-5", None),
    ],
)  # fmt: skip
def test_add_to_boil_minutes(add: str, expected: tuple[float | None, bool] | None) -> None:
    assert parse_add(add) == expected


def test_a_record_without_hops_has_no_recipe_and_an_empty_list_is_a_recipe() -> None:
    card_only = {"name": "Buzz", "abv": 4.5}
    assert parse_recipe(card_only).hops is None and parse_recipe(card_only).volume_litres is None
    assert parse_recipe({"ingredients": {"hops": []}}).hops == ()
    assert parse_recipe(BEERS[169]).hops == ()  # AB:19 lists no hops


def _with_hop(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(BEERS[1])
    hop = record["ingredients"]["hops"][2]
    for key, value in changes.items():
        if key in ("value", "unit"):
            hop["amount"][key] = value
        else:
            hop[key] = value
    return record


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"name": "Galxy"}, "[0].ingredients.hops[2].name", "unknown hop variety 'Galxy'"),
        ({"name": ""}, "[0].ingredients.hops[2].name", "must be a non-empty string"),
        ({"value": -5}, "[0].ingredients.hops[2].amount.value", "must not be negative, got -5"),
        ({"value": "25"}, "[0].ingredients.hops[2].amount.value", "must be a number"),
        ({"value": float("inf")}, "[0].ingredients.hops[2].amount.value", "must be a number"),
        ({"value": 10**400}, "[0].ingredients.hops[2].amount.value", "must be a number"),  # no float holds it
        ({"value": True}, "[0].ingredients.hops[2].amount.value", "must be a number"),
        ({"value": 20_000, "unit": "kilograms"}, "[0].ingredients.hops[2].amount.value", "must be at most 10,000,000 grams"),
        ({"unit": "ounces"}, "[0].ingredients.hops[2].amount.unit", "unknown unit 'ounces'"),
        ({"unit": "ml"}, "[0].ingredients.hops[2].amount.unit", "'ml' is not a mass"),
        ({"add": "whenever"}, "[0].ingredients.hops[2].add", "cannot read 'whenever' as a time"),
        ({"add": "400"}, "[0].ingredients.hops[2].add", "400 minutes of boil is more than 300"),
        ({"add": "Additions"}, "[0].ingredients.hops[2].add", "'Additions' gives no boil time, which a hop needs"),
        ({"add": 30}, "[0].ingredients.hops[2].add", "must be a string"),
        ({"attribute": 1}, "[0].ingredients.hops[2].attribute", "must be a string or null"),
    ],
)
def test_each_bad_hop_field_is_named(changes: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(RecipeError) as raised:
        parse_recipe(_with_hop(**changes), path="[0]")
    [(where, what)] = raised.value.problems
    assert where == path and message in what
    assert str(raised.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("record", "path", "message"),
    [
        ({"volume": {"value": 0, "unit": "litres"}}, "volume.value", "must be between 0.1 and 1,000,000"),
        ({"volume": {"value": -20, "unit": "litres"}}, "volume.value", "must not be negative"),
        ({"volume": {"value": 5, "unit": "gallons"}}, "volume.unit", "unknown unit 'gallons'"),
        ({"volume": 20}, "volume", "must be an object with value and unit"),
        ({"boil_volume": {"value": 25}}, "boil_volume.unit", "unknown unit None"),
        ({"attenuation_level": "high"}, "attenuation_level", "must be a number"),
        ({"ingredients": []}, "ingredients", "must be an object"),
        ({"ingredients": {"hops": {"name": "Citra"}}}, "ingredients.hops", "must be a list"),
        ({"ingredients": {"hops": ["Citra"]}}, "ingredients.hops[0]", "must be an object"),
        ({"ingredients": {"hops": [{"name": "Citra", "add": "end"}]}}, "ingredients.hops[0].amount", "must be an object"),
    ],
)
def test_each_bad_recipe_field_is_named(record: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(RecipeError) as raised:
        parse_recipe(record)
    [(where, what)] = raised.value.problems
    assert where == path and message in what


def test_every_problem_of_a_record_is_reported_at_once() -> None:
    record = _with_hop(name="Galxy", value=-1, add="later")
    record["volume"] = {"value": 20, "unit": "pints"}
    with pytest.raises(RecipeError) as raised:
        parse_recipe(record, path="[3]")
    assert [path for path, _ in raised.value.problems] == [
        "[3].volume.unit", "[3].ingredients.hops[2].name", "[3].ingredients.hops[2].amount.value",
        "[3].ingredients.hops[2].add",
    ]  # fmt: skip


def test_an_unknown_name_is_kept_unmatched_when_names_need_not_be_known() -> None:
    hop = parse_recipe(_with_hop(name="Galxy"), known_names_only=False).hops[2]
    assert (hop.name, hop.kind, hop.variety, hop.grams) == ("Galxy", None, None, 37.5)
