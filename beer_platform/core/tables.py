"""The cleaned zone's tables: what each is (`TableSpec`) and how a day's raw records become it
(`TableBuilder`). Pure: no I/O.

A day is cleaned by parsing its raw parts once, with `data` read as the union of the builders'
`data_schema`s, and handing the envelope rows to every builder. Each builder's table is one
Parquet partition per ingestion day under its own prefix, published as its own Glue table by
`stages.catalog` from its spec alone. Adding a table is adding a builder and its spec here.

The tables: `beers` (the 9 published fields), `beer_hops` (one row per hop addition of each
beer's latest record, matched to the hop reference) and `recipes` (one row per beer: volumes,
attenuation). The three share their work: latest-wins (`cleaning.clean_beers`) and the recipe
parse (`recipe_tables`) run once per day's rows, whichever builder asks first (`_once_per_day`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from beer_platform.core import object_keys
from beer_platform.core.cleaning import CLEANED_SCHEMA, RECIPE_DATA_SCHEMA, CleaningResult, clean_beers
from beer_platform.core.recipe_tables import (
    BEER_HOPS_SCHEMA, RECIPES_SCHEMA, REJECTED_SCHEMA, RecipeTables, recipe_tables_of_source,
)  # fmt: skip

# polars dtype -> Hive/Glue type, for the table's columns in the catalog
GLUE_TYPES = {pl.Int64: "bigint", pl.Int32: "int", pl.String: "string", pl.Float64: "double", pl.Boolean: "boolean"}


@dataclass(frozen=True)
class TableSpec:
    name: str  # the table's name in the catalog (the default; `names.py` may rename `beers`)
    prefix: str  # its key prefix in the cleaned bucket
    schema: pl.Schema
    description: str

    def glue_columns(self) -> list[dict[str, str]]:
        return [{"Name": name, "Type": GLUE_TYPES[dtype]} for name, dtype in self.schema.items()]


@dataclass(frozen=True)
class BuiltTable:
    rows: pl.DataFrame  # exactly the spec's schema
    rejected: pl.DataFrame  # the envelope rows (or parts of them) left out, with a `reason` column


@dataclass(frozen=True)
class TableBuilder:
    spec: TableSpec
    data_schema: pl.Schema  # the fields of each envelope's `data` that `build` reads
    build: Callable[[pl.DataFrame], BuiltTable]  # a day's envelope rows -> the day's table


T = TypeVar("T")


def _once_per_day(step: Callable[[pl.DataFrame], T]) -> Callable[[pl.DataFrame], T]:
    """`step` memoized on the last envelope rows it was given (by identity, held weakly, and
    forgotten with them): builders sharing a step run it once per day cleaned."""
    memo: dict[str, Any] = {}

    def run(raw: pl.DataFrame) -> T:
        held = memo.get("raw")
        if held is not None and held() is raw:
            return memo["result"]
        result = step(raw)
        memo.clear()
        memo.update(raw=weakref.ref(raw, lambda _: memo.clear()), result=result)
        return result

    return run


_latest_wins: Callable[[pl.DataFrame], CleaningResult] = _once_per_day(clean_beers)


@_once_per_day
def _recipes_of(raw: pl.DataFrame) -> RecipeTables:
    """The recipe tables of each beer's latest record (the one `beers` keeps)."""
    return recipe_tables_of_source(_latest_wins(raw).recipe_source)


def lake_schema(schema: pl.Schema) -> pl.Schema:
    """Enums as plain strings: what every engine reading the Parquet (Glue, Athena, DuckDB) types alike."""
    return pl.Schema({name: pl.String if isinstance(dtype, pl.Enum) else dtype for name, dtype in schema.items()})


def _beers(raw: pl.DataFrame) -> BuiltTable:
    result = _latest_wins(raw)
    return BuiltTable(result.beers, result.rejected)


def _beer_hops(raw: pl.DataFrame) -> BuiltTable:
    # A recipe that cannot be read is rejected once, with its reason, by `recipes`.
    return BuiltTable(_recipes_of(raw).beer_hops.cast(dict(BEER_HOPS.spec.schema)), REJECTED_SCHEMA.to_frame())


def _recipe_rows(raw: pl.DataFrame) -> BuiltTable:
    tables = _recipes_of(raw)
    return BuiltTable(tables.recipes, tables.rejected)


BEERS = TableBuilder(
    TableSpec(
        name="beers",
        prefix=object_keys.CLEANED_PREFIX,
        schema=CLEANED_SCHEMA,
        description="BrewDog beers (PunkAPI v2), cleaned: one row per beer per ingestion day.",
    ),
    data_schema=CLEANED_SCHEMA,
    build=_beers,
)

BEER_HOPS = TableBuilder(
    TableSpec(
        name="beer_hops",
        prefix="beer_hops",
        schema=lake_schema(BEER_HOPS_SCHEMA),
        description="Hop additions of each beer's recipe (PunkAPI ingredients.hops): one row per addition per "
        "ingestion day, matched to the hop reference (kind null: the name matched nothing).",
    ),
    data_schema=RECIPE_DATA_SCHEMA,
    build=_beer_hops,
)

RECIPES = TableBuilder(
    TableSpec(
        name="recipes",
        prefix="recipes",
        schema=RECIPES_SCHEMA,
        description="Each beer's recipe: batch and boil volume in litres, attenuation; one row per beer per "
        "ingestion day.",
    ),
    data_schema=RECIPE_DATA_SCHEMA,
    build=_recipe_rows,
)

BUILDERS: tuple[TableBuilder, ...] = (BEERS, BEER_HOPS, RECIPES)


def data_schema_of(builders: Iterable[TableBuilder]) -> pl.Schema:
    """The `data` fields any of the builders reads; a field two builders read differently is an error."""
    fields: dict[str, pl.DataType] = {}
    for builder in builders:
        for name, dtype in builder.data_schema.items():
            if fields.setdefault(name, dtype) != dtype:
                raise ValueError(f"builders read data.{name} as both {fields[name]} and {dtype}")
    return pl.Schema(fields)
