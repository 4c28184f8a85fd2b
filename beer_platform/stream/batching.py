"""Split records into Kinesis `put_records` batches within the service's limits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from beer_platform.stream.records import StreamRecord

MAX_RECORDS_PER_BATCH = 500
MAX_BYTES_PER_BATCH = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1024 * 1024  # data + partition key


class RecordTooLargeError(ValueError):
    pass


def batch_records(
    records: Iterable[StreamRecord],
    max_records: int = MAX_RECORDS_PER_BATCH,
    max_bytes: int = MAX_BYTES_PER_BATCH,
) -> Iterator[list[StreamRecord]]:
    """Yield batches in input order, each within both the record-count and byte limits."""
    batch: list[StreamRecord] = []
    size = 0
    for record in records:
        if record.size > MAX_BYTES_PER_RECORD:
            raise RecordTooLargeError(
                f"record with partition key {record.partition_key!r} is {record.size} bytes; "
                f"Kinesis accepts at most {MAX_BYTES_PER_RECORD}"
            )
        if batch and (len(batch) == max_records or size + record.size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += record.size
    if batch:
        yield batch
