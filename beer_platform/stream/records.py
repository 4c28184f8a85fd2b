"""The two shapes a beer takes on its way through the stream."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StreamRecord:
    """A record to publish."""

    partition_key: str
    data: bytes

    @property
    def size(self) -> int:
        # Kinesis counts the partition key against both of its size limits.
        return len(self.data) + len(self.partition_key.encode())


@dataclass(frozen=True)
class ReceivedRecord:
    """A record as read back from the stream."""

    shard_id: str
    sequence_number: str
    arrival_timestamp: datetime
    partition_key: str
    data: bytes


@dataclass(frozen=True)
class Shard:
    """A shard as ListShards describes it: its parents (after a split or merge) and, once closed,
    the sequence number of its last record."""

    shard_id: str
    parents: tuple[str, ...] = ()
    ending_sequence_number: str | None = None

    @property
    def closed(self) -> bool:
        return self.ending_sequence_number is not None


def lineage_order(shards: list[Shard]) -> list[Shard]:
    """Parents before their children (then by shard id), so that reading shards in this order
    reads a key's older records, on the parent, before its newer ones, on a child. A parent that
    is no longer listed (expired) constrains nothing."""
    listed = {shard.shard_id: shard for shard in shards}
    ordered: list[Shard] = []
    done: set[str] = set()
    pending = sorted(listed)
    while pending:
        ready = [sid for sid in pending if all(p in done or p not in listed for p in listed[sid].parents)]
        if not ready:  # a cycle cannot come from Kinesis; read the rest rather than nothing
            ready = pending
        for shard_id in ready:
            ordered.append(listed[shard_id])
            done.add(shard_id)
        pending = [sid for sid in pending if sid not in done]
    return ordered


# The key a prediction record's log line carries (`{"beer_platform_prediction": {...}}`): what the
# Lambda prints, what its log group's subscription filter matches (infra, serving module), what
# the lake reads a delivered log line by.
PREDICTION_LOG_KEY = "beer_platform_prediction"
