"""The baseline of bench_landing: the raw landing as it was before append-only parts (kept here,
never in the package). One gzipped part per day, `part-0.jsonl.gz`: each landing reads the
day's part, decodes every line, merges the new records in (skipping those already there), sorts,
re-encodes and rewrites the whole part. Cost and memory grow with what the day already holds."""

from __future__ import annotations

import gzip
import json
from typing import Any

from beer_platform.aws import s3 as s3_ops
from beer_platform.lake import object_keys
from beer_platform.stream.records import ReceivedRecord


def part_key(day: str) -> str:
    return object_keys.partition_prefix(object_keys.RAW_PREFIX, day) + "part-0.jsonl.gz"


def envelope(record: ReceivedRecord) -> dict:
    return {"shard_id": record.shard_id, "sequence_number": record.sequence_number,
            "arrival_timestamp": record.arrival_timestamp.isoformat(), "partition_key": record.partition_key,
            "data": json.loads(record.data)}  # fmt: skip


def encode_part(lines: list[dict]) -> bytes:
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    return gzip.compress(body, mtime=0)


def decode_part(blob: bytes) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(blob).splitlines() if line.strip()]


def merge(existing: list[dict], new: list[dict]) -> tuple[list[dict], int]:
    key = lambda line: (line["shard_id"], int(line["sequence_number"]))  # noqa: E731
    seen = {key(line) for line in existing}
    merged = list(existing)
    for line in new:
        if key(line) not in seen:
            seen.add(key(line))
            merged.append(line)
    merged.sort(key=lambda line: (line["arrival_timestamp"], key(line)))
    return merged, len(merged) - len(existing)


def land_day(s3: Any, bucket: str, day: str, records: list[ReceivedRecord]) -> int:
    """Land `records` (all of `day`) the old way; return how many were added."""
    existing_blob = s3_ops.get_bytes(s3, bucket, part_key(day))
    existing = decode_part(existing_blob) if existing_blob else []
    merged, added = merge(existing, [envelope(record) for record in records])
    if added:
        s3.put_object(Bucket=bucket, Key=part_key(day), Body=encode_part(merged))
    return added
