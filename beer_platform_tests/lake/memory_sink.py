"""A `lake.day.Sink` that keeps what a day's cleaning builds in memory, for tests of the pure path."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from beer_platform.lake.day import DayReport, clean_day
from beer_platform.lake.declaration import Table
from beer_platform.lake.tables import CATALOGUE_TABLES


class MemorySink:
    def __init__(self) -> None:
        self.rows: dict[str, list[pl.DataFrame]] = {}
        self.rejected: dict[str, list[pl.DataFrame]] = {}

    def write(self, table: Table, rows: pl.DataFrame, rejected: pl.DataFrame) -> None:
        self.rows.setdefault(table.name, []).append(rows)
        self.rejected.setdefault(table.name, []).append(rejected)

    def table(self, name: str) -> pl.DataFrame:
        return pl.concat(self.rows[name])

    def rejects(self, name: str) -> pl.DataFrame:
        return pl.concat([frame for frame in self.rejected[name] if frame.width], how="diagonal_relaxed")


def clean_in_memory(parts: Iterable[bytes], tables: tuple[Table, ...] = CATALOGUE_TABLES, **facts) -> tuple[DayReport, MemorySink]:
    parts = list(parts)
    sink = MemorySink()
    return clean_day(lambda: iter(parts), tables, sink, facts), sink
