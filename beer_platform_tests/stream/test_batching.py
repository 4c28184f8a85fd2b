import pytest

from beer_platform.stream.batching import (
    MAX_BYTES_PER_BATCH,
    MAX_RECORDS_PER_BATCH,
    RecordTooLargeError,
    batch_records,
)
from beer_platform.stream.records import StreamRecord


def records(n: int, size: int) -> list[StreamRecord]:
    return [StreamRecord(partition_key=str(i), data=b"x" * size) for i in range(n)]


def test_the_325_beers_fit_in_one_batch_of_at_most_500():
    batches = list(batch_records(records(325, 2_000)))
    assert [len(b) for b in batches] == [325]


def test_more_than_500_records_are_split_in_order():
    batches = list(batch_records(records(1_201, 10)))
    assert [len(b) for b in batches] == [500, 500, 201]
    assert [r.partition_key for b in batches for r in b] == [str(i) for i in range(1_201)]


def test_batches_stay_under_five_mebibytes_counting_partition_keys():
    batches = list(batch_records(records(100, 200_000)))
    assert all(sum(r.size for r in b) <= MAX_BYTES_PER_BATCH for b in batches)
    assert all(len(b) <= MAX_RECORDS_PER_BATCH for b in batches)
    assert sum(len(b) for b in batches) == 100
    assert len(batches) == 4  # 26 records of ~200 kB fill 5 MiB


def test_a_record_over_one_mebibyte_is_refused_with_its_key():
    too_big = [StreamRecord(partition_key="317", data=b"x" * (1024 * 1024))]
    with pytest.raises(RecordTooLargeError, match="317"):
        list(batch_records(too_big))


def test_no_records_no_batches():
    assert list(batch_records([])) == []
