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
