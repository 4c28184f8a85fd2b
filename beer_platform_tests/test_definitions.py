"""The code location as a user sees it in `dagster dev`: graph, lineage, automation, metadata.

What is expected is derived from the graph itself wherever the graph is what is checked, so that
adding an asset means editing only its module.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from beer_platform.assets import code_version
from beer_platform.assets.ml import ibu_model
from beer_platform.definitions import build_definitions
from beer_platform.settings import load_settings

SOURCE = dg.AssetKey("punkapi")
PRODUCT = dg.AssetKey("ibu_model_lambda")


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    # Placeholder settings: loading needs no running stack, as in a CI check of the definitions.
    settings = load_settings({"BEER_PLATFORM_STACK_DIR": str(tmp_path_factory.mktemp("nostack"))})
    return build_definitions(settings)


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def test_the_module_dagster_loads_is_valid():
    from beer_platform import definitions

    dg.Definitions.validate_loadable(definitions.defs)


def test_lineage_runs_from_the_api_to_the_deployed_function_through_every_asset(graph):
    everything = set(graph.get_all_asset_keys())
    assert graph.get_ancestor_asset_keys(PRODUCT) == everything - {PRODUCT}  # the product uses it all
    assert not graph.get(SOURCE).parent_keys and not graph.get(SOURCE).is_materializable  # an external source
    for key in everything - {SOURCE}:
        assert SOURCE in graph.get_ancestor_asset_keys(key), f"{key} does not descend from the API"


def test_every_asset_says_who_owns_it_what_it_is_and_its_version(graph):
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners and node.group_name and node.kinds and node.description, key
        if node.is_materializable:
            assert node.code_version, key


def test_code_versions_follow_the_code_that_computes_each_asset(graph, monkeypatch):
    fn = ibu_model.op.compute_fn.decorated_fn
    used = code_version.computed_by(fn)
    assert "beer_platform.training.card_model" in used and "beer_platform.stages.catalog" in used
    assert "beer_platform.stages.raw" not in used  # another stage's code is not the model's
    assert graph.get(dg.AssetKey("ibu_model")).code_version == code_version.source_version(fn)

    original = code_version._module_source.__wrapped__
    edited = {"beer_platform.training.card_model": original("beer_platform.training.card_model") + "\nN_TREES = 101\n"}
    for cached in (code_version._module_source, code_version._closure):
        cached.cache_clear()
    monkeypatch.setattr(code_version, "_module_source", lambda module: edited.get(module) or original(module))
    try:
        assert code_version.source_version(fn) != graph.get(dg.AssetKey("ibu_model")).code_version
    finally:
        code_version._closure.cache_clear()


def test_ingestion_is_scheduled_once_a_day_and_runs_out_of_the_box(defs):
    from dagster._utils.schedules import cron_string_iterator  # what the daemon ticks with

    schedule = defs.resolve_schedule_def("daily_ingestion")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    start = datetime(2026, 12, 1, tzinfo=UTC)
    ticks = cron_string_iterator(start.timestamp(), schedule.cron_schedule, schedule.execution_timezone)
    assert next(ticks) + timedelta(days=1) == next(ticks)
    with dg.instance_for_test() as instance:
        tick = schedule.evaluate_tick(dg.build_schedule_context(instance, scheduled_execution_time=start))
    assert len(tick.run_requests) == 1  # one ingestion run per tick, of the ingestion asset alone
    job = defs.resolve_job_def(schedule.job_name)
    assert {key.to_user_string() for key in job.asset_layer.selected_asset_keys} == {"beer_events"}


def test_everything_downstream_follows_by_automation_whose_sensors_run_out_of_the_box(defs, graph):
    for name in ("lake_automation", "landed_days"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    scheduled = {dg.AssetKey("beer_events")}
    by_landed_days = set(defs.resolve_job_def(defs.resolve_sensor_def("landed_days").job_name).asset_layer.selected_asset_keys)
    assert by_landed_days == {dg.AssetKey(name) for name in ("cleaned_beers", "cleaned_beer_hops", "cleaned_recipes")}
    for key in set(graph.get_all_asset_keys()) - scheduled - by_landed_days - {SOURCE}:
        assert graph.get(key).automation_condition is not None, f"{key} would never run by itself"


def test_a_landing_that_touched_two_days_requests_exactly_those_two_partitions(defs):
    sensor = defs.resolve_sensor_def("landed_days")
    with dg.instance_for_test() as instance:
        touched = ["2026-11-30", "2026-12-01"]
        instance.report_runless_asset_event(
            dg.AssetMaterialization("raw_beers", metadata={"days_touched": dg.MetadataValue.json(touched)}))
        context = dg.build_sensor_context(instance=instance, definitions=defs)
        requests = sensor.evaluate_tick(context).run_requests
        assert sorted(r.partition_key for r in requests) == touched
        cleaned = {dg.AssetKey(name) for name in ("cleaned_beers", "cleaned_beer_hops", "cleaned_recipes")}
        assert all(set(r.asset_selection or cleaned) == cleaned for r in requests)  # every table of the day
        nothing_new = dg.build_sensor_context(instance=instance, definitions=defs, cursor=context.cursor)
        assert not sensor.evaluate_tick(nothing_new).run_requests  # the same landing is not cleaned twice


def test_the_cleaned_zone_is_partitioned_by_ingestion_day(graph):
    cleaned = {dg.AssetKey(name) for name in ("cleaned_beers", "cleaned_beer_hops", "cleaned_recipes")}
    for key in cleaned:
        partitions = graph.get(key).partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition) and partitions.timezone == "UTC"
        today = datetime.now(UTC).date().isoformat()
        assert partitions.get_last_partition_key() == today  # today's records land in today's partition
    for key in graph.get_all_asset_keys() - cleaned:
        assert graph.get(key).partitions_def is None, key


def test_cleaned_table_declares_its_typed_schema_and_checks(graph):
    schema = graph.get(dg.AssetKey("cleaned_beers")).metadata["dagster/column_schema"]
    assert [(c.name, c.type) for c in schema.columns] == [
        ("id", "int64"), ("name", "string"), ("abv", "float64"), ("ibu", "float64"), ("target_fg", "float64"),
        ("target_og", "float64"), ("ebc", "float64"), ("srm", "float64"), ("ph", "float64"),
    ]  # fmt: skip
    checks = {key.name for key in graph.asset_check_keys}
    assert {"ids_unique_and_present", "row_count_matches_api", "values_in_range", "no_rejected_records",
            "queryable", "column_schema_change", "hop_names_matched", "one_row_per_beer"} <= checks  # fmt: skip
    hops = graph.get(dg.AssetKey("cleaned_beer_hops")).metadata["dagster/column_schema"]
    assert ("kind", "string") in [(c.name, c.type) for c in hops.columns]
