"""beers_table on its own: the Glue table over a cleaned zone of the test's own, answering SQL."""

from __future__ import annotations

import dagster as dg
import pytest

from beer_platform.assets.catalog import beers_table
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.resources import build_resources
from beer_platform_tests.assets.stage_inputs import DAY, put_cleaned_partition

pytestmark = pytest.mark.integration


def test_beers_table_alone_registers_the_partitions_and_answers_sql(own_settings, own_clients):
    names = own_settings.names
    put_cleaned_partition(own_clients, names, load_beers()[:40])
    resources = build_resources(own_settings)
    result = dg.materialize([beers_table], resources=resources)
    meta = result.asset_materializations_for_node("beers_table")[0].metadata
    assert meta["dagster/table_name"].value == f"{names.glue_database}.{names.glue_table}"
    assert meta["partitions_added"].value == [DAY.isoformat()]
    [queryable] = [e for e in result.get_asset_check_evaluations() if e.check_name == "queryable"]
    assert queryable.passed and queryable.metadata["rows_in_latest_partition"].value == 40
    answer = resources["query"].run(f"SELECT count(*), min(id), max(id) FROM {names.glue_table}")
    assert answer.rows == [(40, 1, 40)]
    again = dg.materialize([beers_table], resources=resources)
    assert again.asset_materializations_for_node("beers_table")[0].metadata["table_action"].value == "unchanged"
