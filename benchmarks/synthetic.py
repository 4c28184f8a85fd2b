"""Synthetic stream records for the lake benchmarks: the 325 real beers replicated under new ids,
made on demand (a million of them cost no memory until read)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import overload

from beer_platform.local.punkapi_replica import load_beers
from beer_platform_tests.kinesis_standin import FIRST_SEQUENCE, StoredRecord

START = datetime(2026, 11, 26, tzinfo=UTC)
RECORDS_PER_SECOND = 500  # arrival times: a put_records batch a second


def _tails() -> list[str]:
    """Each beer serialised once, without its id: a record is then one string format, not a dumps."""
    tails = []
    for beer in load_beers():
        text = json.dumps(beer, ensure_ascii=False)
        head = f'{{"id": {beer["id"]}'
        assert text.startswith(head + ","), "the API puts id first"
        tails.append(text[len(head):])
    return tails


TAILS = _tails()


def payload(index: int) -> bytes:
    """Record `index`'s data: beer `index % 325` published under id `index + 1`."""
    return f'{{"id": {index + 1}{TAILS[index % len(TAILS)]}'.encode()


class SyntheticShard(Sequence[StoredRecord]):
    """Shard `shard` of `shards`: records `shard`, `shard + shards`, ... of `total`, in order."""

    def __init__(self, shard: int, shards: int, total: int, first_index: int = 0, start: datetime = START) -> None:
        self.shard, self.shards, self.first_index, self.start = shard, shards, first_index, start
        self.count = len(range(shard, total, shards))

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, position: int) -> StoredRecord: ...
    @overload
    def __getitem__(self, position: slice) -> list[StoredRecord]: ...

    def __getitem__(self, position: int | slice) -> StoredRecord | list[StoredRecord]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(self.count))]
        if not 0 <= position < self.count:
            raise IndexError(position)
        index = self.first_index + position * self.shards + self.shard
        arrival = self.start + timedelta(seconds=(index - self.first_index) // RECORDS_PER_SECOND)
        return StoredRecord(FIRST_SEQUENCE + index * 1000, arrival, str(index + 1), payload(index))
