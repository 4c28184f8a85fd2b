"""The beer_hops and recipes tables for the whole dataset, a few known beers, and bad records."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime

import polars as pl
import pytest

from beer_platform.brewing.recipes import RECIPE_FIELDS, parse_recipe
from beer_platform.lake import raw_format
from beer_platform.lake.recipe_tables import (
    BEER_HOPS_SCHEMA, RECIPES_SCHEMA, REJECTED_SCHEMA, hop_additions, recipe_tables, recipe_tables_of_source,
    unmatched_hops,
)  # fmt: skip
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.stream.records import ReceivedRecord
from beer_platform_tests.lake.memory_sink import clean_in_memory

ARRIVED = datetime(2026, 11, 26, 6, tzinfo=UTC)
# An older record of Buzz whose id is text: the typed parse fails, the whole part is read line by line
OLD_BUZZ_WITH_TEXT_ID = raw_format.envelope_line(ReceivedRecord(
    "shardId-000000000000", "0", datetime(2026, 11, 25, tzinfo=UTC), "1", json.dumps({**load_beers()[0], "id": "1"}).encode()
))  # fmt: skip


@pytest.fixture(scope="module")
def tables():
    return recipe_tables(load_beers())


def test_the_whole_dataset_gives_one_row_per_addition_and_per_beer(tables) -> None:
    assert tables.beer_hops.schema == BEER_HOPS_SCHEMA and tables.beer_hops.height == 1817
    assert tables.recipes.schema == RECIPES_SCHEMA and tables.recipes.height == 325
    assert tables.rejected.schema == REJECTED_SCHEMA and tables.rejected.is_empty()
    assert tables.beer_hops["kind"].null_count() == 0  # every name matched
    assert tables.beer_hops["beer_id"].n_unique() == 324  # AB:19 (169) lists no hops


def test_buzz_rows(tables) -> None:
    buzz = tables.beer_hops.filter(pl.col("beer_id") == 1)
    assert buzz.select("name", "variety", "kind", "grams", "add", "boil_minutes", "dry_hop", "attribute").rows() == [
        ("Fuggles", "fuggle", "hop", 25.0, "start", 60.0, False, "bitter"),
        ("First Gold", "first gold", "hop", 25.0, "start", 60.0, False, "bitter"),
        ("Fuggles", "fuggle", "hop", 37.5, "middle", 30.0, False, "flavour"),
        ("First Gold", "first gold", "hop", 37.5, "middle", 30.0, False, "flavour"),
        ("Cascade", "cascade", "hop", 37.5, "end", 5.0, False, "flavour"),
    ]
    assert tables.recipes.filter(pl.col("beer_id") == 1).row(0) == (1, 20.0, 25.0, 75.0)


def test_jack_hammer_extract_and_dry_hops(tables) -> None:
    jack = tables.beer_hops.filter(pl.col("beer_id") == 168)
    extract = jack.filter(pl.col("kind") == "extract").select("name", "variety", "grams", "boil_minutes").rows()
    assert extract == [("Columbus Extract", None, 30.0, 60.0)]
    assert jack.filter(pl.col("dry_hop"))["grams"].sum() == 300.0
    assert (jack.filter(pl.col("dry_hop"))["boil_minutes"] == 0).all()


def test_units_and_untimed_additions_as_published(tables) -> None:
    rows = tables.beer_hops.filter(pl.col("beer_id").is_in([247, 265, 283]) & (pl.col("kind") == "not_a_hop"))
    by_name = {row["name"]: row for row in rows.iter_rows(named=True)}
    assert by_name["Apricot Juice"]["grams"] == 1000.0 and by_name["Apricot Juice"]["amount_unit"] == "kilogram"
    assert by_name["Cold Brew Coffee"]["grams"] is None and by_name["Cold Brew Coffee"]["amount_value"] == 160.0
    assert by_name["Dark Muscavado"]["add"] == "Additions" and by_name["Dark Muscavado"]["boil_minutes"] is None
    assert tables.recipes.filter(pl.col("beer_id") == 169)["attenuation_level"].to_list() == [None]


def test_unknown_names_are_kept_unmatched_and_bad_records_rejected() -> None:
    misspelt, negative, no_id = (copy.deepcopy(beer) for beer in load_beers()[:3])
    misspelt["ingredients"]["hops"][0]["name"] = "Fugles"
    negative["ingredients"]["hops"][1]["amount"]["value"] = -3
    del no_id["id"]
    tables = recipe_tables([misspelt, negative, no_id])
    unmatched = tables.beer_hops.filter(pl.col("kind").is_null())
    assert unmatched.select("beer_id", "addition", "name", "variety").rows() == [(1, 0, "Fugles", None)]
    assert tables.rejected.rows() == [
        (2, "ingredients.hops[1].amount.value: must not be negative, got -3"),
        (None, "id missing or not a positive integer"),
    ]
    assert tables.recipes["beer_id"].to_list() == [1]  # a rejected record is in neither table
    assert set(tables.beer_hops["beer_id"]) == {1}


def test_a_frame_of_records_as_polars_reads_json_lines_gives_the_same_tables(tables) -> None:
    lines = "\n".join(json.dumps(beer) for beer in load_beers())
    from_frame = recipe_tables(pl.read_ndjson(io.StringIO(lines), infer_schema_length=None))
    assert from_frame.beer_hops.equals(tables.beer_hops) and from_frame.recipes.equals(tables.recipes)


def test_rows_read_back_as_the_parsed_additions(tables) -> None:
    by_beer = hop_additions(tables.beer_hops)
    for beer in load_beers():
        assert by_beer.get(beer["id"], ()) == parse_recipe(beer).hops


def source_of(records: list[dict]) -> pl.DataFrame:
    """Records as a day's chunk hands them to `recipe_tables_of_source`: the id, each recipe field's JSON."""
    return pl.DataFrame(
        [{"id": record["id"], **{name: json.dumps(record.get(name)) for name in RECIPE_FIELDS}} for record in records],
        schema={"id": pl.Int64, **{name: pl.String for name in RECIPE_FIELDS}},
    )


def test_one_parse_of_a_raw_part_gives_the_beers_and_the_same_recipe_tables(tables) -> None:
    lines = [raw_format.envelope_line(ReceivedRecord("shardId-000000000000", str(n), ARRIVED, str(beer["id"]),
                                                json.dumps(beer).encode()))
             for n, beer in enumerate(load_beers(), start=1)]  # fmt: skip
    for part in (raw_format.encode_part(lines), raw_format.encode_part([*lines, OLD_BUZZ_WITH_TEXT_ID])):
        report, sink = clean_in_memory([part])  # the second part: the per-line fallback
        assert report.tables["beers"].rows == 325
        assert sink.table("beer_hops").cast(dict(BEER_HOPS_SCHEMA)).equals(tables.beer_hops)
        assert sink.table("recipes").equals(tables.recipes)


def test_a_recipe_field_of_the_wrong_shape_reaches_the_rejects_with_its_reason() -> None:
    buzz = {**load_beers()[0], "volume": "20 litres", "ingredients": {"hops": 7}}
    rejected = recipe_tables_of_source(source_of([buzz])).rejected
    assert rejected.rows() == [(1, "volume: must be an object with value and unit, e.g. {'value': 20, 'unit': "
                                   "'litres'}; ingredients.hops: must be a list")]  # fmt: skip


def test_beers_sharing_a_recipe_each_get_its_rows_and_its_rejection() -> None:
    """A day's recipes are parsed once per distinct recipe: every beer carrying one still gets its rows."""
    buzz, trashy = load_beers()[0], load_beers()[1]
    bad = {**trashy, "ingredients": {"hops": [{"name": "Citra", "amount": {"value": -1, "unit": "grams"},
                                                "add": "end", "attribute": "aroma"}]}}  # fmt: skip
    records = [{**buzz, "id": 5}, {**bad, "id": 7}, {**buzz, "id": 3}, {**bad, "id": 9}, {**trashy, "id": 2}]
    once = recipe_tables(records)
    shared = recipe_tables_of_source(source_of(records))
    assert shared.beer_hops.equals(once.beer_hops) and shared.recipes.equals(once.recipes)
    assert shared.recipes["beer_id"].to_list() == [2, 3, 5]
    buzz_hops = [hop["name"] for hop in buzz["ingredients"]["hops"]]
    assert shared.beer_hops.filter(pl.col("beer_id") == 3)["name"].to_list() == buzz_hops
    reason = "ingredients.hops[0].amount.value: must not be negative, got -1"
    assert shared.rejected.rows() == sorted(once.rejected.rows()) == [(7, reason), (9, reason)]


def test_unmatched_hops_are_listed_for_the_check() -> None:
    misspelt = copy.deepcopy(load_beers()[0])
    misspelt["ingredients"]["hops"][3]["name"] = "First Glod"
    assert unmatched_hops(recipe_tables([misspelt]).beer_hops).rows() == [(1, 3, "First Glod")]
    assert unmatched_hops(recipe_tables(load_beers()).beer_hops).is_empty()
