"""Cleaning raw-zone envelopes into the beer catalogue: on the real dataset and on crafted records."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from beer_platform.lake import raw_format
from beer_platform.lake.beers import CLEANED_SCHEMA, data_error_expr, find_anomalies
from beer_platform.lake.latest import CleaningResult, clean_beers
from beer_platform.lake.raw_reader import raw_schema
from beer_platform.lake.raw_reader import read_raw_jsonl as read_with
from beer_platform.stream.records import ReceivedRecord

BEERS_JSON = Path(__file__).resolve().parents[2] / "beer_platform" / "local" / "data" / "beers.json"
T0 = "2026-11-26T03:55:01.123000+00:00"
T1 = "2026-11-26T03:55:02.000000+00:00"


def line(data: Any, sequence: str = "1", arrival: str = T0) -> str:
    """One raw-zone envelope line around `data`."""
    return json.dumps(
        {
            "shard_id": "shardId-000000000000",
            "sequence_number": sequence,
            "arrival_timestamp": arrival,
            "partition_key": "k",
            "data": data,
        }
    )


def read_raw_jsonl(source: Any) -> pl.DataFrame:
    return read_with(source, CLEANED_SCHEMA)


def clean(*lines: str) -> CleaningResult:
    return clean_beers(read_raw_jsonl(list(lines)))


@pytest.fixture(scope="module")
def api_beers() -> list[dict]:
    return json.loads(BEERS_JSON.read_text())


@pytest.fixture(scope="module")
def real(api_beers: list[dict]) -> CleaningResult:
    body = "".join(line(beer, str(i)) + "\n" for i, beer in enumerate(api_beers, start=1))
    raw = read_raw_jsonl(gzip.compress(body.encode()))
    assert raw.schema == raw_schema(CLEANED_SCHEMA)  # the fast typed path, not the per-line fallback
    return clean_beers(raw)


def test_real_dataset_cleans_to_one_typed_row_per_beer(real: CleaningResult) -> None:
    assert real.beers.schema == CLEANED_SCHEMA
    assert list(CLEANED_SCHEMA) == ["id", "name", "abv", "ibu", "target_fg", "target_og", "ebc", "srm", "ph"]
    assert real.beers.height == 325
    assert real.beers["id"].to_list() == list(range(1, 326))
    assert real.rejected.is_empty()


def test_real_dataset_keeps_published_values(real: CleaningResult) -> None:
    rows = {row["id"]: row for row in real.beers.filter(pl.col("id").is_in([1, 137, 169, 317])).to_dicts()}
    assert rows[1] == {
        "id": 1, "name": "Buzz", "abv": 4.5, "ibu": 60.0, "target_fg": 1010.0,
        "target_og": 1044.0, "ebc": 20.0, "srm": 10.0, "ph": 4.4,
    }  # fmt: skip
    assert rows[137]["ibu"] == rows[137]["target_og"] == 1085.0
    assert rows[317]["ph"] == 79.0  # published as-is, no clipping
    assert rows[169]["ibu"] is None and rows[169]["ph"] is None
    assert real.beers["ibu"].null_count() == 5
    assert real.beers["ph"].null_count() == 2


def test_anomalies_on_real_dataset(real: CleaningResult) -> None:
    anomalies = find_anomalies(real.beers)
    assert anomalies["ph_out_of_range"] == [317]
    assert anomalies["ibu_equals_target_og"] == [137, 185]
    assert anomalies["target_fg_above_target_og"] == [
        28, 70, 127, 131, 193, 214, 221, 222, 223, 224, 225, 227, 228,
    ]  # fmt: skip
    assert anomalies["abv_out_of_range"] == []
    assert anomalies["ibu_negative"] == anomalies["ebc_negative"] == anomalies["srm_negative"] == []
    errors = real.beers.filter(data_error_expr())["id"].to_list()
    assert errors == [137, 185, 317]


def test_value_range_anomalies_ignore_nulls() -> None:
    beers = clean(
        line({"id": 1, "abv": 101, "ibu": -1, "ebc": -2, "srm": -3, "ph": -0.1}),
        line({"id": 2, "abv": None, "ibu": None, "target_og": None, "ph": None}),
    ).beers
    anomalies = find_anomalies(beers)
    assert anomalies["abv_out_of_range"] == [1]
    assert anomalies["ibu_negative"] == anomalies["ebc_negative"] == anomalies["srm_negative"] == [1]
    assert anomalies["ph_out_of_range"] == [1]
    assert anomalies["ibu_equals_target_og"] == []
    assert beers.select(data_error_expr()).to_series().to_list() == [True, False]


def test_latest_arrival_wins_regardless_of_input_order() -> None:
    result = clean(
        line({"id": 5, "name": "new"}, sequence="1", arrival=T1),
        line({"id": 5, "name": "old"}, sequence="2", arrival=T0),
    )
    assert result.beers["name"].to_list() == ["new"]


def test_timestamps_compare_as_instants_not_text() -> None:
    # 05:00+02:00 is 03:00 UTC: earlier than 04:00Z although its text sorts higher.
    result = clean(
        line({"id": 5, "name": "later"}, arrival="2026-11-26T04:00:00Z"),
        line({"id": 5, "name": "earlier"}, arrival="2026-11-26T05:00:00.5+02:00"),
    )
    assert result.beers["name"].to_list() == ["later"]


def test_a_naive_timestamp_first_does_not_spoil_the_others() -> None:
    result = clean(line({"id": 1}, arrival="2026-11-26T03:55:01"), line({"id": 2}, arrival=T0))
    assert result.beers["id"].to_list() == [2]
    assert result.rejected["reason"].to_list() == ["arrival_timestamp missing or not ISO 8601 with an offset"]


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("9", "10"),  # text comparison would pick "9"
        ("99", "100"),
        ("49590338271490256608559692538361571095921575989136588898",  # beyond 128 bits
         "149590338271490256608559692538361571095921575989136588898"),
    ],
)
def test_sequence_number_breaks_ties_as_an_integer(low: str, high: str) -> None:
    for first, second in ((low, high), (high, low)):
        result = clean(
            line({"id": 7, "name": f"seq {first}"}, sequence=first),
            line({"id": 7, "name": f"seq {second}"}, sequence=second),
        )
        assert result.beers["name"].to_list() == [f"seq {high}"]


def test_ints_become_floats_and_nulls_stay_null() -> None:
    beers = clean(line({"id": 3, "name": "x", "abv": 5, "ibu": 60, "ph": None})).beers
    assert beers.schema == CLEANED_SCHEMA
    row = beers.row(0, named=True)
    assert row["abv"] == 5.0 and row["ibu"] == 60.0
    assert row["ph"] is None and row["ebc"] is None  # explicit null, and absent


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"name": "no id"}, "id missing"),
        ({"id": None}, "id missing"),
        ({"id": 1.5}, "id missing or not a positive integer"),
        ({"id": "abc"}, "not a positive integer"),
        ({"id": True}, "not a positive integer"),
        ({"id": 0}, "not a positive integer"),
        ({"id": 10**25}, "not a positive integer"),
        (None, "data missing or not a JSON object"),
        ([1, 2], "data missing or not a JSON object"),
        ({"id": 9, "ph": "n/a"}, "ph is not a number"),
    ],
)
def test_uncleanable_records_are_rejected_not_dropped(data: Any, reason: str) -> None:
    result = clean(line({"id": 1, "name": "good"}, sequence="1"), line(data, sequence="2"))
    assert result.beers["id"].to_list() == [1]
    assert result.rejected["sequence_number"].to_list() == ["2"]
    assert reason in result.rejected["reason"][0]


def test_rejected_latest_record_leaves_previous_version() -> None:
    result = clean(
        line({"id": 4, "abv": 5.0}, sequence="1", arrival=T0),
        line({"id": 4, "abv": "strong"}, sequence="2", arrival=T1),
    )
    assert result.beers["abv"].to_list() == [5.0]
    assert result.rejected["reason"].to_list() == ["abv is not a number"]


def test_lenient_path_accepts_integer_text_ids_and_numeric_text() -> None:
    result = clean(line({"id": "12", "abv": "4.5", "ibu": 60}))
    assert result.beers.rows() == [(12, None, 4.5, 60.0, None, None, None, None, None)]


def test_envelope_problems_are_rejected() -> None:
    result = clean(
        line({"id": 1}, sequence="12a"),
        line({"id": 1}, sequence="007"),  # not a Kinesis sequence number: it would sort wrongly
        line({"id": 2}, arrival="2026-11-26T03:55:01"),  # no offset: cannot be ordered safely
        json.dumps({"shard_id": "s", "sequence_number": "3", "arrival_timestamp": T0, "data_base64": "AAE="}),
    )
    assert result.beers.is_empty()
    assert result.rejected["reason"].to_list() == [
        "sequence_number missing or not a Kinesis sequence number",
        "sequence_number missing or not a Kinesis sequence number",
        "arrival_timestamp missing or not ISO 8601 with an offset",
        "payload is not JSON (data_base64)",
    ]


def test_nested_junk_of_varying_shape_is_ignored() -> None:
    result = clean(
        line({"id": 1, "method": {"twist": None}, "ingredients": {"hops": []}}),
        line({"id": 2, "method": [1, "x"], "ingredients": "none", "volume": {"value": {"deep": [1]}}}),
    )
    assert result.beers["id"].to_list() == [1, 2]


def test_corrupt_line_raises_with_its_number() -> None:
    with pytest.raises(ValueError, match="line 2 is not JSON"):
        read_raw_jsonl([line({"id": 1}), '{"shard_id": "s", "data": {"id'])


def test_gzipped_plain_and_lines_inputs_agree() -> None:
    lines = [line({"id": i, "abv": i / 2}, sequence=str(i)) for i in (2, 1, 3)]
    text = "\n".join(lines) + "\n"
    expected = clean_beers(read_raw_jsonl(lines)).beers
    assert expected["id"].to_list() == [1, 2, 3]
    for source in (gzip.compress(text.encode()), text.encode(), text, [s.encode() for s in lines]):
        assert clean_beers(read_raw_jsonl(source)).beers.equals(expected)


def test_empty_input_gives_empty_typed_results() -> None:
    result = clean_beers(read_raw_jsonl(b""))
    assert result.beers.schema == CLEANED_SCHEMA and result.beers.is_empty()
    assert result.rejected.is_empty()


def test_reads_parts_written_by_the_raw_zone() -> None:
    def received(sequence: str, arrival: datetime, payload: bytes) -> ReceivedRecord:
        return ReceivedRecord("shardId-000000000001", sequence, arrival, "1", payload)

    noon = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)
    lines = [
        raw_format.envelope_line(received("9", noon, b'{"id": 1, "name": "Buzz", "ibu": 60}')),
        raw_format.envelope_line(received("10", noon, b'{"id": 1, "name": "Buzz v2", "ibu": 61}')),
        raw_format.envelope_line(received("11", noon, b"\xff not json")),
    ]
    result = clean_beers(read_raw_jsonl(raw_format.encode_part(lines)))
    assert result.beers.select("id", "name", "ibu").rows() == [(1, "Buzz v2", 61.0)]
    assert result.rejected["reason"].to_list() == ["payload is not JSON (data_base64)"]


def test_frames_built_by_hand_are_cleaned_too() -> None:
    # No `data` column at all: every payload was kept as data_base64.
    only_base64 = pl.DataFrame(
        {"shard_id": ["s"], "sequence_number": ["1"], "arrival_timestamp": [T0], "partition_key": ["k"],
         "data_base64": ["AAE="]}
    )  # fmt: skip
    result = clean_beers(only_base64)
    assert result.beers.schema == CLEANED_SCHEMA and result.beers.is_empty()
    assert result.rejected["reason"].to_list() == ["payload is not JSON (data_base64)"]
    # A struct inferred from Python dicts, typed timestamps, fields missing from every record.
    typed = pl.DataFrame(
        {
            "shard_id": ["s", "s"],
            "sequence_number": ["10", "9"],
            "arrival_timestamp": [datetime(2026, 11, 26, tzinfo=timezone.utc)] * 2,
            "partition_key": ["k", "k"],
            "data": [{"id": 1, "abv": 4}, {"id": 1, "abv": 5}],
        }
    )
    assert clean_beers(typed).beers.rows() == [(1, None, 4.0, None, None, None, None, None, None)]
