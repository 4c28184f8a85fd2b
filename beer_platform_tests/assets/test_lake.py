"""raw_beers and cleaned_beers each on their own, on resources of the test's own."""

from __future__ import annotations

import gzip
import io
import json

import dagster as dg
import polars as pl
import pytest

from beer_platform.assets.lake import cleaned_beers, raw_beers
from beer_platform.aws import s3 as s3_ops
from beer_platform.core import object_keys
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.resources import build_resources
from beer_platform_tests.assets.stage_inputs import DAY, put_on_stream, put_raw_part

pytestmark = pytest.mark.integration


def test_raw_beers_alone_lands_what_the_stream_holds_as_received(own_settings, own_clients):
    names, s3 = own_settings.names, own_clients.client("s3")
    beers = load_beers()[:5]
    put_on_stream(own_clients, names, beers)
    result = dg.materialize([raw_beers], resources=build_resources(own_settings))
    assert result.asset_materializations_for_node("raw_beers")[0].metadata["records_landed"].value == 5
    [part] = s3_ops.list_objects(s3, names.raw_bucket, object_keys.partitions_prefix(object_keys.RAW_PREFIX))
    lines = [json.loads(line) for line in gzip.decompress(s3_ops.get_bytes(s3, names.raw_bucket, part.key)).splitlines()]
    assert [line["data"] for line in sorted(lines, key=lambda line: line["data"]["id"])] == beers


def _cleaned_with_api_count(own_settings, api_rows: int) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.ephemeral()
    # what beer_events reported the API returned: the count the check compares with
    instance.report_runless_asset_event(dg.AssetMaterialization("beer_events", metadata={"dagster/row_count": api_rows}))
    return dg.materialize([cleaned_beers], resources=build_resources(own_settings), instance=instance,
                          raise_on_error=False)  # fmt: skip


def _check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    return next(e for e in result.get_asset_check_evaluations() if e.check_name == name)


def test_cleaned_beers_alone_types_the_days_raw_part_as_parquet(own_settings, own_clients):
    names = own_settings.names
    put_raw_part(own_clients, names, load_beers())
    result = _cleaned_with_api_count(own_settings, 325)
    assert result.success
    blob = s3_ops.get_bytes(own_clients.client("s3"), names.cleaned_bucket, object_keys.cleaned_part_key(DAY))
    frame = pl.read_parquet(io.BytesIO(blob))
    assert frame.height == 325 and frame["id"].n_unique() == 325
    assert dict(frame.schema) == {"id": pl.Int64, "name": pl.String, **{f: pl.Float64 for f in
                                  ("abv", "ibu", "target_fg", "target_og", "ebc", "srm", "ph")}}  # fmt: skip
    assert _check(result, "row_count_matches_api").passed
    assert _check(result, "ids_unique_and_present").passed


def test_the_row_count_check_fails_when_the_lake_holds_other_than_the_api_returned(own_settings, own_clients):
    put_raw_part(own_clients, own_settings.names, load_beers())
    result = _cleaned_with_api_count(own_settings, 326)  # the API said 326; the raw zone holds 325
    check = _check(result, "row_count_matches_api")
    assert not check.passed
    assert (check.metadata["api_rows"].value, check.metadata["cleaned_rows"].value) == (326, 325)
    assert not result.success  # blocking: what is downstream would not run
