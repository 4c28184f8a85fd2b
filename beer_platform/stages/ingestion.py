"""Ingestion: the whole catalogue from the PunkAPI, published to the Kinesis stream once a day."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from beer_platform.aws import s3 as s3_ops
from beer_platform.aws.kinesis import PublishReport, publish
from beer_platform.stream.records import StreamRecord
from beer_platform.lake.object_keys import state_key
from beer_platform.punkapi_client import PunkAPIClient


@dataclass
class IngestionReport:
    fetched: int
    published: int
    content_sha256: str
    already_published_at: str | None
    fetch_s: float
    publish_s: float
    api_stats: dict[str, Any]
    publish_report: PublishReport = field(default_factory=PublishReport)


def to_stream_records(beers: list[dict]) -> list[StreamRecord]:
    """One record per beer, keyed by its id so a beer's versions stay ordered on one shard."""
    return [
        StreamRecord(partition_key=str(beer["id"]), data=json.dumps(beer, ensure_ascii=False).encode())
        for beer in beers
    ]


def content_hash(records: list[StreamRecord]) -> str:
    digest = hashlib.sha256()
    for record in records:
        digest.update(record.partition_key.encode() + b"\0" + record.data + b"\n")
    return digest.hexdigest()


def marker_key(day: date) -> str:
    return state_key("beer_events", f"{day.isoformat()}.json")


def ingest(
    api: PunkAPIClient, kinesis: Any, s3: Any, stream: str, state_bucket: str, today: date | None = None
) -> IngestionReport:
    """Fetch every beer, then publish them, unless the same catalogue was already published today.

    Nothing is published until the whole catalogue has been fetched, so a failing API leaves the
    stream untouched; the per-day marker makes a re-run on the same day a no-op.
    """
    today = today or datetime.now(UTC).date()
    started = time.perf_counter()
    beers = api.fetch_all()
    fetched_at = time.perf_counter()
    records = to_stream_records(beers)
    digest = content_hash(records)
    marker = s3_ops.get_json(s3, state_bucket, marker_key(today))
    report = IngestionReport(
        fetched=len(beers), published=0, content_sha256=digest, already_published_at=None,
        fetch_s=fetched_at - started, publish_s=0.0, api_stats=api.stats.as_dict(),
    )  # fmt: skip
    if marker and marker["content_sha256"] == digest:
        report.already_published_at = marker["published_at"]
        return report
    report.publish_report = publish(kinesis, stream, records)
    report.published = report.publish_report.records
    report.publish_s = time.perf_counter() - fetched_at
    s3_ops.put_json(
        s3, state_bucket, marker_key(today),
        {"content_sha256": digest, "records": len(records), "published_at": datetime.now(UTC).isoformat(),
         "shard_ranges": {k: [str(v) for v in r] for k, r in report.publish_report.shard_ranges.items()}},
    )  # fmt: skip
    return report
