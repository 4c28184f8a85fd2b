"""The code location as a user sees it in `dagster dev`: graph, lineage, automation, metadata."""

import dagster as dg
import pytest

from beer_platform.definitions import build_definitions
from beer_platform.settings import load_settings

GRAPH = ["punkapi", "beer_events", "raw_beers", "cleaned_beers", "beers_table", "ibu_model", "ibu_model_lambda"]


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    # Placeholder settings: loading needs no running stack, as in a CI check of the definitions.
    settings = load_settings({"BEER_PLATFORM_STACK_DIR": str(tmp_path_factory.mktemp("nostack"))})
    return build_definitions(settings)


def test_the_module_dagster_loads_is_valid():
    from beer_platform import definitions

    dg.Definitions.validate_loadable(definitions.defs)


def test_lineage_runs_from_the_api_through_the_table_to_the_model(defs):
    graph = defs.resolve_asset_graph()
    for parent, child in zip(GRAPH, GRAPH[1:]):
        assert dg.AssetKey(parent) in graph.get(dg.AssetKey(child)).parent_keys
    upstream = graph.get_ancestor_asset_keys(dg.AssetKey("ibu_model_lambda"))
    assert {k.to_user_string() for k in upstream} == set(GRAPH[:-1])
    assert not graph.get(dg.AssetKey("punkapi")).is_materializable  # an external source


def test_every_asset_says_who_owns_it_what_it_is_and_its_version(defs):
    graph = defs.resolve_asset_graph()
    for name in GRAPH:
        node = graph.get(dg.AssetKey(name))
        assert node.owners == ["team:data-platform"]
        assert node.group_name in {"ingestion", "lake", "catalog", "ml", "serving"}
        assert node.kinds and node.description
        if node.is_materializable:
            assert node.code_version


def test_ingestion_is_scheduled_daily_and_running_out_of_the_box(defs):
    schedule = defs.resolve_schedule_def("daily_ingestion")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.job.name == "ingestion_job"


def test_downstream_assets_follow_by_automation_whose_sensor_is_running(defs):
    sensor = defs.resolve_sensor_def("lake_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    for name in ["raw_beers", "cleaned_beers", "beers_table", "ibu_model", "ibu_model_lambda"]:
        assert graph.get(dg.AssetKey(name)).automation_condition is not None


def test_cleaned_table_declares_its_typed_schema_and_checks(defs):
    graph = defs.resolve_asset_graph()
    schema = graph.get(dg.AssetKey("cleaned_beers")).metadata["dagster/column_schema"]
    assert [(c.name, c.type) for c in schema.columns] == [
        ("id", "int64"), ("name", "string"), ("abv", "float64"), ("ibu", "float64"), ("target_fg", "float64"),
        ("target_og", "float64"), ("ebc", "float64"), ("srm", "float64"), ("ph", "float64"),
    ]  # fmt: skip
    checks = {key.name for key in graph.asset_check_keys}
    assert {"ids_unique_and_present", "row_count_matches_api", "values_in_range", "no_rejected_records",
            "queryable", "column_schema_change"} <= checks  # fmt: skip
