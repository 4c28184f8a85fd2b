"""Cleaning one ingestion day into every table, a raw part at a time: memory bounded by a part.

Pure: the caller hands in the day's raw parts (bytes, read twice) and a `Sink` that stores what
is built. Pass 1 reads each part's items' keys only (the tables' `Source`: a beer's id, a
prediction's request and place) and picks each key's winner across the whole day
(`latest.latest_rows`). Pass 2 reads each part again, keeps its winners (a `Chunk`), builds every
table's rows of it in build order, hands them to the sink, and runs the checks that judge a
chunk's rows; the checks that judge the day run at the end. Only the day's keys and one part's
rows are held at once, so the peak grows with the part, not the day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import polars as pl

from beer_platform.lake.declaration import Check, Chunk, DayTotals, Table, data_schema_of, in_build_order, source_of
from beer_platform.lake.latest import latest_rows
from beer_platform.lake.raw_reader import ahead

SAMPLE_ROWS = 50  # rows at fault a check's metadata lists (the count is always exact)
PREVIEW_ROWS = 5


class Sink(Protocol):
    """Where a day's rows go: called once per table per chunk, in build order, then `close`d."""

    def write(self, table: Table, rows: pl.DataFrame, rejected: pl.DataFrame) -> None: ...


@dataclass
class TableDay:
    rows: int = 0
    rejected: int = 0
    preview: pl.DataFrame | None = None


@dataclass
class CheckOutcome:
    passed: bool
    metadata: dict[str, Any]


@dataclass
class DayReport:
    raw_parts: int
    raw_records: int = 0
    tables: dict[str, TableDay] = field(default_factory=dict)
    checks: dict[tuple[str, str], CheckOutcome] = field(default_factory=dict)  # (table, check) -> outcome


def clean_day(parts: Callable[[], Iterable[bytes]], tables: tuple[Table, ...], sink: Sink,
              facts: Mapping[str, Any] | None = None) -> DayReport:  # fmt: skip
    """Every table's rows of the day whose raw parts `parts()` yields (called once per pass)."""
    source, schema = source_of(tables), data_schema_of(tables)
    keys = list(ahead(source.keys, parts()))
    winners = latest_rows(keys)
    report = DayReport(raw_parts=len(keys), raw_records=sum(k.height for k in keys))
    report.tables = {table.name: TableDay() for table in tables}
    found: dict[tuple[str, str], list[pl.DataFrame]] = {}
    counts: dict[tuple[str, str], int] = {}

    def chunk_of(numbered: tuple[int, bytes]) -> Chunk:
        part, blob = numbered
        return source.chunk(blob, schema, winners.get(part, np.zeros(0, dtype=np.uint32)))

    for part, chunk in enumerate(ahead(chunk_of, enumerate(parts()))):
        if chunk.items != keys[part].height:
            raise RuntimeError(f"raw part {part} held {keys[part].height} items, then {chunk.items}: it changed")
        _build(chunk, tables, sink, report)
        for table, check in _checks(tables, lambda check: check.find is not None):
            _collect(found, counts, (table.name, check.name), check.find(chunk))
    totals = DayTotals({name: day.rows for name, day in report.tables.items()}, report.raw_records, facts or {})
    for table, check in _checks(tables, lambda check: True):
        report.checks[(table.name, check.name)] = _outcome(check, totals, found.get((table.name, check.name), []),
                                                           counts.get((table.name, check.name), 0))  # fmt: skip
    return report


def _build(chunk: Chunk, tables: tuple[Table, ...], sink: Sink, report: DayReport) -> None:
    for table in in_build_order(tables):
        built = chunk.built[table.name] = table.build(chunk)
        sink.write(table, built.rows, built.rejected)
        _count(report.tables[table.name], built.rows, built.rejected)


def _checks(tables: tuple[Table, ...], which: Callable[[Check], bool]) -> list[tuple[Table, Check]]:
    return [(table, check) for table in tables for check in table.checks if which(check)]


def _count(day: TableDay, rows: pl.DataFrame, rejected: pl.DataFrame) -> None:
    day.rows += rows.height
    day.rejected += rejected.height
    if day.preview is None and rows.height:
        day.preview = rows.head(PREVIEW_ROWS)


def _collect(found: dict, counts: dict, key: tuple[str, str], rows: pl.DataFrame) -> None:
    counts[key] = counts.get(key, 0) + rows.height
    kept = sum(frame.height for frame in found.get(key, []))
    if rows.height and kept < SAMPLE_ROWS:
        found.setdefault(key, []).append(rows.head(SAMPLE_ROWS - kept))


def _outcome(check: Check, totals: DayTotals, found: list[pl.DataFrame], count: int) -> CheckOutcome:
    if check.judge is not None:
        passed, metadata = check.judge(totals)
        return CheckOutcome(passed, metadata)
    sample = pl.concat(found, how="diagonal_relaxed").to_dicts() if found else []
    return CheckOutcome(count == 0, {"found": count, "rows": sample})
