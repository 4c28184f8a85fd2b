"""The Definitions of the beer_platform code location: assets, checks, automation, resources."""

from __future__ import annotations

import warnings

from dagster import AssetCheckSeverity, BetaWarning, Definitions, build_column_schema_change_checks

from beer_platform.assets.catalog import beers_table
from beer_platform.assets.serving import ibu_model_lambda
from beer_platform.assets.ingestion import beer_events, punkapi
from beer_platform.assets.lake import cleaned_beers, raw_beers
from beer_platform.assets.ml import ibu_model
from beer_platform.automation import all_assets_job, automation_sensor, daily_ingestion, ingestion_job
from beer_platform.resources import build_resources
from beer_platform.settings import Settings, load_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", BetaWarning)  # beta in 1.13, and exactly the check we want
    schema_checks = build_column_schema_change_checks(
        assets=[cleaned_beers, beers_table], severity=AssetCheckSeverity.WARN
    )


def build_definitions(settings: Settings, **resource_overrides) -> Definitions:
    return Definitions(
        assets=[punkapi, beer_events, raw_beers, cleaned_beers, beers_table, ibu_model, ibu_model_lambda],
        asset_checks=schema_checks,
        jobs=[ingestion_job, all_assets_job],
        schedules=[daily_ingestion],
        sensors=[automation_sensor],
        resources=build_resources(settings) | resource_overrides,
    )


defs = build_definitions(load_settings())
