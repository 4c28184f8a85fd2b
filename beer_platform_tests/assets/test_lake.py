"""raw_beers and the cleaned tables (cleaned_beers, cleaned_beer_hops, cleaned_recipes: one asset
computation per ingestion day) each on their own, on resources of the test's own."""

from __future__ import annotations

import io
from datetime import date

import dagster as dg
import polars as pl
import pytest

from beer_platform.assets.common import schema_change_checks
from beer_platform.assets.lake import INGESTION_DAYS, cleaned_tables_asset, raw_beers
from beer_platform.aws import s3 as s3_ops
from beer_platform.lake import object_keys
from beer_platform.lake import raw_format
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.lake.tables import CATALOGUE_TABLES
from beer_platform.resources import build_resources
from beer_platform_tests.assets.stage_inputs import DAY, put_on_stream, put_raw_part

pytestmark = pytest.mark.integration

OTHER_DAY = "2026-11-27"
cleaned_tables = cleaned_tables_asset(CATALOGUE_TABLES)


def test_raw_beers_alone_lands_what_the_stream_holds_as_received(own_settings, own_clients):
    names, s3 = own_settings.names, own_clients.client("s3")
    beers = load_beers()[:5]
    put_on_stream(own_clients, names, beers)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([raw_beers], resources=build_resources(own_settings), instance=instance)
    meta = result.asset_materializations_for_node("raw_beers")[0].metadata
    assert meta["records_landed"].value == 5
    parts = s3_ops.list_objects(s3, names.raw_bucket, object_keys.partitions_prefix(object_keys.RAW_PREFIX))
    lines = [line for part in parts for line in raw_format.decode_part(s3_ops.get_bytes(s3, names.raw_bucket, part.key))]
    assert [line["data"] for line in sorted(lines, key=lambda line: line["data"]["id"])] == beers
    assert meta["days_touched"].value == sorted({object_keys.day_of_key(part.key) for part in parts})
    assert instance.get_dynamic_partitions(INGESTION_DAYS.name) == meta["days_touched"].value  # the days to clean


def _cleaned(own_settings, api_rows: int, day: str = DAY.isoformat(), instance=None) -> dg.ExecuteInProcessResult:
    instance = instance or dg.DagsterInstance.ephemeral()
    # what beer_events reported the API returned: the count the check compares with
    instance.report_runless_asset_event(dg.AssetMaterialization("beer_events", metadata={"dagster/row_count": api_rows}))
    instance.add_dynamic_partitions(INGESTION_DAYS.name, [day])  # what raw_beers does for a day it lands
    return dg.materialize([cleaned_tables], resources=build_resources(own_settings), instance=instance,
                          partition_key=day, raise_on_error=False)  # fmt: skip


def _check(result: dg.ExecuteInProcessResult, name: str, asset: str = "cleaned_beers") -> dg.AssetCheckEvaluation:
    return next(e for e in result.get_asset_check_evaluations()
                if e.check_name == name and e.asset_key.to_user_string() == asset)  # fmt: skip


def _partition(own_clients, names, day, table: str = "beers") -> pl.DataFrame:
    blob = s3_ops.get_bytes(own_clients.client("s3"), names.cleaned_bucket, object_keys.table_part_key(table, day))
    return pl.read_parquet(io.BytesIO(blob))


def _parts(day) -> set[str]:
    """The day's Parquet part of each cleaned table."""
    return {object_keys.table_part_key(table, day) for table in ("beers", "beer_hops", "recipes")}


def test_cleaned_beers_alone_types_the_days_raw_parts_as_one_parquet_partition(own_settings, own_clients):
    names = own_settings.names
    put_raw_part(own_clients, names, load_beers())
    result = _cleaned(own_settings, 325)
    assert result.success
    frame = _partition(own_clients, names, DAY)
    assert frame.height == 325 and frame["id"].n_unique() == 325
    assert dict(frame.schema) == {"id": pl.Int64, "name": pl.String, **{f: pl.Float64 for f in
                                  ("abv", "ibu", "target_fg", "target_og", "ebc", "srm", "ph")}}  # fmt: skip
    assert _check(result, "row_count_matches_api").passed
    assert _check(result, "ids_unique_and_present").passed


def test_a_day_spanning_two_landings_is_one_row_per_beer_latest_wins(own_settings, own_clients):
    names = own_settings.names
    beers = load_beers()
    put_raw_part(own_clients, names, beers, hour=6)
    put_raw_part(own_clients, names, [{**beer, "abv": 1.5} for beer in beers[:10]], first_sequence=400, hour=9)
    result = _cleaned(own_settings, 325)
    assert result.success
    meta = {m.asset_key.to_user_string(): m.metadata for m in result.asset_materializations_for_node("clean_beers")
            }["cleaned_beers"]  # fmt: skip
    assert (meta["raw_parts"].value, meta["raw_records"].value) == (2, 335)
    frame = _partition(own_clients, names, DAY).sort("id")
    assert frame.height == 325 and frame["abv"][:10].to_list() == [1.5] * 10 and frame["abv"][10] == beers[10]["abv"]


def test_a_backfill_of_one_day_recleans_that_day_from_the_raw_zone_alone(own_settings, own_clients):
    names, s3 = own_settings.names, own_clients.client("s3")
    beers = load_beers()
    put_raw_part(own_clients, names, beers)
    put_raw_part(own_clients, names, beers[:40], day=date(2026, 11, 27))
    instance = dg.DagsterInstance.ephemeral()
    assert _cleaned(own_settings, 325, instance=instance).success
    other = [o for o in s3_ops.list_objects(s3, names.cleaned_bucket, "") if object_keys.day_of_key(o.key) == OTHER_DAY]
    assert other == []  # only the day asked for was cleaned, in every table
    for key in _parts(DAY):  # lost, or to be redone
        s3.delete_object(Bucket=names.cleaned_bucket, Key=key)
    before = {o.key: o.etag for o in s3_ops.list_objects(s3, names.cleaned_bucket, "")}
    backfill = _cleaned(own_settings, 40, day=OTHER_DAY, instance=instance)
    assert backfill.success and _partition(own_clients, names, OTHER_DAY).height == 40
    redone = _cleaned(own_settings, 325, instance=instance)
    assert redone.success and _partition(own_clients, names, DAY).height == 325
    after = {o.key: o.etag for o in s3_ops.list_objects(s3, names.cleaned_bucket, "")}
    assert set(after) - set(before) == _parts(OTHER_DAY) | _parts(DAY)  # every table of the day, rebuilt
    assert _partition(own_clients, names, DAY, "recipes").height == 325
    for asset in (table.cleaned_asset for table in CATALOGUE_TABLES):
        days = instance.get_materialized_partitions(dg.AssetKey(asset))
        assert days == {DAY.isoformat(), OTHER_DAY}  # the UI's per-day status


def test_a_day_with_nothing_landed_fails_clearly_and_writes_nothing(own_settings, own_clients):
    result = _cleaned(own_settings, 325, day="2026-11-20")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "nothing was landed that day" in str(failure.event_specific_data.error)
    assert s3_ops.list_objects(own_clients.client("s3"), own_settings.names.cleaned_bucket, "") == []


def test_the_row_count_check_fails_when_the_lake_holds_other_than_the_api_returned(own_settings, own_clients):
    put_raw_part(own_clients, own_settings.names, load_beers())
    result = _cleaned(own_settings, 326)  # the API said 326; the raw zone holds 325
    check = _check(result, "row_count_matches_api")
    assert not check.passed
    assert (check.metadata["api_rows"].value, check.metadata["cleaned_rows"].value) == (326, 325)
    assert not result.success  # blocking: what is downstream would not run


def test_the_same_pass_builds_beer_hops_and_recipes_for_known_beers(own_settings, own_clients):
    put_raw_part(own_clients, own_settings.names, load_beers())
    result = _cleaned(own_settings, 325)
    assert result.success
    materialized = {m.asset_key.to_user_string(): m.metadata for m in result.asset_materializations_for_node("clean_beers")}
    assert set(materialized) == {"cleaned_beers", "cleaned_beer_hops", "cleaned_recipes"}
    assert materialized["cleaned_beer_hops"]["dagster/row_count"].value == 1817
    assert materialized["cleaned_recipes"]["dagster/uri"].value.endswith(f"/recipes/ingestion_date={DAY}/")
    hops, recipes = _partition(own_clients, own_settings.names, DAY, "beer_hops"), _partition(own_clients, own_settings.names, DAY, "recipes")
    buzz = hops.filter(pl.col("beer_id") == 1).select("name", "kind", "grams", "add", "boil_minutes", "dry_hop")
    assert buzz.rows() == [("Fuggles", "hop", 25.0, "start", 60.0, False), ("First Gold", "hop", 25.0, "start", 60.0, False),
                           ("Fuggles", "hop", 37.5, "middle", 30.0, False), ("First Gold", "hop", 37.5, "middle", 30.0, False),
                           ("Cascade", "hop", 37.5, "end", 5.0, False)]  # fmt: skip
    jack_hammer = hops.filter(pl.col("beer_id") == 168)
    assert jack_hammer.filter(pl.col("kind") == "extract")["name"].to_list() == ["Columbus Extract"]
    assert jack_hammer.filter(pl.col("dry_hop"))["grams"].sum() == 300.0
    assert hops.filter((pl.col("beer_id") == 265) & (pl.col("name") == "Apricot Juice"))["grams"].to_list() == [1000.0]
    assert recipes.height == 325 and recipes.filter(pl.col("beer_id") == 1).row(0) == (1, 20.0, 25.0, 75.0)
    assert _check(result, "hop_names_matched", "cleaned_beer_hops").passed
    assert _check(result, "one_row_per_beer", "cleaned_recipes").passed
    assert _check(result, "no_rejected_records", "cleaned_recipes").passed
    again = _cleaned(own_settings, 325)  # the day cleaned again (a backfill): every table rebuilt, the same rows
    assert {m.asset_key.to_user_string() for m in again.asset_materializations_for_node("clean_beers")} == set(materialized)
    assert _partition(own_clients, own_settings.names, DAY, "beer_hops").equals(hops)
    assert _partition(own_clients, own_settings.names, DAY, "recipes").equals(recipes)


def test_a_hop_name_that_matches_nothing_is_flagged_and_blocks_what_is_downstream(own_settings, own_clients):
    beers = load_beers()[:3]
    beers[1] = {**beers[1], "ingredients": {**beers[1]["ingredients"], "hops": [
        {**beers[1]["ingredients"]["hops"][0], "name": "Galxy"}, *beers[1]["ingredients"]["hops"][1:]]}}  # fmt: skip
    beers[2] = {**beers[2], "volume": {"value": -5, "unit": "litres"}}
    put_raw_part(own_clients, own_settings.names, beers)
    result = _cleaned(own_settings, 3)
    check = _check(result, "hop_names_matched", "cleaned_beer_hops")
    assert not check.passed and check.metadata["rows"].value == [{"beer_id": 2, "addition": 0, "name": "Galxy"}]
    assert not result.success  # blocking
    hops = _partition(own_clients, own_settings.names, DAY, "beer_hops")
    assert hops.filter(pl.col("name") == "Galxy")["kind"].to_list() == [None]  # kept, never counted as no bitterness
    rejected = _check(result, "no_rejected_records", "cleaned_recipes")
    assert not rejected.passed and rejected.metadata["rows"].value == [
        {"beer_id": 3, "reason": "volume.value: must not be negative, got -5"}]
    assert _check(result, "one_row_per_beer", "cleaned_recipes").passed  # beer 3: rejected, accounted for


def test_a_day_cleaned_again_keeps_its_column_schema_so_the_change_check_passes(own_settings, own_clients):
    put_raw_part(own_clients, own_settings.names, load_beers()[:20])
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization("beer_events", metadata={"dagster/row_count": 20}))
    instance.add_dynamic_partitions(INGESTION_DAYS.name, [DAY.isoformat()])
    checks = schema_change_checks(cleaned_tables)
    for _ in range(2):
        result = dg.materialize([cleaned_tables, *checks], resources=build_resources(own_settings), instance=instance,
                                partition_key=DAY.isoformat())  # fmt: skip
    changes = [e for e in result.get_asset_check_evaluations() if e.check_name == "column_schema_change"]
    assert len(changes) == len(CATALOGUE_TABLES) and all(e.passed for e in changes)
