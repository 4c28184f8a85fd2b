"""What a table of the cleaned zone is, declared once: its name, what it is built from, how, its
columns with their descriptions, and its checks. Everything else is derived from a `Table`: its
Dagster assets (`cleaned_<name>`, `<name>_table`), its checks, its Glue table and columns, its
place in the bucket (`object_keys`), its row in the docs.

A day is cleaned a raw part at a time (`day.clean_day`): each part's winners (the latest good
record of each beer, chosen across the whole day) become a `Chunk`, and every table builds its
rows of that chunk, in `TABLES` order, so a table may be built from another's rows (`built_from`).
Checks judge each chunk's rows as they are built (`Check.find`: the rows at fault) or the day's
totals (`Check.judge`), so nothing is read back to check it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from beer_platform.brewing.recipes import RECIPE_FIELDS
from beer_platform.lake.recipe_tables import RecipeTables, recipe_tables_of_source

# polars dtype -> Hive/Glue type, for the table's columns in the catalog
GLUE_TYPES = {pl.Int64: "bigint", pl.Int32: "int", pl.String: "string", pl.Float64: "double", pl.Boolean: "boolean"}


def glue_type(dtype: Any) -> str:
    """The Hive/Glue type of a lake column (a UTC datetime is a timestamp)."""
    return "timestamp" if isinstance(dtype, pl.Datetime) else GLUE_TYPES[dtype]


@dataclass(frozen=True)
class Column:
    name: str
    dtype: Any  # a polars dtype; an Enum is written to the lake as a plain string
    description: str

    @property
    def lake_dtype(self) -> Any:
        """What every engine reading the Parquet (Glue, Athena, DuckDB) types alike."""
        return pl.String if isinstance(self.dtype, pl.Enum) else self.dtype


@dataclass(frozen=True)
class Built:
    rows: pl.DataFrame  # the table's rows of one chunk, in its schema
    rejected: pl.DataFrame  # what could not be made a row, with a `reason` column


@dataclass
class Chunk:
    """One raw part's share of a day: its winners, its rejected records, and the tables built so far."""

    records: pl.DataFrame  # the winning items: envelope rows (`data` holding every table's `reads`), or events
    ids: pl.Series  # their keys, in the same order
    rejected: pl.DataFrame  # the part's records that could not be cleaned, with a `reason`
    items: int  # how many items the part held (pass 1 counted them too)
    built: dict[str, Built] = field(default_factory=dict)

    @functools.cached_property
    def recipes(self) -> RecipeTables:
        """The recipe tables of the winners (`beer_hops` and `recipes` are two views of one parse)."""
        if self.records.is_empty():
            return recipe_tables_of_source(None)
        source = self.records.select(
            id=self.ids, **{name: pl.col("data").struct.field(name).cast(pl.String) for name in RECIPE_FIELDS}
        )
        return recipe_tables_of_source(source)


@dataclass(frozen=True)
class Source:
    """A raw zone, and how a day of it becomes chunks: each part is read twice, for its items'
    keys (`keys`: key, arrival, sequence, reason, one row per item; the latest good item of each
    key wins across the day), then for its winners (`chunk`, given the data fields the tables read
    and the winning items' indexes)."""

    zone: str  # its prefix in the raw bucket: `beers`, `predictions`
    keys: Callable[[bytes], pl.DataFrame]
    chunk: Callable[[bytes, pl.Schema, np.ndarray], Chunk]


@dataclass(frozen=True)
class DayTotals:
    """What a check that judges the whole day sees: rows per table, raw records, facts from outside."""

    rows: Mapping[str, int]
    raw_records: int
    facts: Mapping[str, Any]  # e.g. `api_rows`: how many beers the API returned (None: unknown)


@dataclass(frozen=True)
class Check:
    """A check of one table. `find(chunk)` returns the rows at fault in a chunk (none: passed), or
    `judge(totals)` returns (passed, metadata) for the day."""

    name: str
    description: str
    find: Callable[[Chunk], pl.DataFrame] | None = None
    judge: Callable[[DayTotals], tuple[bool, dict[str, Any]]] | None = None
    blocking: bool = False  # a failure stops what is downstream
    warn: bool = False  # a failure is a warning (the data is kept and flagged)


@dataclass(frozen=True)
class Table:
    name: str  # the Glue table, the bucket prefix, and the assets `cleaned_<name>`, `<name>_table`
    description: str
    rows_are: str  # what a row is, for summaries: "beers", "hop additions"
    columns: tuple[Column, ...]
    build: Callable[[Chunk], Built]
    source: Source | None = None  # the raw zone it is built from; None: its `built_from` tables' source
    reads: pl.Schema = field(default_factory=pl.Schema)  # fields of each raw record's `data` it reads
    built_from: tuple[str, ...] = ()  # tables of the same chunk it is built from (none: the raw records)
    checks: tuple[Check, ...] = ()

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema({column.name: column.dtype for column in self.columns})

    @property
    def lake_schema(self) -> pl.Schema:
        return pl.Schema({column.name: column.lake_dtype for column in self.columns})

    @property
    def cleaned_asset(self) -> str:
        return f"cleaned_{self.name}"

    @property
    def catalog_asset(self) -> str:
        return f"{self.name}_table"

    def glue_columns(self) -> list[dict[str, str]]:
        return [{"Name": c.name, "Type": glue_type(c.lake_dtype), "Comment": c.description} for c in self.columns]


def source_of(tables: tuple[Table, ...]) -> Source:
    """The one source `tables` are built from (a table built from others has theirs)."""
    by_name = {table.name: table for table in tables}

    def of(table: Table) -> Source | None:
        return table.source or next((of(by_name[name]) for name in table.built_from if name in by_name), None)

    found = {of(table) for table in tables}
    if len(found) != 1 or None in found:
        raise ValueError(f"tables {[t.name for t in tables]} are not built from one source: {found}")
    return found.pop()


def data_schema_of(tables: tuple[Table, ...]) -> pl.Schema:
    """The `data` fields any of the tables reads; a field two tables read differently is an error."""
    fields: dict[str, Any] = {}
    for table in tables:
        for name, dtype in table.reads.items():
            if fields.setdefault(name, dtype) != dtype:
                raise ValueError(f"tables read data.{name} as both {fields[name]} and {dtype}")
    return pl.Schema(fields)


def in_build_order(tables: tuple[Table, ...]) -> tuple[Table, ...]:
    """`tables`, each after the tables it is built from; ValueError for an unknown or circular source."""
    by_name = {table.name: table for table in tables}
    ordered: list[Table] = []

    def visit(table: Table, path: tuple[str, ...]) -> None:
        if table in ordered:
            return
        if table.name in path:
            raise ValueError(f"table {table.name} is built from itself: {' -> '.join((*path, table.name))}")
        for source in table.built_from:
            if source not in by_name:
                raise ValueError(f"table {table.name} is built from {source!r}, which is not declared")
            visit(by_name[source], (*path, table.name))
        ordered.append(table)

    for table in tables:
        visit(table, ())
    return tuple(ordered)


def described(schema: pl.Schema, descriptions: Mapping[str, str]) -> tuple[Column, ...]:
    """The columns of `schema`, each with its description; ValueError unless every column has one."""
    if set(schema.names()) != set(descriptions):
        raise ValueError(f"columns without a description or descriptions without a column: "
                         f"{sorted(set(schema.names()) ^ set(descriptions))}")  # fmt: skip
    return tuple(Column(name, dtype, descriptions[name]) for name, dtype in schema.items())
