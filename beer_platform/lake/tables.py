"""The cleaned zone's tables: what each is (`TableSpec`) and how a day's raw records become it
(`TableBuilder`). Pure: no I/O.

A day is cleaned by parsing its raw parts once, with `data` read as the union of the builders'
`data_schema`s, and handing the envelope rows (`DayRows`) to every builder. Each builder's table is one
Parquet partition per ingestion day under its own prefix, published as its own Glue table by
`stages.catalog` from its spec alone. Adding a table is adding a builder and its spec here.

The tables: `beers` (the 9 published fields), `beer_hops` (one row per hop addition of each
beer's latest record, matched to the hop reference) and `recipes` (one row per beer: volumes,
attenuation). The three share their work: latest-wins (`cleaning.clean_beers`) and the recipe
parse (`recipe_tables`) run once per day, whichever builder asks first (`DayRows`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl

from beer_platform.lake import object_keys
from beer_platform.lake.cleaning import CLEANED_SCHEMA, RECIPE_DATA_SCHEMA, CleaningResult, clean_beers
from beer_platform.lake.recipe_tables import (
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
    build: Callable[[DayRows], BuiltTable]  # a day's envelope rows -> the day's table


@dataclass
class DayRows:
    """A day's envelope rows, parsed once, with the work the builders share done once, when a
    builder first asks for it: latest-wins (`beers` and the recipe tables keep the same records)
    and the recipe parse (`beer_hops` and `recipes` are two views of it)."""

    raw: pl.DataFrame

    @functools.cached_property
    def latest(self) -> CleaningResult:
        return clean_beers(self.raw)

    @functools.cached_property
    def recipes(self) -> RecipeTables:
        """The recipe tables of each beer's latest record (the one `beers` keeps)."""
        return recipe_tables_of_source(self.latest.recipe_source)


def lake_schema(schema: pl.Schema) -> pl.Schema:
    """Enums as plain strings: what every engine reading the Parquet (Glue, Athena, DuckDB) types alike."""
    return pl.Schema({name: pl.String if isinstance(dtype, pl.Enum) else dtype for name, dtype in schema.items()})


def _beers(day: DayRows) -> BuiltTable:
    return BuiltTable(day.latest.beers, day.latest.rejected)


def _beer_hops(day: DayRows) -> BuiltTable:
    # A recipe that cannot be read is rejected once, with its reason, by `recipes`.
    return BuiltTable(day.recipes.beer_hops.cast(dict(BEER_HOPS.spec.schema)), REJECTED_SCHEMA.to_frame())


def _recipe_rows(day: DayRows) -> BuiltTable:
    return BuiltTable(day.recipes.recipes, day.recipes.rejected)


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
