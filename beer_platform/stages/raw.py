"""The raw zone: land the stream's new records, as received, in one gzipped JSON-lines part per day.

Exactly once: positions (the last sequence number landed per shard) are committed only after the
parts are written, and merging into a part skips records it already holds, so a run that died
between the two steps lands nothing twice when it is re-run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from beer_platform.aws import s3 as s3_ops
from beer_platform.aws.kinesis import read_after
from beer_platform.core import raw_format
from beer_platform.core import object_keys

CHECKPOINT_KEY = object_keys.state_key("raw_beers", "checkpoint.json")


@dataclass
class LandingReport:
    read: int = 0
    landed: int = 0
    already_landed: int = 0
    parts_written: list[str] = field(default_factory=list)
    positions: dict[str, str] = field(default_factory=dict)
    latest_part: str | None = None
    latest_part_records: int = 0


def land(kinesis: Any, s3: Any, stream: str, raw_bucket: str, state_bucket: str) -> LandingReport:
    checkpoint = s3_ops.get_json(s3, state_bucket, CHECKPOINT_KEY) or {"positions": {}}
    records, positions = read_after(kinesis, stream, checkpoint["positions"])
    report = LandingReport(read=len(records), positions=positions)
    for day, lines in sorted(raw_format.group_by_day(records).items()):
        key = object_keys.raw_part_key(day)
        existing_blob = s3_ops.get_bytes(s3, raw_bucket, key)
        existing = raw_format.decode_part(existing_blob) if existing_blob else []
        merged, added = raw_format.merge(existing, lines)
        report.landed += added
        report.already_landed += len(lines) - added
        if added:
            s3.put_object(
                Bucket=raw_bucket, Key=key, Body=raw_format.encode_part(merged),
                ContentType="application/x-ndjson", ContentEncoding="gzip",
                Metadata={"records": str(len(merged))},
            )  # fmt: skip
            report.parts_written.append(s3_ops.uri(raw_bucket, key))
    if positions != checkpoint["positions"]:
        commit(s3, state_bucket, positions)
    parts = s3_ops.list_objects(s3, raw_bucket, object_keys.partitions_prefix(object_keys.RAW_PREFIX))
    if parts:
        latest = max(parts, key=lambda p: p.key)
        report.latest_part = s3_ops.uri(raw_bucket, latest.key)
        report.latest_part_records = int((s3_ops.head_metadata(s3, raw_bucket, latest.key) or {}).get("records", 0))
    return report


def commit(s3: Any, state_bucket: str, positions: dict[str, str]) -> None:
    s3_ops.put_json(s3, state_bucket, CHECKPOINT_KEY, {"positions": positions})
