"""Publish to and read from a Kinesis data stream with a plain boto3 client (no Dagster)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from beer_platform.core.batching import batch_records
from beer_platform.core.stream_records import ReceivedRecord, StreamRecord


class PublishError(RuntimeError):
    pass


@dataclass
class PublishReport:
    records: int = 0
    put_calls: int = 0
    retried_records: int = 0
    # shard id -> [first, last] sequence number (as int: moto's are small, AWS's have 56 digits)
    shard_ranges: dict[str, list[int]] = field(default_factory=dict)

    def _track(self, shard_id: str, sequence_number: str) -> None:
        seq = int(sequence_number)
        lo_hi = self.shard_ranges.setdefault(shard_id, [seq, seq])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], seq), max(lo_hi[1], seq)


def publish(
    client: Any,
    stream: str,
    records: Sequence[StreamRecord],
    max_attempts: int = 6,
    backoff_initial: float = 0.1,
    backoff_max: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishReport:
    """Send every record with batched `put_records`, re-sending only the records that failed.

    Raises PublishError when some records still fail after `max_attempts`; the records that
    did go through are then already in the stream (Kinesis has no transactions), which the
    raw zone tolerates because it de-duplicates by (shard, sequence number).
    """
    report = PublishReport()
    for batch in batch_records(records):
        pending = batch
        for attempt in range(1, max_attempts + 1):
            response = client.put_records(
                StreamName=stream,
                Records=[{"Data": r.data, "PartitionKey": r.partition_key} for r in pending],
            )
            report.put_calls += 1
            failed: list[StreamRecord] = []
            errors: set[str] = set()
            for record, result in zip(pending, response["Records"], strict=True):
                if "ErrorCode" in result:
                    failed.append(record)
                    errors.add(result["ErrorCode"])
                else:
                    report._track(result["ShardId"], result["SequenceNumber"])
            report.records += len(pending) - len(failed)
            if not failed:
                break
            if attempt == max_attempts:
                raise PublishError(
                    f"{len(failed)} of {len(records)} records still failed after {max_attempts} "
                    f"attempts to put_records on stream {stream!r} ({', '.join(sorted(errors))})"
                )
            report.retried_records += len(failed)
            pending = failed
            # Exponential backoff with full jitter: failed records are usually throttling.
            sleep(random.uniform(0, min(backoff_max, backoff_initial * 2 ** (attempt - 1))))
    return report


def read_after(
    client: Any, stream: str, positions: dict[str, str], page_limit: int = 10_000
) -> tuple[list[ReceivedRecord], dict[str, str]]:
    """Read every record after `positions` (shard id -> last sequence number read) up to the tip.

    Returns the records in shard then sequence order, and the new positions. Shards absent from
    `positions` are read from their start (TRIM_HORIZON).
    """
    records: list[ReceivedRecord] = []
    new_positions = dict(positions)
    shards = _list_shards(client, stream)
    for shard_id in shards:
        args: dict[str, Any] = {"StreamName": stream, "ShardId": shard_id}
        if shard_id in positions:
            args |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": positions[shard_id]}
        else:
            args |= {"ShardIteratorType": "TRIM_HORIZON"}
        iterator = client.get_shard_iterator(**args)["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=page_limit)
            for item in page["Records"]:
                records.append(
                    ReceivedRecord(
                        shard_id=shard_id,
                        sequence_number=item["SequenceNumber"],
                        arrival_timestamp=item["ApproximateArrivalTimestamp"],
                        partition_key=item["PartitionKey"],
                        data=item["Data"],
                    )
                )
                new_positions[shard_id] = item["SequenceNumber"]
            # At the tip of an open shard the iterator never ends: stop once caught up.
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    return records, new_positions


def _list_shards(client: Any, stream: str) -> list[str]:
    shards: list[str] = []
    args: dict[str, Any] = {"StreamName": stream}
    while True:
        page = client.list_shards(**args)
        shards += [s["ShardId"] for s in page["Shards"]]
        if not page.get("NextToken"):
            return shards
        args = {"NextToken": page["NextToken"]}
