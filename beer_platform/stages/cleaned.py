"""The cleaned zone: one ingestion day's raw parts, parsed once, cleaned into each table's Parquet
partition for that day (`lake.tables`: `beers`, `beer_hops`, `recipes`).

A day is cleaned from that day's raw parts only, so its cost grows with the day, not with the
history; cleaning a day again (a backfill) rewrites its partitions from the raw zone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from beer_platform.aws import s3 as s3_ops
from beer_platform.lake import object_keys
from beer_platform.lake.cleaning import read_raw_parts
from beer_platform.lake.tables import BUILDERS, DayRows, TableBuilder, data_schema_of


class NothingLandedError(LookupError):
    """The raw zone holds no part for the day asked for."""


@dataclass
class TableOutcome:
    uri: str
    rows: pl.DataFrame
    rejected: int


@dataclass
class DayReport:
    day: str
    raw_parts: int
    raw_records: int
    tables: dict[str, TableOutcome] = field(default_factory=dict)  # by spec name


def to_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    # Statistics on, so engines can skip row groups; zstd is what Athena and DuckDB both read.
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()


def raw_parts_of(s3: Any, raw_bucket: str, day: str) -> list[s3_ops.StoredObject]:
    prefix = object_keys.partition_prefix(object_keys.RAW_PREFIX, day)
    return [o for o in s3_ops.list_objects(s3, raw_bucket, prefix) if o.key.endswith(object_keys.RAW_PART_SUFFIX)]


def clean_day(
    s3: Any, raw_bucket: str, cleaned_bucket: str, day: str, builders: tuple[TableBuilder, ...] = BUILDERS
) -> DayReport:
    parts = raw_parts_of(s3, raw_bucket, day)
    if not parts:
        raise NothingLandedError(
            f"no raw parts for {day} in {s3_ops.uri(raw_bucket, object_keys.partition_prefix(object_keys.RAW_PREFIX, day))}: "
            "nothing was landed that day, so there is nothing to clean"
        )
    blobs = (s3_ops.get_bytes(s3, raw_bucket, part.key) or b"" for part in parts)  # fetched as parsed
    raw = read_raw_parts(blobs, data_schema=data_schema_of(builders))
    report = DayReport(day=day, raw_parts=len(parts), raw_records=raw.height)
    day_rows = DayRows(raw)
    for builder in builders:
        spec = builder.spec
        result = builder.build(day_rows)
        key = object_keys.table_part_key(spec.prefix, day)
        s3.put_object(Bucket=cleaned_bucket, Key=key, Body=to_parquet(result.rows),
                      Metadata={"rows": str(result.rows.height), "raw-parts": str(len(parts))})  # fmt: skip
        rejects_key = object_keys.rejects_key(day, spec.prefix)
        if result.rejected.height:
            # Records that cannot be cleaned are kept aside, never dropped silently.
            s3_ops.put_json(s3, cleaned_bucket, rejects_key, result.rejected.to_dicts())
        else:
            s3.delete_object(Bucket=cleaned_bucket, Key=rejects_key)
        uri = s3_ops.uri(cleaned_bucket, object_keys.partition_prefix(spec.prefix, day))
        report.tables[spec.name] = TableOutcome(uri, result.rows, result.rejected.height)
    return report


def rejected_in(s3: Any, cleaned_bucket: str, day: str, table_prefix: str = object_keys.CLEANED_PREFIX) -> list[dict]:
    return s3_ops.get_json(s3, cleaned_bucket, object_keys.rejects_key(day, table_prefix)) or []
