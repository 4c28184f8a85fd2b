"""An in-memory Kinesis data stream behind the boto3 client's methods the platform calls, with
AWS's semantics where moto's differ. For tests and benchmarks only.

What moto 5.2.5 does differently (measured): after a split or UpdateShardCount it keeps writing
new records to the closed parent shards and never to the children; it never trims records past
the retention; it never throttles. Here, as in AWS: a closed parent keeps its records and
receives no more, its children start empty and take the new records by hash key; sequence
numbers grow across the whole stream (56 digits, as AWS's); records older than the retention
(by `clock`, which a test moves) are trimmed, and a closed shard whose records are all trimmed is
no longer listed; GetRecords past the end of a closed shard returns no NextShardIterator.

`records` may be given per shard as any sequence (a benchmark passes one that makes its records
on demand, so that a million of them cost no memory here).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

FIRST_SEQUENCE = 49590338271490256608559692538361571095921575989136588898
HASH_SPACE = 2**128


@dataclass(frozen=True)
class StoredRecord:
    sequence_number: int
    arrival: datetime
    partition_key: str
    data: bytes


@dataclass
class StandinShard:
    shard_id: str
    start_hash: int
    end_hash: int  # inclusive
    parents: tuple[str, ...] = ()
    records: Sequence[StoredRecord] = field(default_factory=list)
    ending_sequence: int | None = None

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "ShardId": self.shard_id,
            "HashKeyRange": {"StartingHashKey": str(self.start_hash), "EndingHashKey": str(self.end_hash)},
            "SequenceNumberRange": {"StartingSequenceNumber": str(FIRST_SEQUENCE)},
        }
        if self.parents:
            described["ParentShardId"] = self.parents[0]
        if len(self.parents) > 1:
            described["AdjacentParentShardId"] = self.parents[1]
        if self.ending_sequence is not None:
            described["SequenceNumberRange"]["EndingSequenceNumber"] = str(self.ending_sequence)
        return described


def _error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class InMemoryKinesis:
    def __init__(self, stream: str, shards: int = 2, retention_hours: int = 24, now: datetime | None = None) -> None:
        self.stream = stream
        self.retention_hours = retention_hours
        self.now = now or datetime(2026, 12, 1, 6, tzinfo=UTC)
        self.next_sequence = FIRST_SEQUENCE
        step = HASH_SPACE // shards
        self.shards: dict[str, StandinShard] = {}
        for index in range(shards):
            end = HASH_SPACE - 1 if index == shards - 1 else (index + 1) * step - 1
            self._add(StandinShard(self._shard_id(index), index * step, end))
        self.calls: dict[str, int] = {}

    # --- the clock and the retention --------------------------------------------------------------

    def clock(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def _horizon(self) -> datetime:
        return self.now - timedelta(hours=self.retention_hours)

    def _live(self, shard: StandinShard) -> list[StoredRecord] | Sequence[StoredRecord]:
        horizon = self._horizon()
        records = shard.records
        if not records or records[0].arrival >= horizon:
            return records
        return [r for r in records if r.arrival >= horizon]

    # --- the boto3 methods ------------------------------------------------------------------------

    def _count(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self._count("PutRecords")
        results = []
        for item in Records:
            shard = self._shard_for(item["PartitionKey"])
            sequence = self.next_sequence
            self.next_sequence += 1000
            assert isinstance(shard.records, list), "records made on demand are read-only"
            shard.records.append(StoredRecord(sequence, self.now, item["PartitionKey"], bytes(item["Data"])))
            results.append({"ShardId": shard.shard_id, "SequenceNumber": str(sequence)})
        return {"Records": results}

    def describe_stream_summary(self, StreamName: str) -> dict[str, Any]:
        self._count("DescribeStreamSummary")
        return {"StreamDescriptionSummary": {"StreamName": self.stream, "RetentionPeriodHours": self.retention_hours,
                                             "OpenShardCount": sum(s.ending_sequence is None for s in self.shards.values())}}  # fmt: skip

    def list_shards(self, StreamName: str | None = None, NextToken: str | None = None, **_: Any) -> dict[str, Any]:
        self._count("ListShards")
        listed = [s for s in self.shards.values() if s.ending_sequence is None or self._live(s)]
        return {"Shards": [s.describe() for s in listed]}

    def get_shard_iterator(self, StreamName: str, ShardId: str, ShardIteratorType: str,
                           StartingSequenceNumber: str | None = None, **_: Any) -> dict[str, Any]:  # fmt: skip
        self._count("GetShardIterator")
        if ShardId not in self.shards:
            raise _error("ResourceNotFoundException", "GetShardIterator")
        if ShardIteratorType == "TRIM_HORIZON":
            after = -1
        elif ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            after = int(StartingSequenceNumber or 0)
        elif ShardIteratorType == "AT_SEQUENCE_NUMBER":
            after = int(StartingSequenceNumber or 0) - 1
        else:
            raise _error("InvalidArgumentException", "GetShardIterator")
        return {"ShardIterator": base64.b64encode(f"{ShardId}:{after}".encode()).decode()}

    def get_records(self, ShardIterator: str, Limit: int = 10_000) -> dict[str, Any]:
        self._count("GetRecords")
        shard_id, after = base64.b64decode(ShardIterator).decode().rsplit(":", 1)
        shard = self.shards[shard_id]
        live = self._live(shard)
        start = _first_after(live, int(after))
        page = [live[i] for i in range(start, min(len(live), start + Limit))]
        last = page[-1].sequence_number if page else int(after)
        response: dict[str, Any] = {
            "Records": [{"SequenceNumber": str(r.sequence_number), "ApproximateArrivalTimestamp": r.arrival,
                         "PartitionKey": r.partition_key, "Data": r.data} for r in page],  # fmt: skip
            "MillisBehindLatest": 0 if start + len(page) >= len(live) else 1000,
        }
        ended = shard.ending_sequence is not None and start + len(page) >= len(live)
        response["NextShardIterator"] = None if ended else base64.b64encode(f"{shard_id}:{last}".encode()).decode()
        if ended:
            response["ChildShards"] = [{"ShardId": s.shard_id} for s in self.shards.values() if shard_id in s.parents]
        return response

    def split_shard(self, StreamName: str, ShardToSplit: str, NewStartingHashKey: str) -> dict[str, Any]:
        self._count("SplitShard")
        parent = self.shards[ShardToSplit]
        middle = int(NewStartingHashKey)
        parent.ending_sequence = parent.records[-1].sequence_number if parent.records else self.next_sequence
        index = len(self.shards)
        self._add(StandinShard(self._shard_id(index), parent.start_hash, middle - 1, (parent.shard_id,)))
        self._add(StandinShard(self._shard_id(index + 1), middle, parent.end_hash, (parent.shard_id,)))
        return {}

    def update_shard_count(self, StreamName: str, TargetShardCount: int, ScalingType: str) -> dict[str, Any]:
        """Doubling only (every open shard split in two), which is what the tests need."""
        self._count("UpdateShardCount")
        open_shards = [s for s in self.shards.values() if s.ending_sequence is None]
        assert TargetShardCount == 2 * len(open_shards), "the stand-in only doubles"
        for shard in open_shards:
            self.split_shard(StreamName, shard.shard_id, str((shard.start_hash + shard.end_hash + 1) // 2))
        return {}

    # --- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _shard_id(index: int) -> str:
        return f"shardId-{index:012d}"

    def _add(self, shard: StandinShard) -> None:
        self.shards[shard.shard_id] = shard

    def _shard_for(self, partition_key: str) -> StandinShard:
        hashed = int(hashlib.md5(partition_key.encode()).hexdigest(), 16)
        return next(s for s in self.shards.values()
                    if s.ending_sequence is None and s.start_hash <= hashed <= s.end_hash)  # fmt: skip


def _first_after(records: Sequence[StoredRecord], after: int) -> int:
    """Index of the first record with a sequence number above `after` (records are in order)."""
    low, high = 0, len(records)
    while low < high:
        mid = (low + high) // 2
        if records[mid].sequence_number <= after:
            low = mid + 1
        else:
            high = mid
    return low
