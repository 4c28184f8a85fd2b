"""The cleaned zone: each raw day part cleaned to the 9 typed fields, as one Parquet partition.

A partition remembers the ETag of the raw part it was made from, so only days whose raw part
changed are cleaned again and a re-run with nothing new writes nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from beer_platform.aws import s3 as s3_ops
from beer_platform.core.cleaning import clean_beers, read_raw_jsonl
from beer_platform.core import object_keys

SOURCE_ETAG = "source-etag"


@dataclass
class CleaningReport:
    partitions_written: list[str] = field(default_factory=list)
    partitions_unchanged: int = 0
    rejected: int = 0
    latest_day: str | None = None
    latest: pl.DataFrame | None = None  # the latest partition's rows, for checks and metadata
    partitions: dict[str, str] = field(default_factory=dict)  # day -> s3 prefix


def to_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    # Statistics on, so engines can skip row groups; zstd is what Athena and DuckDB both read.
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()


def read_partition(s3: Any, bucket: str, day: str) -> pl.DataFrame:
    blob = s3_ops.get_bytes(s3, bucket, object_keys.cleaned_part_key(day))
    if blob is None:
        raise FileNotFoundError(f"no cleaned partition for {day} in s3://{bucket}")
    return pl.read_parquet(io.BytesIO(blob))


def clean(s3: Any, raw_bucket: str, cleaned_bucket: str) -> CleaningReport:
    report = CleaningReport()
    parts = sorted(s3_ops.list_objects(s3, raw_bucket, object_keys.partitions_prefix(object_keys.RAW_PREFIX)), key=lambda p: p.key)
    last_written: tuple[str, pl.DataFrame] | None = None
    for part in parts:
        day = object_keys.day_of_key(part.key)
        key = object_keys.cleaned_part_key(day)
        report.partitions[day] = s3_ops.uri(cleaned_bucket, object_keys.partition_prefix(object_keys.CLEANED_PREFIX, day))
        current = s3_ops.head_metadata(s3, cleaned_bucket, key)
        if current is not None and current.get(SOURCE_ETAG) == part.etag:
            report.partitions_unchanged += 1
            continue
        result = clean_beers(read_raw_jsonl(s3_ops.get_bytes(s3, raw_bucket, part.key)))
        s3.put_object(
            Bucket=cleaned_bucket, Key=key, Body=to_parquet(result.beers),
            Metadata={SOURCE_ETAG: part.etag, "rows": str(result.beers.height)},
        )  # fmt: skip
        rejects_key = object_keys.rejects_key(day)
        if result.rejected.height:
            # Records that cannot be cleaned are kept aside, never dropped silently.
            s3_ops.put_json(s3, cleaned_bucket, rejects_key, result.rejected.to_dicts())
        else:
            s3.delete_object(Bucket=cleaned_bucket, Key=rejects_key)
        report.rejected += result.rejected.height
        report.partitions_written.append(s3_ops.uri(cleaned_bucket, key))
        last_written = (day, result.beers)
    if parts:
        report.latest_day = object_keys.day_of_key(parts[-1].key)
        if last_written and last_written[0] == report.latest_day:
            report.latest = last_written[1]  # just written: no need to read it back
        else:
            report.latest = read_partition(s3, cleaned_bucket, report.latest_day)
    return report


def rejected_in(s3: Any, cleaned_bucket: str, day: str) -> list[dict]:
    return s3_ops.get_json(s3, cleaned_bucket, object_keys.rejects_key(day)) or []


