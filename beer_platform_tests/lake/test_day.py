"""A day cleaned a raw part at a time: winners chosen across every part, each table built per part,
checks that judge each part's rows and the day's totals, tables built from other tables."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from beer_platform.lake import raw_format
from beer_platform.lake.day import clean_day
from beer_platform.lake.declaration import described, in_build_order
from beer_platform.lake.tables import BEERS, CATALOGUE_TABLES
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.stream.records import ReceivedRecord
from beer_platform_tests.beer_styles import STYLES
from beer_platform_tests.lake.memory_sink import MemorySink, clean_in_memory

NOON = datetime(2026, 11, 26, 12, tzinfo=UTC)
BEERS_BY_ID = {beer["id"]: beer for beer in load_beers()}


def part(*records: tuple[int, dict | bytes], start: int = 1, at: datetime = NOON) -> bytes:
    """A raw part of (seconds after noon, payload) records, as the landing writes it."""
    lines = []
    for n, (seconds, payload) in enumerate(records, start=start):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        lines.append(raw_format.envelope_line(
            ReceivedRecord("shardId-000000000000", str(n), at + timedelta(seconds=seconds), "k", data)))  # fmt: skip
    return raw_format.encode_part(lines)


def test_each_beer_is_its_latest_good_record_across_every_part_of_the_day() -> None:
    buzz, trashy, ipa = BEERS_BY_ID[1], BEERS_BY_ID[2], BEERS_BY_ID[4]
    first = part((0, buzz), (1, trashy), (2, {**ipa, "abv": 9.0}))
    second = part((10, {**buzz, "abv": 1.5}), (11, {**trashy, "abv": "strong"}), (12, b"\xff not json"), start=10)
    report, sink = clean_in_memory([first, second], api_rows=3)
    beers = sink.table("beers").sort("id")
    assert beers.select("id", "abv").rows() == [(1, 1.5), (2, trashy["abv"]), (4, 9.0)]  # Trashy's newest: rejected
    assert (report.raw_parts, report.raw_records, report.tables["beers"].rows) == (2, 6, 3)
    assert sink.table("recipes")["beer_id"].sort().to_list() == [1, 2, 4]  # each beer's rows from its winner's part
    rejected = report.checks[("beers", "no_rejected_records")]
    assert not rejected.passed and rejected.metadata["found"] == 2
    assert {row["reason"] for row in rejected.metadata["rows"]} == {"abv is not a number",
                                                                    "payload is not JSON (data_base64)"}  # fmt: skip
    assert report.checks[("beers", "row_count_matches_api")].passed
    assert all(report.checks[(table, check)].passed
               for table, check in [("beers", "ids_unique_and_present"), ("beer_hops", "hop_names_matched"),
                                    ("recipes", "one_row_per_beer")])  # fmt: skip


def test_parts_read_on_different_paths_clean_alike() -> None:
    typed = part((0, {"id": 1, "abv": 4.4}))
    text = part((0, {"id": "2", "abv": "5.5", "ph": 1e-7}), start=5)  # the per-line fallback
    report, sink = clean_in_memory([typed, text], tables=(BEERS,))
    assert sink.table("beers").select("id", "abv", "ph").sort("id").rows() == [(1, 4.4, None), (2, 5.5, 1e-7)]


def test_a_check_counts_every_row_at_fault_and_lists_a_bounded_sample() -> None:
    wrong = [(n, {**BEERS_BY_ID[1], "id": n, "ph": 20.0}) for n in range(1, 61)]
    report, _ = clean_in_memory([part(*wrong[:30]), part(*wrong[30:], start=100)], tables=(BEERS,), api_rows=61)
    in_range = report.checks[("beers", "values_in_range")]
    assert not in_range.passed and in_range.metadata["found"] == 60 and len(in_range.metadata["rows"]) == 50
    assert {"id": 1, "anomaly": "ph_out_of_range"} in in_range.metadata["rows"]
    count = report.checks[("beers", "row_count_matches_api")]
    assert not count.passed and count.metadata == {"api_rows": 61, "cleaned_rows": 60}


def test_a_table_built_from_another_is_built_after_it_from_the_same_part() -> None:
    assert [table.name for table in in_build_order((STYLES, *CATALOGUE_TABLES))] == ["beers", "beer_styles", "beer_hops",
                                                                           "recipes"]  # fmt: skip
    records = [(n, beer) for n, beer in enumerate(load_beers()[:40])]
    report, sink = clean_in_memory([part(*records[:20]), part(*records[20:], start=100)], tables=(STYLES, BEERS))
    styles = sink.table("beer_styles").sort("beer_id")
    assert styles.height == 40 and report.checks[("beer_styles", "one_style_per_beer")].passed
    assert styles.filter(pl.col("style") == "IPA")["beer_id"].to_list() == [30, 39]  # the IPA Is Dead series


def test_declarations_that_cannot_be_built_are_refused() -> None:
    with pytest.raises(ValueError, match="not declared"):
        in_build_order((STYLES,))
    loop = dataclasses.replace(BEERS, built_from=("beer_styles",))
    with pytest.raises(ValueError, match="built from itself"):
        in_build_order((STYLES, loop))
    with pytest.raises(ValueError, match="without a description"):
        described(pl.Schema({"id": pl.Int64, "name": pl.String}), {"id": "the id"})


def test_a_part_that_changes_between_the_two_passes_stops_the_day() -> None:
    reads = iter([[part((0, BEERS_BY_ID[1]))], [part((0, BEERS_BY_ID[1]), (1, BEERS_BY_ID[2]))]])
    with pytest.raises(RuntimeError, match="it changed"):
        clean_day(lambda: iter(next(reads)), (BEERS,), MemorySink())
