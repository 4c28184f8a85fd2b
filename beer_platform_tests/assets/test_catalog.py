"""The Glue tables each on their own: beers_table, beer_hops_table, recipes_table over a cleaned
zone of the test's own, answering SQL."""

from __future__ import annotations

import dagster as dg
import pytest

from beer_platform.assets.catalog import table_asset
from beer_platform.lake.tables import BEER_HOPS, BEERS, PREDICTIONS, RECIPES
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.resources import build_resources
from beer_platform_tests.assets.stage_inputs import DAY, put_cleaned_partition

pytestmark = pytest.mark.integration
beers_table, beer_hops_table, recipes_table = (table_asset(table) for table in (BEERS, BEER_HOPS, RECIPES))


def test_beers_table_alone_registers_the_partitions_and_answers_sql(own_settings, own_clients):
    names = own_settings.names
    put_cleaned_partition(own_clients, names, load_beers()[:40])
    resources = build_resources(own_settings)
    result = dg.materialize([beers_table], resources=resources)
    meta = result.asset_materializations_for_node("beers_table")[0].metadata
    assert meta["dagster/table_name"].value == f"{names.glue_database}.{BEERS.name}"
    assert meta["partitions_added"].value == [DAY.isoformat()]
    [queryable] = [e for e in result.get_asset_check_evaluations() if e.check_name == "queryable"]
    assert queryable.passed and queryable.metadata["rows_in_latest_partition"].value == 40
    answer = resources["query"].run(f"SELECT count(*), min(id), max(id) FROM {BEERS.name}")
    assert answer.rows == [(40, 1, 40)]
    again = dg.materialize([beers_table], resources=resources)
    assert again.asset_materializations_for_node("beers_table")[0].metadata["table_action"].value == "unchanged"


def test_the_recipe_tables_alone_register_and_answer_sql(own_settings, own_clients):
    names = own_settings.names
    put_cleaned_partition(own_clients, names, load_beers()[:40])
    resources = build_resources(own_settings)
    for asset, table in ((beer_hops_table, BEER_HOPS.name), (recipes_table, RECIPES.name)):
        result = dg.materialize([asset], resources=resources)
        meta = result.asset_materializations_for_node(asset.key.to_user_string())[0].metadata
        assert meta["dagster/table_name"].value == f"{names.glue_database}.{table}"
        assert meta["partitions_added"].value == [DAY.isoformat()]
        assert result.get_asset_check_evaluations()[0].passed
    query = resources["query"]
    assert query.run(f"SELECT count(*), count(DISTINCT beer_id) FROM {RECIPES.name}").rows == [(40, 40)]
    dry = query.run(f"SELECT sum(grams) FROM {BEER_HOPS.name} WHERE beer_id = 7 AND dry_hop").rows
    assert dry == [(87.5,)]  # AB:12: 25 g Centennial, 25 g Amarillo, 37.5 g Tomahawk, dry-hopped
    kinds = query.run(f"SELECT DISTINCT kind FROM {BEER_HOPS.name} ORDER BY 1").rows
    assert kinds and all(kind in {"hop", "blend", "extract", "not_a_hop"} for (kind,) in kinds)


def test_a_table_with_nothing_landed_yet_is_registered_and_its_check_passes_saying_so(own_settings, own_clients):
    """The prediction log before the model answered anything: the Glue table exists, with no partition."""
    result = dg.materialize([table_asset(PREDICTIONS)], resources=build_resources(own_settings))
    assert result.success
    [queryable] = [e for e in result.get_asset_check_evaluations() if e.check_name == "queryable"]
    assert queryable.passed and queryable.description == "no partition yet"
    glue = own_clients.client("glue").get_table(DatabaseName=own_settings.names.glue_database, Name="predictions")
    assert [c["Name"] for c in glue["Table"]["PartitionKeys"]] == ["ingestion_date"]
