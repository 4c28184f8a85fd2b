"""Publish to and read from a Kinesis data stream with a plain boto3 client (no Dagster).

Reading is shard by shard, a bounded batch at a time (`ShardReader`), so memory is bounded by the
batch whatever the backlog. Throttling is retried with exponential backoff and full jitter (on top
of botocore's own retries, which a long throttle can exhaust), and an expired iterator is replaced
by a new one after the last record read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from beer_platform.stream.batching import batch_records
from beer_platform.stream.records import ReceivedRecord, Shard, StreamRecord


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



# Retried with backoff: the shard (or the account's control plane) is over its rate right now.
THROTTLING = {"ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException",
              "KMSThrottlingException"}  # fmt: skip
EXPIRED_ITERATOR = "ExpiredIteratorException"
PAGE_LIMIT = 10_000  # GetRecords' maximum


@dataclass
class Backoff:
    max_attempts: int = 8
    initial_s: float = 0.2
    max_s: float = 10.0
    sleep: Callable[[float], None] = time.sleep

    def call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """`fn(**kwargs)`, retried while Kinesis answers that it is throttling."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return fn(**kwargs)
            except ClientError as error:
                if error_code(error) not in THROTTLING or attempt == self.max_attempts:
                    raise
            self.sleep(random.uniform(0, min(self.max_s, self.initial_s * 2 ** (attempt - 1))))
        raise AssertionError("unreachable")


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def list_shards(client: Any, stream: str, backoff: Backoff | None = None) -> list[Shard]:
    backoff = backoff or Backoff()
    shards: list[Shard] = []
    args: dict[str, Any] = {"StreamName": stream}
    while True:
        page = backoff.call(client.list_shards, **args)
        for item in page["Shards"]:
            parents = tuple(item[key] for key in ("ParentShardId", "AdjacentParentShardId") if item.get(key))
            ending = item.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
            shards.append(Shard(item["ShardId"], parents, ending))
        if not page.get("NextToken"):
            return shards
        args = {"NextToken": page["NextToken"]}


def retention_hours(client: Any, stream: str, backoff: Backoff | None = None) -> int:
    summary = (backoff or Backoff()).call(client.describe_stream_summary, StreamName=stream)
    return int(summary["StreamDescriptionSummary"]["RetentionPeriodHours"])


def _received(shard_id: str, item: dict[str, Any]) -> ReceivedRecord:
    return ReceivedRecord(
        shard_id=shard_id,
        sequence_number=item["SequenceNumber"],
        arrival_timestamp=item["ApproximateArrivalTimestamp"],
        partition_key=item["PartitionKey"],
        data=item["Data"],
    )


class ShardReader:
    """One shard's records after `after` (a sequence number; None: from the trim horizon), in
    batches of at most `batch_records` records and `batch_bytes` bytes (data + partition key).

    After `batches()` is exhausted: `position` is the last sequence number read, `caught_up_at`
    when the shard's tip was reached (None if the shard ended first), `ended` whether the shard
    is closed and was read to its end (its children may then be read).
    """

    def __init__(
        self, client: Any, stream: str, shard: Shard, after: str | None, *, batch_records: int,
        batch_bytes: int, backoff: Backoff | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:  # fmt: skip
        self.client, self.stream, self.shard = client, stream, shard
        self.position = after
        self.batch_records, self.batch_bytes = batch_records, batch_bytes
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.caught_up_at: datetime | None = None
        self.ended = False
        self.expired_iterators = 0

    def _iterator(self) -> str:
        args: dict[str, Any] = {"StreamName": self.stream, "ShardId": self.shard.shard_id}
        if self.position is None:
            args["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            args |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": self.position}
        return self.backoff.call(self.client.get_shard_iterator, **args)["ShardIterator"]

    def _page(self, iterator: str) -> tuple[dict[str, Any], str]:
        while True:
            try:
                return self.backoff.call(self.client.get_records, ShardIterator=iterator, Limit=PAGE_LIMIT), iterator
            except ClientError as error:
                if error_code(error) != EXPIRED_ITERATOR:
                    raise
                # Iterators live 5 minutes: a slow batch write can outlive one. Resume after the
                # last record read, which is still held in the batch being built.
                self.expired_iterators += 1
                iterator = self._iterator()

    def batches(self) -> Iterator[list[ReceivedRecord]]:
        batch: list[ReceivedRecord] = []
        size = 0
        iterator: str | None = self._iterator()
        while iterator is not None:
            asked_at = self.clock()
            page, iterator = self._page(iterator)
            for item in page["Records"]:
                record = _received(self.shard.shard_id, item)
                batch.append(record)
                self.position = record.sequence_number
                size += len(record.data) + len(record.partition_key.encode())
                if len(batch) >= self.batch_records or size >= self.batch_bytes:
                    yield batch
                    batch, size = [], 0
            iterator = page.get("NextShardIterator")
            if iterator is None:  # a closed shard, read to its end (AWS then names its children)
                self.ended = True
            elif not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                # At the tip of an open shard the iterator never ends: stop once caught up.
                self.caught_up_at = asked_at
                self.ended = self.shard.closed  # moto keeps a closed shard's iterator open
                iterator = None
        if batch:
            yield batch


def first_available(client: Any, stream: str, shard_id: str, backoff: Backoff | None = None,
                    max_pages: int = 20) -> ReceivedRecord | None:  # fmt: skip
    """The oldest record the shard still holds (its trim horizon), or None when it holds none."""
    backoff = backoff or Backoff()
    iterator = backoff.call(client.get_shard_iterator, StreamName=stream, ShardId=shard_id,
                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
    for _ in range(max_pages):  # Kinesis may answer empty pages before reaching the first record
        page = backoff.call(client.get_records, ShardIterator=iterator, Limit=1)
        if page["Records"]:
            return _received(shard_id, page["Records"][0])
        iterator = page.get("NextShardIterator")
        if iterator is None or page.get("MillisBehindLatest", 0) == 0:
            return None
    return None
