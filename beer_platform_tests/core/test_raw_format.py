import json
from datetime import UTC, date, datetime

from beer_platform.core import object_keys, raw_format
from beer_platform.core.stream_records import ReceivedRecord


def received(seq: int, beer_id: int, when: datetime, shard: str = "shardId-000000000000", data: bytes | None = None):
    payload = data if data is not None else json.dumps({"id": beer_id, "name": f"beer {beer_id}"}).encode()
    return ReceivedRecord(shard, str(seq), when, str(beer_id), payload)


DAY1 = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
DAY2 = datetime(2026, 11, 26, 0, 1, tzinfo=UTC)


def test_records_are_grouped_by_the_day_the_stream_received_them():
    days = raw_format.group_by_day([received(1, 1, DAY1), received(2, 2, DAY2), received(3, 3, DAY2)])
    assert sorted(days) == [date(2026, 11, 25), date(2026, 11, 26)]
    assert [line["data"]["id"] for line in days[date(2026, 11, 26)]] == [2, 3]


def test_the_payload_is_kept_as_published_and_non_json_is_kept_byte_for_byte():
    beer = {"id": 7, "name": "Über Hop", "ibu": 60, "method": {"twist": None}}
    line = raw_format.envelope(received(1, 7, DAY1, data=json.dumps(beer).encode()))
    assert line["data"] == beer and list(line["data"]) == list(beer)
    assert line["sequence_number"] == "1" and line["partition_key"] == "7"
    broken = raw_format.envelope(received(2, 8, DAY1, data=b"\xff{not json"))
    assert "data" not in broken and broken["data_base64"] == "/3tub3QganNvbg=="


def test_merging_a_range_landed_before_adds_nothing():
    first = [raw_format.envelope(received(s, s, DAY2)) for s in (1, 2, 3)]
    part, added = raw_format.merge([], first)
    assert added == 3
    again = [raw_format.envelope(received(s, s, DAY2)) for s in (2, 3, 4)]
    part, added = raw_format.merge(part, again)
    assert added == 1
    assert [line["sequence_number"] for line in part] == ["1", "2", "3", "4"]


def test_same_sequence_number_on_another_shard_is_another_record():
    a = raw_format.envelope(received(5, 1, DAY2, shard="shardId-000000000000"))
    b = raw_format.envelope(received(5, 2, DAY2, shard="shardId-000000000001"))
    part, added = raw_format.merge([a], [b])
    assert added == 1 and len(part) == 2


def test_parts_round_trip_and_encode_deterministically():
    lines = [raw_format.envelope(received(s, s, DAY2)) for s in (10, 9)]
    part, _ = raw_format.merge([], lines)
    assert [line["sequence_number"] for line in part] == ["9", "10"]  # integer order
    blob = raw_format.encode_part(part)
    assert raw_format.decode_part(blob) == part
    assert raw_format.encode_part(part) == blob  # same bytes, same ETag: re-runs change nothing


def test_part_keys_are_hive_partitions_by_day():
    key = object_keys.raw_part_key(date(2026, 11, 26))
    assert key == "beers/ingestion_date=2026-11-26/part-0.jsonl.gz"
    assert object_keys.day_of_key(key) == "2026-11-26"
