"""The two recipe tables of the lake, built from PunkAPI records: `beer_hops` and `recipes`.

Pure polars, no I/O. Input: PunkAPI beer objects as published (the `data` of raw-zone envelopes),
one per beer (latest-wins is the caller's, as for `cleaning.clean_beers`), as dicts or a polars
frame of them. Each record goes through `recipes.parse_recipe` with unknown hop names allowed: such
an addition is kept with `kind` and `variety` null, for a check to flag (never counted as 0 IBU).
A record whose recipe has any other problem is left out of both tables and listed in `rejected`.
"""

from __future__ import annotations

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
# Records decoded and parsed at a time from a day's recipe source: bounds the Python objects alive.
CHUNK_ROWS = 5_000


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


def recipe_tables_of_source(recipe_source: pl.DataFrame | None, chunk_rows: int = CHUNK_ROWS) -> RecipeTables:
    """`recipe_tables` of `cleaning.CleaningResult.recipe_source` (None: no recipe read): the same
    tables as from every record decoded at once, at the cost of the distinct recipes.

    A beer republished keeps its recipe, so a day of records holds few distinct recipe texts: each
    is decoded and parsed once (`chunk_rows` at a time, so the Python objects alive stay bounded
    whatever the day's size), and its rows are joined back to every beer id that carries it.
    """
    if recipe_source is None or recipe_source.is_empty():
        return recipe_tables([])
    fields = list(RECIPE_FIELDS)
    # group_by keeps only the distinct texts (a join would copy every row's texts once more)
    distinct = recipe_source.group_by(fields, maintain_order=True).agg(beer_ids="id").with_row_index("recipe", offset=1)
    beers = distinct.select(pl.col("recipe").cast(pl.Int64), beer_id="beer_ids").explode("beer_id")
    distinct = distinct.drop("beer_ids")
    bad_id = pl.col("beer_id").is_null() | (pl.col("beer_id") < 1)
    parts = [  # keyed by the recipe's index: parse_recipe reads the recipe fields only
        recipe_tables(decoded_records(chunk.rename({"recipe": "id"})))
        for chunk in distinct.select(pl.col("recipe").cast(pl.Int64), *fields).iter_slices(chunk_rows)
    ]
    by_recipe = RecipeTables(
        *(pl.concat([getattr(part, table) for part in parts]) for table in ("beer_hops", "recipes", "rejected"))
    )

    def per_beer(rows: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
        joined = beers.filter(~bad_id).join(rows.rename({"beer_id": "recipe"}), on="recipe", how="inner")
        return joined.select(schema.names()).cast(dict(schema))

    rejected = pl.concat([
        beers.filter(bad_id)  # with_columns: literals take the frame's height, even 0 (select's would make a row)
        .with_columns(beer_id=pl.lit(None, pl.Int64), reason=pl.lit("id missing or not a positive integer"))
        .select(REJECTED_SCHEMA.names()),
        per_beer(by_recipe.rejected, REJECTED_SCHEMA).sort("beer_id"),
    ])  # fmt: skip
    return RecipeTables(
        beer_hops=per_beer(by_recipe.beer_hops, BEER_HOPS_SCHEMA).sort("beer_id", "addition"),
        recipes=per_beer(by_recipe.recipes, RECIPES_SCHEMA).sort("beer_id"),
        rejected=rejected,
    )


def hop_additions(beer_hops: pl.DataFrame) -> dict[int, tuple[HopAddition, ...]]:
    """`beer_hops` rows back as each beer's `HopAddition`s, in published order."""
    by_beer: dict[int, list[HopAddition]] = {}
    fields = [name for name in BEER_HOPS_SCHEMA if name not in ("beer_id", "addition")]
    for row in beer_hops.sort("beer_id", "addition").iter_rows(named=True):
        by_beer.setdefault(row["beer_id"], []).append(HopAddition(**{name: row[name] for name in fields}))
    return {beer_id: tuple(additions) for beer_id, additions in by_beer.items()}


def decoded_records(recipe_source: pl.DataFrame) -> list[dict[str, Any]]:
    """`cleaning.CleaningResult.recipe_source` (id and each recipe field as JSON text) as records for
    `recipe_tables`. A text that is not JSON was a JSON string (polars keeps those bare): kept as is."""
    return [
        {"id": row["id"], **{name: _decoded(row[name]) for name in RECIPE_FIELDS}}
        for row in recipe_source.iter_rows(named=True)
    ]


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
