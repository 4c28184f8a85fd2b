"""When things run: ingestion on a daily schedule, everything downstream by declarative automation.

Both are RUNNING out of the box (Dagster defaults them to STOPPED).
"""

from __future__ import annotations

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    Definitions,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    ScheduleDefinition,
    define_asset_job,
)

ingestion_job = define_asset_job(
    "ingestion_job",
    selection=AssetSelection.assets("beer_events"),
    description="Publish the PunkAPI catalogue to the stream.",
)

daily_ingestion = ScheduleDefinition(
    name="daily_ingestion",
    job=ingestion_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Ingest the catalogue every day at 06:00 UTC; the lake follows by automation.",
)

automation_sensor = AutomationConditionSensorDefinition(
    "lake_automation",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Materializes each asset once its parents have updated (its eager automation condition).",
)

# Everything, in graph order, for `make run` and `beer-platform materialize`.
all_assets_job = define_asset_job("all_assets_job", selection=AssetSelection.all())

definitions = Definitions(
    jobs=[ingestion_job, all_assets_job], schedules=[daily_ingestion], sensors=[automation_sensor]
)
