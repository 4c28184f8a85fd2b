"""The prediction log's way into the lake, as the platform runs it: land the predictions stream,
clean each day it touched (the table alone: the monitoring needs a catalogue these tests do not
build), register the table in Glue, then ask DuckDB."""

from __future__ import annotations

import dagster as dg

from beer_platform.assets.lake import PREDICTION_DAYS
from beer_platform.aws.query import QueryResult
from beer_platform.definitions import build_definitions
from beer_platform.settings import Settings


def land_clean_and_query(settings: Settings, sql: str) -> QueryResult:
    defs = build_definitions(settings)
    with dg.DagsterInstance.ephemeral() as instance:
        landed = dg.materialize([defs.resolve_assets_def("raw_predictions")], instance=instance)
        assert landed.success
        for day in instance.get_dynamic_partitions(PREDICTION_DAYS.name):
            cleaned = defs.resolve_job_def("prediction_cleaning_job").execute_in_process(
                instance=instance, partition_key=day, asset_selection=[dg.AssetKey("cleaned_predictions")])  # fmt: skip
            assert cleaned.success
        assert dg.materialize([defs.resolve_assets_def("predictions_table")], instance=instance).success
    return defs.resources["query"].run(sql)
