"""The code location as a user sees it in `dagster dev`: graph, lineage, automation, metadata.

What is expected is derived from the graph itself wherever the graph is what is checked, so that
adding an asset means editing only its module.
"""

from datetime import UTC, datetime, timedelta

import json
import os
import shutil
import subprocess
import sys

import dagster as dg
import pytest

from beer_platform.definitions import build_definitions
from beer_platform.lake.tables import CATALOGUE_TABLES, TABLES
from beer_platform.settings import SOURCE_ROOT, load_settings

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
    watching = dg.AssetSelection.assets(PRODUCT).downstream(include_self=False).resolve(graph)  # what the served product's answers feed
    assert {"served_predictions", "raw_predictions", "cleaned_predictions"} <= {k.to_user_string() for k in watching}
    assert graph.get_ancestor_asset_keys(PRODUCT) == everything - {PRODUCT} - watching  # the product uses the rest
    assert not graph.get(SOURCE).parent_keys and not graph.get(SOURCE).is_materializable  # an external source
    for key in everything - {SOURCE}:
        assert SOURCE in graph.get_ancestor_asset_keys(key), f"{key} does not descend from the API"


def test_every_asset_says_who_owns_it_what_it_is_and_its_version(graph):
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners and node.group_name and node.kinds and node.description, key
        if node.is_materializable:
            assert node.code_version, key


CODE_VERSIONS = """
import json
from beer_platform.definitions import defs
graph = defs.resolve_asset_graph()
print(json.dumps({key.to_user_string(): graph.get(key).code_version for key in graph.get_all_asset_keys()}))
"""


def test_code_versions_follow_the_code_that_computes_each_asset(graph, tmp_path):
    """A copy of the package with the training code and the landing's code edited: exactly the
    assets those compute change version (so the model retrains), the others keep theirs."""
    shutil.copytree(SOURCE_ROOT / "beer_platform", tmp_path / "beer_platform",
                    ignore=shutil.ignore_patterns("__pycache__", "*.json"))  # fmt: skip
    shutil.copy(SOURCE_ROOT / "beer_platform" / "local" / "data" / "beers.json", tmp_path / "beer_platform" / "local" / "data")
    for module in ("training/card_model.py", "stages/raw.py"):
        with (tmp_path / "beer_platform" / module).open("a") as source:
            source.write("\nEDITED = True\n")
    done = subprocess.run([sys.executable, "-c", CODE_VERSIONS], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    edited = json.loads(done.stdout.strip().splitlines()[-1])
    before = {key.to_user_string(): graph.get(key).code_version for key in graph.get_all_asset_keys()}
    changed = {key for key in before if edited[key] != before[key]}
    assert changed == {"ibu_model", "raw_beers", "raw_predictions"}  # both landings run stages.raw


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
    for name in ("hourly_prediction_landing",):
        assert defs.resolve_schedule_def(name).default_status == dg.DefaultScheduleStatus.RUNNING
    scheduled |= {dg.AssetKey("raw_predictions")}
    by_landed_days = set()
    for name in ("landed_days", "landed_prediction_days"):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        by_landed_days |= set(defs.resolve_job_def(sensor.job_name).asset_layer.selected_asset_keys)
    # each day's tables, and what watches the prediction log's days
    assert by_landed_days == {dg.AssetKey(table.cleaned_asset) for table in TABLES} | {dg.AssetKey("ibu_model_monitoring")}
    for key in set(graph.get_all_asset_keys()) - scheduled - by_landed_days:
        if not graph.get(key).is_materializable:  # written outside Dagster: the API, the served model's answers
            continue
        assert graph.get(key).automation_condition is not None, f"{key} would never run by itself"


def test_a_landing_that_touched_two_days_requests_exactly_those_two_partitions(defs):
    sensor = defs.resolve_sensor_def("landed_days")
    with dg.instance_for_test() as instance:
        touched = ["2026-11-30", "2026-12-01"]
        instance.add_dynamic_partitions("ingestion_days", touched)  # what raw_beers does as it lands them
        instance.report_runless_asset_event(
            dg.AssetMaterialization("raw_beers", metadata={"days_touched": dg.MetadataValue.json(touched)}))
        context = dg.build_sensor_context(instance=instance, definitions=defs)
        with dg.partition_loading_context(dynamic_partitions_store=instance):  # what the daemon provides
            requests = sensor.evaluate_tick(context).run_requests
        assert sorted(r.partition_key for r in requests) == touched
        cleaned = {dg.AssetKey(table.cleaned_asset) for table in CATALOGUE_TABLES}
        assert all(set(r.asset_selection or cleaned) == cleaned for r in requests)  # every table of the day
        nothing_new = dg.build_sensor_context(instance=instance, definitions=defs, cursor=context.cursor)
        with dg.partition_loading_context(dynamic_partitions_store=instance):
            assert not sensor.evaluate_tick(nothing_new).run_requests  # the same landing is not cleaned twice


def test_the_cleaned_zone_is_partitioned_by_the_days_that_were_landed(graph):
    cleaned = {dg.AssetKey(table.cleaned_asset) for table in TABLES}
    for key in cleaned:
        partitions = graph.get(key).partitions_def
        expected = "prediction_days" if key == dg.AssetKey("cleaned_predictions") else "ingestion_days"
        assert isinstance(partitions, dg.DynamicPartitionsDefinition) and partitions.name == expected
        with dg.instance_for_test() as instance:  # a new install shows no day at all before its first landing
            assert partitions.get_partition_keys(dynamic_partitions_store=instance) == []
    by_prediction_day = dg.AssetKey("ibu_model_monitoring")  # watches one day of the prediction log
    assert graph.get(by_prediction_day).partitions_def.name == "prediction_days"
    for key in graph.get_all_asset_keys() - cleaned - {by_prediction_day}:
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
