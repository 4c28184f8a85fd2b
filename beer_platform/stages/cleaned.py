"""The cleaned zone: one ingestion day's raw parts cleaned into each table's Parquet partition.

A day is cleaned from that day's raw parts only (`lake.day.clean_day`, a part at a time), so its
cost grows with the day, not the history, and its memory with one part. Each table's rows are
written as row groups of one local Parquet file, uploaded when the day is done as the
partition's one object (`object_keys.table_part_key`): a reader sees the old partition or the
new one, never a mix. Rejected records go to `_rejects/<table>/ingestion_date=.../rejects.jsonl`.
Cleaning a day again (a backfill) rewrites its partitions from the raw zone.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from beer_platform.aws import s3 as s3_ops
from beer_platform.lake import object_keys
from beer_platform.lake.day import DayReport, clean_day
from beer_platform.lake.declaration import Table, source_of


class NothingLandedError(LookupError):
    """The raw zone holds no part for the day asked for."""


@dataclass
class CleanedDay:
    day: str
    report: DayReport
    uris: dict[str, str]  # table -> its partition's prefix URI


def raw_parts_of(s3: Any, raw_bucket: str, day: str, zone: str = object_keys.RAW_PREFIX) -> list[s3_ops.StoredObject]:
    prefix = object_keys.partition_prefix(zone, day)
    return [o for o in s3_ops.list_objects(s3, raw_bucket, prefix) if o.key.endswith(object_keys.RAW_PART_SUFFIX)]


def clean(s3: Any, raw_bucket: str, cleaned_bucket: str, day: str, tables: tuple[Table, ...],
          facts: Mapping[str, Any] | None = None) -> CleanedDay:  # fmt: skip
    """Clean `day` into every table of `tables` (from their raw zone); NothingLandedError when
    nothing was landed that day."""
    zone = source_of(tables).zone
    parts = raw_parts_of(s3, raw_bucket, day, zone)
    if not parts:
        where = s3_ops.uri(raw_bucket, object_keys.partition_prefix(zone, day))
        raise NothingLandedError(f"no raw parts for {day} in {where}: nothing was landed that day, so there is "
                                 "nothing to clean")  # fmt: skip

    def blobs() -> Iterator[bytes]:
        return (s3_ops.get_bytes(s3, raw_bucket, part.key) or b"" for part in parts)  # fetched as parsed

    with tempfile.TemporaryDirectory(prefix=f"clean-{day}-") as work:
        sink = LocalSink(Path(work), tables)
        report = clean_day(blobs, tables, sink, facts)
        sink.upload(s3, cleaned_bucket, day, raw_parts=len(parts))
    uris = {table.name: s3_ops.uri(cleaned_bucket, object_keys.partition_prefix(table.name, day)) for table in tables}
    return CleanedDay(day, report, uris)


class LocalSink:
    """Each table's rows as row groups of a local Parquet file, its rejects as JSON lines."""

    def __init__(self, directory: Path, tables: tuple[Table, ...]) -> None:
        self.directory, self.tables = directory, tables
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rejected: dict[str, int] = {}

    def write(self, table: Table, rows: pl.DataFrame, rejected: pl.DataFrame) -> None:
        data = rows.cast(dict(table.lake_schema)).select(table.lake_schema.names()).to_arrow(
            compat_level=pl.CompatLevel.oldest())  # fmt: skip
        if table.name not in self.writers:
            # statistics on, so engines can skip row groups; zstd is what Athena and DuckDB both read
            self.writers[table.name] = pq.ParquetWriter(self._parquet(table), data.schema, compression="zstd")
        self.writers[table.name].write_table(data)
        if rejected.height:
            with self._rejects(table).open("a") as out:
                for record in rejected.to_dicts():
                    out.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
            self.rejected[table.name] = self.rejected.get(table.name, 0) + rejected.height

    def upload(self, s3: Any, bucket: str, day: str, raw_parts: int) -> None:
        for table in self.tables:
            if table.name not in self.writers:  # no chunk at all: an empty partition, with the table's columns
                self.write(table, table.lake_schema.to_frame(), pl.DataFrame())
            self.writers.pop(table.name).close()
            s3.upload_file(str(self._parquet(table)), bucket, object_keys.table_part_key(table.name, day),
                           ExtraArgs={"Metadata": {"raw-parts": str(raw_parts)}})  # fmt: skip
            rejects_key = object_keys.rejects_key(day, table.name)
            if self.rejected.get(table.name):
                s3.upload_file(str(self._rejects(table)), bucket, rejects_key,
                               ExtraArgs={"ContentType": "application/x-ndjson"})  # fmt: skip
            else:
                s3.delete_object(Bucket=bucket, Key=rejects_key)

    def _parquet(self, table: Table) -> Path:
        return self.directory / f"{table.name}.parquet"

    def _rejects(self, table: Table) -> Path:
        return self.directory / f"{table.name}.rejects.jsonl"
