"""The two recipe tables of the lake, built from PunkAPI records: `beer_hops` and `recipes`.

Pure polars, no I/O. Input: PunkAPI beer objects as published (the `data` of raw-zone envelopes),
one per beer (latest-wins is the caller's, as for `latest.clean_beers`), as dicts or a polars
frame of them. Each record goes through `recipes.parse_recipe` with unknown hop names allowed: such
an addition is kept with `kind` and `variety` null, for a check to flag (never counted as 0 IBU).
A record whose recipe has any other problem is left out of both tables and listed in `rejected`.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from beer_platform.brewing.hop_reference import KINDS
from beer_platform.brewing.recipes import RECIPE_FIELDS, HopAddition, RecipeError, parse_recipe

# One row per entry of a beer's `ingredients.hops`, in published order (`addition`: its index).
BEER_HOPS_SCHEMA = pl.Schema(
    {
        "beer_id": pl.Int64,
        "addition": pl.Int32,
        "name": pl.String,  # as published
        "variety": pl.String,  # matched; null for extracts, non-hops and unknown names
        "kind": pl.Enum(KINDS),  # null: the name matched nothing in the hop reference
        "grams": pl.Float64,  # converted; null for a non-hop in no unit of mass (ml, total)
        "amount_value": pl.Float64,  # as published
        "amount_unit": pl.String,  # as published
        "add": pl.String,  # as published
        "boil_minutes": pl.Float64,  # from `add`; null where it names no time
        "dry_hop": pl.Boolean,  # added cold: dry hop, fv, secondary, maturation, wood ageing
        "attribute": pl.String,  # as published
    }
)
# One row per beer (null where the record does not say).
RECIPES_SCHEMA = pl.Schema(
    {
        "beer_id": pl.Int64,
        "volume_litres": pl.Float64,  # the batch, into the fermenter
        "boil_volume_litres": pl.Float64,
        "attenuation_level": pl.Float64,  # %, as published
    }
)
REJECTED_SCHEMA = pl.Schema({"beer_id": pl.Int64, "reason": pl.String})


@dataclass(frozen=True)
class RecipeTables:
    beer_hops: pl.DataFrame  # BEER_HOPS_SCHEMA, sorted by beer_id, addition
    recipes: pl.DataFrame  # RECIPES_SCHEMA, sorted by beer_id
    rejected: pl.DataFrame  # REJECTED_SCHEMA: beer_id (null if it had none) and every problem


# A HopAddition's fields in BEER_HOPS_SCHEMA's order after beer_id and addition: read as one tuple.
_HOP_FIELDS = operator.attrgetter(*[name for name in BEER_HOPS_SCHEMA if name not in ("beer_id", "addition")])
# Distinct recipes whose parse is kept: a day's chunks share them (a republished beer keeps its
# recipe), and the bound keeps a day of all-distinct recipes from holding every parse.
PARSE_CACHE_RECIPES = 4096


def recipe_tables(records: pl.DataFrame | Iterable[Mapping[str, Any]]) -> RecipeTables:
    """`beer_hops`, `recipes` and the rejected records, from PunkAPI records."""
    hop_rows: list[tuple[Any, ...]] = []
    recipe_rows: list[tuple[Any, ...]] = []
    rejected: list[tuple[Any, ...]] = []
    for record in records.iter_rows(named=True) if isinstance(records, pl.DataFrame) else records:
        beer_id = record.get("id") if isinstance(record, Mapping) else None
        if isinstance(beer_id, bool) or not isinstance(beer_id, int) or beer_id < 1:
            rejected.append((None, "id missing or not a positive integer"))
            continue
        try:
            recipe = parse_recipe(record, known_names_only=False)
        except RecipeError as error:
            rejected.append((beer_id, str(error)))
            continue
        recipe_rows.append((beer_id, recipe.volume_litres, recipe.boil_volume_litres, recipe.attenuation_level))
        for index, hop in enumerate(recipe.hops or ()):
            hop_rows.append((beer_id, index, *_HOP_FIELDS(hop)))
    return RecipeTables(
        beer_hops=pl.DataFrame(hop_rows, schema=BEER_HOPS_SCHEMA, orient="row").sort("beer_id", "addition"),
        recipes=pl.DataFrame(recipe_rows, schema=RECIPES_SCHEMA, orient="row").sort("beer_id"),
        rejected=pl.DataFrame(rejected, schema=REJECTED_SCHEMA, orient="row"),
    )


def recipe_tables_of_source(recipe_source: pl.DataFrame | None) -> RecipeTables:
    """`recipe_tables` of records given as their id and each recipe field's JSON text (the columns
    `id` and `RECIPE_FIELDS`; None: no recipe read): the same tables at the cost of the distinct
    recipes. A republished beer keeps its recipe, so a day holds few distinct recipe texts: each
    is decoded and parsed once (`_parsed`, a bounded cache shared by the day's chunks), and its
    rows are joined back to every beer id that carries it."""
    if recipe_source is None or recipe_source.is_empty():
        return recipe_tables([])
    fields = list(RECIPE_FIELDS)
    # group_by keeps only the distinct texts (a join would copy every row's texts once more)
    distinct = recipe_source.group_by(fields, maintain_order=True).agg(beer_ids="id").with_row_index("recipe")
    beers = distinct.select(pl.col("recipe").cast(pl.Int64), beer_id="beer_ids").explode("beer_id")
    hops, recipes, rejected = [], [], []
    for index, *texts in distinct.select("recipe", *fields).iter_rows():
        recipe_row, hop_rows, reason = _parsed(tuple(texts))
        if reason is not None:
            rejected.append((index, reason))
            continue
        recipes.append((index, *recipe_row))
        hops.extend((index, *hop) for hop in hop_rows)
    by_recipe = RecipeTables(
        beer_hops=pl.DataFrame(hops, schema=BEER_HOPS_SCHEMA, orient="row"),
        recipes=pl.DataFrame(recipes, schema=RECIPES_SCHEMA, orient="row"),
        rejected=pl.DataFrame(rejected, schema=REJECTED_SCHEMA, orient="row"),
    )
    bad_id = pl.col("beer_id").is_null() | (pl.col("beer_id") < 1)

    def per_beer(rows: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
        joined = beers.filter(~bad_id).join(rows.rename({"beer_id": "recipe"}), on="recipe", how="inner")
        return joined.select(schema.names()).cast(dict(schema))

    rejected_rows = pl.concat([
        beers.filter(bad_id)  # with_columns: literals take the frame's height, even 0 (select's would make a row)
        .with_columns(beer_id=pl.lit(None, pl.Int64), reason=pl.lit("id missing or not a positive integer"))
        .select(REJECTED_SCHEMA.names()),
        per_beer(by_recipe.rejected, REJECTED_SCHEMA).sort("beer_id"),
    ])  # fmt: skip
    return RecipeTables(
        beer_hops=per_beer(by_recipe.beer_hops, BEER_HOPS_SCHEMA).sort("beer_id", "addition"),
        recipes=per_beer(by_recipe.recipes, RECIPES_SCHEMA).sort("beer_id"),
        rejected=rejected_rows,
    )


@functools.lru_cache(maxsize=PARSE_CACHE_RECIPES)
def _parsed(texts: tuple[str | None, ...]) -> tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...], str | None]:
    """One recipe's (recipes row, beer_hops rows, rejection reason) without the beer id, from its
    fields' JSON texts (`RECIPE_FIELDS` order)."""
    record = {name: _decoded(text) for name, text in zip(RECIPE_FIELDS, texts, strict=True)}
    try:
        recipe = parse_recipe(record, known_names_only=False)
    except RecipeError as error:
        return (), (), str(error)
    hops = tuple((index, *_HOP_FIELDS(hop)) for index, hop in enumerate(recipe.hops or ()))
    return (recipe.volume_litres, recipe.boil_volume_litres, recipe.attenuation_level), hops, None


def hop_additions(beer_hops: pl.DataFrame) -> dict[int, tuple[HopAddition, ...]]:
    """`beer_hops` rows back as each beer's `HopAddition`s, in published order."""
    by_beer: dict[int, list[HopAddition]] = {}
    fields = [name for name in BEER_HOPS_SCHEMA if name not in ("beer_id", "addition")]
    for row in beer_hops.sort("beer_id", "addition").iter_rows(named=True):
        by_beer.setdefault(row["beer_id"], []).append(HopAddition(**{name: row[name] for name in fields}))
    return {beer_id: tuple(additions) for beer_id, additions in by_beer.items()}


def unmatched_hops(beer_hops: pl.DataFrame) -> pl.DataFrame:
    """The additions whose name matched nothing in the hop reference (kind null): beer_id, addition, name."""
    return beer_hops.filter(pl.col("kind").is_null()).select("beer_id", "addition", "name")


def _decoded(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
