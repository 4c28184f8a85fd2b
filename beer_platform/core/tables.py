"""The cleaned zone's tables: what each is (`TableSpec`) and how a day's raw records become it
(`TableBuilder`). Pure: no I/O.

A day is cleaned by parsing its raw parts once, with `data` read as the union of the builders'
`data_schema`s, and handing the envelope rows to every builder. Each builder's table is one
Parquet partition per ingestion day under its own prefix, published as its own Glue table by
`stages.catalog` from its spec alone. Adding a table is adding a builder and its spec here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl

from beer_platform.core import object_keys
from beer_platform.core.cleaning import CLEANED_SCHEMA, clean_beers

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


def _beers(raw: pl.DataFrame) -> BuiltTable:
    result = clean_beers(raw)
    return BuiltTable(result.beers, result.rejected)


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

BUILDERS: tuple[TableBuilder, ...] = (BEERS,)


def data_schema_of(builders: Iterable[TableBuilder]) -> pl.Schema:
    """The `data` fields any of the builders reads; a field two builders read differently is an error."""
    fields: dict[str, pl.DataType] = {}
    for builder in builders:
        for name, dtype in builder.data_schema.items():
            if fields.setdefault(name, dtype) != dtype:
                raise ValueError(f"builders read data.{name} as both {fields[name]} and {dtype}")
    return pl.Schema(fields)
