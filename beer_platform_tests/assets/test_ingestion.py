"""beer_events on its own: `materialize([beer_events])` against the replica and a stream of the test's own."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from beer_platform.assets.ingestion import beer_events
from beer_platform.resources import build_resources
from beer_platform_tests.assets.stage_inputs import stream_records

pytestmark = pytest.mark.integration


def test_beer_events_alone_publishes_the_whole_catalogue_once_a_day(own_settings, own_clients):
    resources = build_resources(own_settings)
    first = dg.materialize([beer_events], resources=resources)
    meta = first.asset_materializations_for_node("beer_events")[0].metadata
    assert meta["records_published"].value == meta["dagster/row_count"].value == 325
    records = stream_records(own_clients.client("kinesis"), own_settings.names.stream)
    assert sorted(json.loads(record.data)["id"] for record in records) == list(range(1, 326))
    assert {record.partition_key for record in records} == {str(n) for n in range(1, 326)}

    again = dg.materialize([beer_events], resources=resources)
    assert again.asset_materializations_for_node("beer_events")[0].metadata["records_published"].value == 0
    assert len(stream_records(own_clients.client("kinesis"), own_settings.names.stream)) == 325
