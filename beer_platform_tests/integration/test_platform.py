"""The real asset graph, materialized against the local stack, checked with clients that are not ours."""

from __future__ import annotations

import gzip
import json

import duckdb
import httpx
import pytest
from dagster import AssetKey, DagsterInstance

from beer_platform.lake.tables import BEER_HOPS, BEERS, RECIPES, CATALOGUE_TABLES
from beer_platform.aws import s3 as s3_ops
from beer_platform.aws.clients import AwsClients
from beer_platform.aws.query import httpfs_extension_path
from beer_platform.definitions import build_definitions
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.resources import PunkAPIResource, build_resources
from beer_platform.runner import backfill, run_platform, user_error
from beer_platform_tests.assets.stage_inputs import stream_records

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture(scope="module")
def defs(settings):
    return build_definitions(settings)


@pytest.fixture(scope="module")
def boto(settings):
    return AwsClients.from_settings(settings).client


class Runs:
    """The runs of one `run_platform` (landing, a cleaning per day, publishing), read as one."""

    def __init__(self, outcome):
        assert outcome.success, outcome.error
        self.outcome = outcome

    def get_asset_materialization_events(self):
        return [e for result in self.outcome.results for e in result.get_asset_materialization_events()]

    def get_asset_check_evaluations(self):
        return [e for result in self.outcome.results for e in result.get_asset_check_evaluations()]

    def materializations(self) -> dict:
        return {e.asset_key.to_user_string(): e.materialization for e in self.get_asset_materialization_events()}


@pytest.fixture(scope="module")
def first_run(defs, instance):
    return Runs(run_platform(defs, instance, echo=lambda line: None))


def lake_snapshot(boto, settings) -> dict[str, str]:
    s3 = boto("s3")
    names = settings.names
    return {
        f"{bucket}/{obj.key}": obj.etag
        for bucket in (names.raw_bucket, names.cleaned_bucket)
        for obj in s3_ops.list_objects(s3, bucket, "")
    }


def test_every_asset_materializes_and_every_check_passes(first_run, defs):
    materialized = {e.asset_key for e in first_run.get_asset_materialization_events()}
    graph = defs.resolve_asset_graph()
    # the prediction log's days: none yet, nothing was answered before this first run
    per_prediction_day = {AssetKey("cleaned_predictions"), AssetKey("ibu_model_monitoring")}
    assert materialized == {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable} - per_prediction_day
    checks = {e.check_name: e.passed for e in first_run.get_asset_check_evaluations()}
    assert checks["ids_unique_and_present"] and checks["row_count_matches_api"] and checks["queryable"]
    assert checks["hop_names_matched"] and checks["one_row_per_beer"]
    assert checks["better_than_baseline_and_current"]
    assert checks["values_in_range"] is False  # the real data has ph 79 and ibu == target_og: flagged, kept
    api_rows = next(e for e in first_run.get_asset_materialization_events() if e.asset_key == AssetKey("beer_events"))
    assert api_rows.materialization.metadata["dagster/row_count"].value == 325


def test_the_lambda_image_was_built_verified_pushed_and_deployed_by_digest(first_run, boto, settings, local_stack):
    event = next(e for e in first_run.get_asset_materialization_events()
                 if e.asset_key.to_user_string() == "ibu_model_lambda")  # fmt: skip
    metadata = {key: value.value for key, value in event.materialization.metadata.items()}
    # version 1 is Terraform's: infra/ creates the function from its first image (local.tfvars)
    assert metadata["deployed"] is True and metadata["version"] == "2"
    assert metadata["image_uri"].startswith(f"{local_stack['registry']}/{settings.names.ecr_repository}@sha256:")
    assert metadata["image_uri"] == boto("lambda").get_function(
        FunctionName=settings.names.lambda_function, Qualifier=settings.names.lambda_alias)["Code"]["ImageUri"]
    assert 250 * 2**20 < metadata["image_size_bytes"] < 10 * 2**30
    assert metadata["cold_start_s"] > 0 and metadata["warm_p50_ms"] > 0
    assert "GET /readyz -> 200" in metadata["verification"]


def test_raw_zone_holds_every_record_as_the_api_served_it(first_run, boto, settings):
    s3 = boto("s3")
    keys = [o.key for o in s3_ops.list_objects(s3, settings.names.raw_bucket, "beers/")]
    assert len(keys) == 2 and all(key.endswith(".jsonl.gz") for key in keys)  # one part per shard
    lines = [json.loads(x) for key in keys
             for x in gzip.decompress(s3_ops.get_bytes(s3, settings.names.raw_bucket, key)).splitlines()]  # fmt: skip
    assert len(lines) == 325
    by_id = {line["data"]["id"]: line["data"] for line in lines}
    assert by_id == {beer["id"]: beer for beer in load_beers()}


def test_glue_table_is_typed_parquet_with_partitions(first_run, boto, settings):
    glue = boto("glue")
    table = glue.get_table(DatabaseName=settings.names.glue_database, Name=BEERS.name)["Table"]
    sd = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [
        ("id", "bigint"), ("name", "string"), ("abv", "double"), ("ibu", "double"), ("target_fg", "double"),
        ("target_og", "double"), ("ebc", "double"), ("srm", "double"), ("ph", "double"),
    ]  # fmt: skip
    assert "ParquetHiveSerDe" in sd["SerdeInfo"]["SerializationLibrary"]
    assert table["PartitionKeys"] == [{"Name": "ingestion_date", "Type": "string"}]
    partitions = glue.get_partitions(DatabaseName=settings.names.glue_database, TableName=BEERS.name)
    assert len(partitions["Partitions"]) == 1


def test_duckdb_reads_the_tables_parquet_straight_from_s3(first_run, boto, settings):
    glue = boto("glue")
    location = glue.get_table(DatabaseName=settings.names.glue_database, Name=BEERS.name)[
        "Table"]["StorageDescriptor"]["Location"]  # fmt: skip
    con = duckdb.connect()
    con.execute(f"INSTALL '{httpfs_extension_path()}'; LOAD httpfs;")
    host = settings.aws_endpoint_url.removeprefix("http://")
    con.execute(f"SET s3_endpoint='{host}'; SET s3_use_ssl=false; SET s3_url_style='path'; "
                "SET s3_access_key_id='test'; SET s3_secret_access_key='test'; SET s3_region='eu-west-1';")  # fmt: skip
    con.execute(f"CREATE TABLE beers AS SELECT * FROM read_parquet('{location}*/*.parquet', hive_partitioning=true)")
    assert con.execute("SELECT count(*), count(DISTINCT id) FROM beers").fetchone() == (325, 325)
    assert con.execute("SELECT name, abv FROM beers WHERE id = 1").fetchone() == ("Buzz", 4.5)
    assert con.execute("SELECT ph FROM beers WHERE id = 317").fetchone() == (79.0,)  # kept as published
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE beers)").fetchall())
    assert types["id"] == "BIGINT" and types["ibu"] == "DOUBLE" and types["name"] == "VARCHAR"


def test_the_recipe_tables_answer_sql_through_the_catalog(first_run, boto, settings):
    query = build_resources(settings)["query"]
    names = settings.names
    hops = boto("glue").get_table(DatabaseName=names.glue_database, Name=BEER_HOPS.name)["Table"]
    assert [c["Name"] for c in hops["StorageDescriptor"]["Columns"]][:5] == ["beer_id", "addition", "name", "variety", "kind"]
    assert hops["PartitionKeys"] == [{"Name": "ingestion_date", "Type": "string"}]
    for table in (BEER_HOPS.name, RECIPES.name):  # every partition registered
        assert len(boto("glue").get_partitions(DatabaseName=names.glue_database, TableName=table)["Partitions"]) == 1
    assert query.run(f"SELECT count(*), count(DISTINCT beer_id) FROM {BEER_HOPS.name}").rows == [(1817, 324)]
    assert query.run(f"SELECT count(*) FROM {RECIPES.name} WHERE volume_litres = 20").rows == [(325,)]
    joined = query.run(
        f"SELECT b.name, sum(h.grams) FROM {BEERS.name} b JOIN {BEER_HOPS.name} h ON h.beer_id = b.id "
        "WHERE b.id = 1 GROUP BY b.name"
    )  # fmt: skip
    assert joined.rows == [("Buzz", 162.5)]


def test_materializing_again_changes_nothing(first_run, defs, instance, boto, settings):
    before = lake_snapshot(boto, settings)
    kinesis = boto("kinesis")
    stream_before = stream_records(kinesis, settings.names.stream)
    again = Runs(run_platform(defs, instance, echo=lambda line: None))
    assert lake_snapshot(boto, settings) == before
    assert len(stream_records(kinesis, settings.names.stream)) == len(stream_before)  # not published twice a day
    events = again.materializations()
    assert events["beer_events"].metadata["records_published"].value == 0
    assert events["raw_beers"].metadata["records_landed"].value == 0
    assert not {table.cleaned_asset for table in CATALOGUE_TABLES} & set(events)  # no day was touched: no day is cleaned again
    assert events["ibu_model"].metadata["retrained"].value is False  # same data, same code
    assert events["ibu_model_lambda"].metadata["deployed"].value is False  # already live


def test_a_day_cleaned_again_is_rebuilt_from_the_raw_zone_and_served_the_same(first_run, defs, instance, boto,
                                                                             settings):  # fmt: skip
    s3, names = boto("s3"), settings.names
    day = first_run.materializations()["cleaned_beers"].partition
    keys = [o.key for table in ("beers", "beer_hops", "recipes")
            for o in s3_ops.list_objects(s3, names.cleaned_bucket, f"{table}/ingestion_date={day}/")]  # fmt: skip
    assert len(keys) == 3
    for key in keys:  # lost, or cleaned with a bug since fixed
        s3.delete_object(Bucket=names.cleaned_bucket, Key=key)
    outcome = backfill(defs, instance, [("cleaning_job", day)], echo=lambda line: None)
    assert outcome.success, outcome.error
    assert {f"{asset}[{day}]" for asset in (table.cleaned_asset for table in CATALOGUE_TABLES)} <= set(outcome.assets)  # every table of the day, rebuilt
    assert all(s3_ops.head_metadata(s3, names.cleaned_bucket, key) is not None for key in keys)
    assert outcome.assets[f"cleaned_beers[{day}]"].metadata["dagster/row_count"] == 325
    assert outcome.assets[f"cleaned_beer_hops[{day}]"].metadata["dagster/row_count"] == 1817
    assert outcome.assets["ibu_model"].metadata["retrained"] is False  # the same rows again


def test_a_failing_api_fails_the_run_and_publishes_nothing(first_run, instance, boto, settings, local_stack):
    control = local_stack["punkapi_base_url"].removesuffix("/v2") + "/__replica__"
    stream_before = stream_records(boto("kinesis"), settings.names.stream)
    httpx.put(f"{control}/faults", json={"error_rate": 1.0}).raise_for_status()
    try:
        quick = PunkAPIResource(base_url=settings.punkapi_base_url, max_attempts=3, backoff_initial_s=0.01,
                                backoff_max_s=0.05)  # fmt: skip
        defs = build_definitions(settings, punkapi=quick)
        result = defs.resolve_job_def("ingestion_job").execute_in_process(instance=instance, raise_on_error=False)
    finally:
        httpx.post(f"{control}/reset").raise_for_status()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "failed after 3 attempts" in user_error(failure.event_specific_data.error)
    assert len(stream_records(boto("kinesis"), settings.names.stream)) == len(stream_before)


def test_query_command_answers_sql_over_the_table(first_run, stack_dir):
    from beer_platform_tests.conftest import run_cli

    env = {"BEER_PLATFORM_STACK_DIR": str(stack_dir), "BEER_PLATFORM_ENV": "local"}
    ok = run_cli("query", "SELECT count(*) AS n, max(abv) AS strongest FROM beers", "--json", env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == [{"n": 325, "strongest": 55.0}]
    bad = run_cli("query", "SELECT nope FROM beers", env=env)
    assert bad.returncode == 2 and "nope" in bad.stderr


def test_a_model_worse_than_the_one_in_the_store_is_blocked_not_saved_nor_deployed(first_run, defs, instance):
    import bentoml

    from beer_platform.serving import model_store
    from beer_platform_tests.shipped_model import shipped_models

    trained = model_store.stored_metrics(model_store.latest_model_info())
    excellent = model_store.save_model(
        shipped_models().compiled(), {"card": trained["card"], "recipe": {**trained["recipe"], "cv_mae": 5.0}},
        "another-data-version", extra_metadata={"code_version": "0"},
    )  # fmt: skip
    try:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=[AssetKey("ibu_model"), AssetKey("ibu_model_lambda")],
            raise_on_error=False,
        )
        check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "better_than_baseline_and_current")
        assert not check.passed
        [reason] = check.metadata["reasons"].value  # the card model is as good as its stored namesake
        assert reason.startswith("recipe model: cv_mae ")
        assert reason.endswith(" is worse than the current model's 5.00 by more than 5% (limit 5.25)")
        assert model_store.latest_model_info()["tag"] == excellent  # the worse model was not saved
        deployed = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        assert "ibu_model_lambda" not in deployed  # the blocking check stopped the deployment
    finally:
        bentoml.models.delete(excellent)


def test_a_challenger_worse_than_the_live_model_does_not_move_the_alias(first_run, defs, instance, boto, settings):
    import bentoml

    from beer_platform.deployment import lambda_api
    from beer_platform.serving import model_store
    from beer_platform_tests.shipped_model import shipped_models

    live = model_store.latest_model_info()
    live_version = lambda_api.live_version(boto("lambda"), settings.names)[0]
    trained = model_store.stored_metrics(live)
    worse = {"card": trained["card"], "recipe": {**trained["recipe"], "cv_mae": trained["recipe"]["cv_mae"] + 0.5}}
    challenger = model_store.save_model(shipped_models().compiled(), worse, live["metadata"]["data_version"],
                                        extra_metadata={"code_version": "0"})  # fmt: skip
    try:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=[AssetKey("ibu_model_lambda")])  # fmt: skip
        meta = result.asset_materializations_for_node("ibu_model_lambda")[0].metadata
        assert meta["deployed"].value is False and meta["live_model"].value == live["tag"]
        assert "recipe model: CV MAE" in meta["reason"].value and "worse than the live model's" in meta["reason"].value
        assert meta["challenger_same_rows"].value is True
        assert meta["challenger_recipe_cv_mae"].value > meta["live_recipe_cv_mae"].value
        assert lambda_api.live_version(boto("lambda"), settings.names)[0] == live_version  # the alias stayed
    finally:
        bentoml.models.delete(challenger)


def test_the_deployed_function_answers_and_refuses_a_rollback_with_nothing_to_go_back_to(first_run, stack_dir):
    from beer_platform_tests.conftest import run_cli

    env = {"BEER_PLATFORM_STACK_DIR": str(stack_dir), "BEER_PLATFORM_ENV": "local"}
    buzz = {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4}
    answer = run_cli("lambda", "invoke", "--json", json.dumps([buzz, load_beers()[0]]), env=env)
    assert answer.returncode == 0, answer.stderr
    body = json.loads(answer.stdout)
    assert [p["model"] for p in body["predictions"]] == ["card", "recipe"] and body["model"].startswith("ibu_model:")
    bad = run_cli("lambda", "invoke", "--json", json.dumps([{**buzz, "ph": 79}]), env=env)
    assert bad.returncode == 1 and "ph" in bad.stdout
    rollback = run_cli("lambda", "rollback", env=env)
    assert rollback.returncode == 1 and "no earlier release" in rollback.stderr
