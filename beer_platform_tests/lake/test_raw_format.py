import gzip
import json
from datetime import UTC, date, datetime

import pytest

from beer_platform.lake import object_keys
from beer_platform.lake import raw_format
from beer_platform.stream.records import ReceivedRecord, Shard, lineage_order


def received(seq: int, beer_id: int, when: datetime, shard: str = "shardId-000000000000", data: bytes | None = None):
    payload = data if data is not None else json.dumps({"id": beer_id, "name": f"beer {beer_id}"}).encode()
    return ReceivedRecord(shard, str(seq), when, str(beer_id), payload)


DAY1 = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
DAY2 = datetime(2026, 11, 26, 0, 1, tzinfo=UTC)


def line_of(record: ReceivedRecord) -> dict:
    return json.loads(raw_format.envelope_line(record))


def test_a_batch_is_cut_where_the_ingestion_day_changes():
    runs = raw_format.day_runs([received(1, 1, DAY1), received(2, 2, DAY2), received(3, 3, DAY2)])
    assert [(day, [r.sequence_number for r in run]) for day, run in runs] == [
        (date(2026, 11, 25), ["1"]), (date(2026, 11, 26), ["2", "3"])]  # fmt: skip
    assert raw_format.day_runs([]) == []


def test_the_payload_is_kept_byte_for_byte_and_non_json_as_base64():
    payload = '{"id":7,  "name": "Über Hop", "ibu": 60.0, "method": {"twist": null}}'.encode()
    raw = raw_format.envelope_line(received(1, 7, DAY1, data=payload))
    assert raw.endswith(b', "data": ' + payload + b"}\n")  # spliced in, not re-serialised
    line = json.loads(raw)
    assert line["data"] == json.loads(payload) and line["sequence_number"] == "1" and line["partition_key"] == "7"
    for not_json in (b"\xff{not json", b'{"id": NaN}', "{}".encode("utf-16")):
        broken = line_of(received(2, 8, DAY1, data=not_json))
        assert "data" not in broken and broken["data_base64"] == __import__("base64").b64encode(not_json).decode()


def test_a_payload_with_raw_line_breaks_stays_one_line():
    raw = raw_format.envelope_line(received(1, 7, DAY1, data=b'{"id": 7,\n "name": "x"}'))
    assert raw.count(b"\n") == 1 and json.loads(raw)["data"] == {"id": 7, "name": "x"}


def test_parts_round_trip_and_encode_deterministically():
    lines = [raw_format.envelope_line(received(s, s, DAY2)) for s in (9, 10)]
    blob = raw_format.encode_part(lines)
    assert [line["sequence_number"] for line in raw_format.decode_part(blob)] == ["9", "10"]
    assert raw_format.encode_part(lines) == blob  # same bytes, same ETag: a re-landing changes nothing
    assert gzip.decompress(blob) == b"".join(lines)


def test_part_keys_name_the_day_the_shard_and_the_range():
    key = object_keys.raw_part_key(date(2026, 11, 26), "shardId-000000000001", "17", "342")
    assert key == "beers/ingestion_date=2026-11-26/part-shardId-000000000001-17-342.jsonl.gz"
    assert key.startswith(object_keys.raw_parts_starting_at("2026-11-26", "shardId-000000000001", "17"))
    assert not key.startswith(object_keys.raw_parts_starting_at("2026-11-26", "shardId-000000000001", "1"))
    name = object_keys.parse_raw_part_key(key)
    assert (name.day, name.shard_id, name.first_sequence, name.last_sequence) == (
        "2026-11-26", "shardId-000000000001", "17", "342")  # fmt: skip
    with pytest.raises(ValueError, match="not a raw part key"):
        object_keys.parse_raw_part_key("beers/ingestion_date=2026-11-26/part-0.jsonl.gz")


def test_parents_are_read_before_their_children():
    shards = [Shard("s4", ("s1",)), Shard("s3", ("s1",)), Shard("s5", ("s2", "s3")), Shard("s2"),
              Shard("s1", ending_sequence_number="9"), Shard("s6", ("gone",))]  # fmt: skip
    order = [s.shard_id for s in lineage_order(shards)]
    assert order.index("s1") < order.index("s3") < order.index("s5")
    assert order.index("s2") < order.index("s5") and order.index("s1") < order.index("s4")
    assert sorted(order) == ["s1", "s2", "s3", "s4", "s5", "s6"]  # an expired parent holds nothing back
