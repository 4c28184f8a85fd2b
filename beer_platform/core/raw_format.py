"""The raw zone's record format: one JSON line per stream record, grouped in one part per day.

A line is an envelope around the payload exactly as it was published:
`{"shard_id", "sequence_number", "arrival_timestamp", "partition_key", "data"}`; a payload that
is not JSON is kept byte for byte as `data_base64` instead of `data`.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from beer_platform.core.stream_records import ReceivedRecord


def envelope(record: ReceivedRecord) -> dict:
    line = {
        "shard_id": record.shard_id,
        "sequence_number": record.sequence_number,
        "arrival_timestamp": record.arrival_timestamp.isoformat(),
        "partition_key": record.partition_key,
    }
    try:
        line["data"] = json.loads(record.data)
    except ValueError:
        line["data_base64"] = base64.b64encode(record.data).decode("ascii")
    return line


def group_by_day(records: Iterable[ReceivedRecord]) -> dict[date, list[dict]]:
    """Envelopes per ingestion day (the UTC day the stream received the record)."""
    days: dict[date, list[dict]] = defaultdict(list)
    for record in records:
        days[record.arrival_timestamp.date()].append(envelope(record))
    return dict(days)


def record_key(line: dict) -> tuple[str, int]:
    return line["shard_id"], int(line["sequence_number"])


def merge(existing: list[dict], new: list[dict]) -> tuple[list[dict], int]:
    """Add `new` lines to a part's lines unless already there; return (lines, how many added).

    (shard, sequence number) identifies a stream record, so re-landing a range after a run that
    died between writing the part and committing the checkpoint adds nothing.
    """
    seen = {record_key(line) for line in existing}
    merged = list(existing)
    for line in new:
        key = record_key(line)
        if key not in seen:
            seen.add(key)
            merged.append(line)
    merged.sort(key=lambda line: (line["arrival_timestamp"], record_key(line)))
    return merged, len(merged) - len(existing)


def encode_part(lines: list[dict]) -> bytes:
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    # mtime=0: the same lines always give the same bytes (and ETag), so re-runs are no-ops.
    return gzip.compress(body, mtime=0)


def decode_part(blob: bytes) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(blob).splitlines() if line.strip()]

