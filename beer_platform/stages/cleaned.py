"""The cleaned zone: each raw day part, parsed once, built into every cleaned table's Parquet partition.

One parse of a day's raw records (`read_day`: the 9 published fields typed, latest record per
beer, and that record's recipe) feeds a set of table builders (`BUILDERS`): `beers` (the 9
fields), `beer_hops` (one row per hop addition) and `recipes` (one row per beer). Each table lives
under its own prefix with the same partitioning (`object_keys.cleaned_part_key(day, table)`).

A partition remembers the ETag of the raw part it was made from, so only days whose raw part
changed (or that miss a table's part) are built again and a re-run with nothing new writes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from beer_platform.aws import s3 as s3_ops
from beer_platform.core import object_keys
from beer_platform.core.cleaning import CleaningResult, clean_beers, read_raw_jsonl
from beer_platform.core.recipe_tables import RecipeTables, decoded_records, recipe_tables

SOURCE_ETAG = "source-etag"


@dataclass(frozen=True)
class DayRecords:
    """What one parse of a day's raw part gives every table builder."""

    cleaning: CleaningResult  # beers (latest wins), rejected envelopes, the winners' recipe fields
    recipes: RecipeTables  # beer_hops, recipes, records whose recipe could not be read


def read_day(raw_part: bytes) -> DayRecords:
    cleaning = clean_beers(read_raw_jsonl(raw_part, with_recipe=True))
    return DayRecords(cleaning, recipe_tables(decoded_records(cleaning.recipe_source)))


@dataclass(frozen=True)
class TableBuilder:
    """One cleaned table: its prefix in the bucket (`object_keys.CLEANED_TABLES`) and how a day's
    records become its rows and its rejects (kept aside in `_rejects/`, never dropped)."""

    table: str
    build: Callable[[DayRecords], tuple[pl.DataFrame, list[dict[str, Any]]]]


def _lake_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Enums as plain strings: what every engine reading the Parquet (Glue, Athena, DuckDB) types alike."""
    return frame.with_columns(pl.col(name).cast(pl.String) for name, dtype in frame.schema.items()
                              if isinstance(dtype, pl.Enum))  # fmt: skip


BUILDERS: tuple[TableBuilder, ...] = (
    TableBuilder("beers", lambda day: (day.cleaning.beers, day.cleaning.rejected.to_dicts())),
    TableBuilder("beer_hops", lambda day: (_lake_frame(day.recipes.beer_hops), [])),
    TableBuilder("recipes", lambda day: (day.recipes.recipes, day.recipes.rejected.to_dicts())),
)
assert tuple(builder.table for builder in BUILDERS) == object_keys.CLEANED_TABLES


@dataclass
class TableReport:
    """One table's side of a cleaning run."""

    partitions_written: list[str] = field(default_factory=list)
    rejected: int = 0  # records rejected in the partitions written
    latest: pl.DataFrame | None = None  # the latest partition's rows, for checks and metadata
    partitions: dict[str, str] = field(default_factory=dict)  # day -> s3 prefix


@dataclass
class CleaningReport:
    tables: dict[str, TableReport] = field(default_factory=lambda: {b.table: TableReport() for b in BUILDERS})
    partitions_unchanged: int = 0  # days whose every table was already built from their raw part
    latest_day: str | None = None


def to_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    # Statistics on, so engines can skip row groups; zstd is what Athena and DuckDB both read.
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()


def read_partition(s3: Any, bucket: str, day: str, table: str = object_keys.CLEANED_PREFIX) -> pl.DataFrame:
    blob = s3_ops.get_bytes(s3, bucket, object_keys.cleaned_part_key(day, table))
    if blob is None:
        raise FileNotFoundError(f"no cleaned {table} partition for {day} in s3://{bucket}")
    return pl.read_parquet(io.BytesIO(blob))


def clean(s3: Any, raw_bucket: str, cleaned_bucket: str) -> CleaningReport:
    report = CleaningReport()
    raw_parts = s3_ops.list_objects(s3, raw_bucket, object_keys.partitions_prefix(object_keys.RAW_PREFIX))
    parts = sorted(raw_parts, key=lambda p: p.key)
    written: dict[str, tuple[str, pl.DataFrame]] = {}  # table -> the last (day, rows) written
    for part in parts:
        day = object_keys.day_of_key(part.key)
        for builder in BUILDERS:
            prefix = object_keys.partition_prefix(builder.table, day)
            report.tables[builder.table].partitions[day] = s3_ops.uri(cleaned_bucket, prefix)
        if all(_built_from(s3, cleaned_bucket, object_keys.cleaned_part_key(day, b.table), part.etag) for b in BUILDERS):
            report.partitions_unchanged += 1
            continue
        records = read_day(s3_ops.get_bytes(s3, raw_bucket, part.key))
        for builder in BUILDERS:
            rows, rejected = builder.build(records)
            key = object_keys.cleaned_part_key(day, builder.table)
            s3.put_object(Bucket=cleaned_bucket, Key=key, Body=to_parquet(rows),
                          Metadata={SOURCE_ETAG: part.etag, "rows": str(rows.height)})  # fmt: skip
            rejects_key = object_keys.rejects_key(day, builder.table)
            if rejected:
                s3_ops.put_json(s3, cleaned_bucket, rejects_key, rejected)
            else:
                s3.delete_object(Bucket=cleaned_bucket, Key=rejects_key)
            table = report.tables[builder.table]
            table.rejected += len(rejected)
            table.partitions_written.append(s3_ops.uri(cleaned_bucket, key))
            written[builder.table] = (day, rows)
    if parts:
        report.latest_day = object_keys.day_of_key(parts[-1].key)
        for builder in BUILDERS:
            day, rows = written.get(builder.table, (None, None))
            # just written: no need to read it back
            latest = rows if day == report.latest_day else read_partition(s3, cleaned_bucket, report.latest_day,
                                                                           builder.table)  # fmt: skip
            report.tables[builder.table].latest = latest
    return report


def _built_from(s3: Any, bucket: str, key: str, etag: str) -> bool:
    current = s3_ops.head_metadata(s3, bucket, key)
    return current is not None and current.get(SOURCE_ETAG) == etag


def rejected_in(s3: Any, cleaned_bucket: str, day: str, table: str = object_keys.CLEANED_PREFIX) -> list[dict]:
    return s3_ops.get_json(s3, cleaned_bucket, object_keys.rejects_key(day, table)) or []
