"""Which beers the IBU model trains on, and why the others are left out."""

from __future__ import annotations

import gzip
import json

import polars as pl

from beer_platform.lake.beers import CLEANED_SCHEMA
from beer_platform.lake.latest import clean_beers
from beer_platform.lake.raw_reader import read_raw_jsonl
from beer_platform.predict.inputs import FEATURES, NUMERIC_FEATURES, TARGET
from beer_platform.training.rows import content_hash, training_rows
from beer_platform.local.punkapi_replica import load_beers
from beer_platform_tests.beer_frames import shipped_beers

NULL_IBU_IDS = [24, 169, 235, 236, 237]
DATA_ERROR_IDS = [137, 185, 317]  # ibu == target_og (137, 185), ph 79 (317)


def test_the_client_fields_and_the_target() -> None:
    assert FEATURES == ["name", "abv", "target_fg", "target_og", "ebc", "srm", "ph"]
    assert NUMERIC_FEATURES == FEATURES[1:]
    assert TARGET == "ibu" and TARGET not in FEATURES


def test_shipped_dataset_leaves_out_null_ibu_and_data_errors_and_says_how_many() -> None:
    beers = shipped_beers()
    assert beers.filter(pl.col("ibu").is_null())["id"].to_list() == NULL_IBU_IDS
    rows, counts = training_rows(beers)
    assert counts == {"beers": 325, "missing_ibu": 5, "data_error": 3, "training_rows": 317}
    kept = set(rows["id"].to_list())
    assert kept == set(range(1, 326)) - set(NULL_IBU_IDS) - set(DATA_ERROR_IDS)
    assert rows.schema == CLEANED_SCHEMA  # every column kept, id included
    assert rows["ibu"].null_count() == 0


def test_the_cleaned_zone_path_gives_the_same_rows() -> None:
    lines = [json.dumps({"shard_id": "s", "sequence_number": str(i), "partition_key": "k",
                         "arrival_timestamp": "2026-11-26T03:55:01+00:00", "data": beer})
             for i, beer in enumerate(load_beers(), start=1)]  # fmt: skip
    cleaned = clean_beers(read_raw_jsonl(gzip.compress("\n".join(lines).encode()), CLEANED_SCHEMA)).beers
    assert cleaned.equals(shipped_beers())
    assert training_rows(cleaned)[0].equals(training_rows(shipped_beers())[0])


def test_a_row_with_null_ibu_and_a_data_error_counts_once_as_missing_ibu() -> None:
    beers = pl.DataFrame(
        [
            {"id": 1, "name": "ok", "abv": 5.0, "ibu": 40.0, "target_og": 1050.0, "ph": None},
            {"id": 2, "name": "both", "abv": 5.0, "ibu": None, "target_og": 1050.0, "ph": 79.0},
            {"id": 3, "name": "copied", "abv": 5.0, "ibu": 1050.0, "target_og": 1050.0, "ph": 4.4},
        ],
        schema=CLEANED_SCHEMA,
    )
    rows, counts = training_rows(beers)
    assert rows["id"].to_list() == [1]  # a null ph is unknown, not an error
    assert counts == {"beers": 3, "missing_ibu": 1, "data_error": 1, "training_rows": 1}


def test_an_empty_catalogue_gives_no_rows() -> None:
    rows, counts = training_rows(CLEANED_SCHEMA.to_frame())
    assert rows.is_empty() and counts == {"beers": 0, "missing_ibu": 0, "data_error": 0, "training_rows": 0}


def test_content_hash_is_stable_and_order_independent() -> None:
    beers = shipped_beers()
    digest = content_hash(beers)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert content_hash(beers.reverse()) == digest
    assert content_hash(shipped_beers()) == digest
    changed = beers.with_columns(pl.when(pl.col("id") == 1).then(61.0).otherwise(pl.col("ibu")).alias("ibu"))
    assert content_hash(changed) != digest
    assert content_hash(beers.drop("ph")) != digest
