"""A table added by its declaration alone (`beer_styles`, built from `beers`) is in the graph, is
built with the day's other tables, is checked, and is a Glue table that answers SQL."""

from __future__ import annotations

import dagster as dg
import pytest

from beer_platform.definitions import build_definitions
from beer_platform.lake.tables import TABLES
from beer_platform.local.punkapi_replica import load_beers
from beer_platform_tests.assets.stage_inputs import DAY, put_raw_part
from beer_platform_tests.beer_styles import STYLES

pytestmark = pytest.mark.integration


def test_a_table_declared_and_nothing_else_is_built_checked_catalogued_and_queryable(own_settings, own_clients):
    defs = build_definitions(own_settings, tables=(*TABLES, STYLES))
    graph = defs.resolve_asset_graph()
    cleaned, catalogued = dg.AssetKey("cleaned_beer_styles"), dg.AssetKey("beer_styles_table")
    assert dg.AssetKey("cleaned_beers") in graph.get(cleaned).parent_keys and cleaned in graph.get(catalogued).parent_keys
    assert {check.name for check in graph.asset_check_keys if check.asset_key == cleaned} >= {"one_style_per_beer"}

    put_raw_part(own_clients, own_settings.names, load_beers())
    day = DAY.isoformat()
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization("beer_events", metadata={"dagster/row_count": 325}))
        instance.add_dynamic_partitions("ingestion_days", [day])
        cleaning = defs.resolve_job_def("cleaning_job").execute_in_process(instance=instance, partition_key=day)
        assert cleaning.success
        styles = next(e for e in cleaning.get_asset_check_evaluations() if e.check_name == "one_style_per_beer")
        assert styles.passed
        published = dg.materialize([defs.resolve_assets_def(catalogued)], instance=instance)  # its resources bound
        assert published.success
    glue = own_clients.client("glue").get_table(DatabaseName=own_settings.names.glue_database, Name="beer_styles")
    columns = glue["Table"]["StorageDescriptor"]["Columns"]
    assert [(c["Name"], c["Type"], c["Comment"]) for c in columns] == [
        ("beer_id", "bigint", "PunkAPI beer id"), ("style", "string", "IPA, stout or other")]
    answer = defs.resources["query"].run("SELECT style, count(*) FROM beer_styles GROUP BY 1 ORDER BY 1")
    counts = dict(answer.rows)
    assert sum(counts.values()) == 325 and counts["IPA"] > 10
