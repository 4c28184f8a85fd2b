"""When things run: ingestion on a daily schedule, the raw landing and everything below the cleaned
zone by declarative automation, and the cleaned zone's days by the `landed_days` sensor.

The cleaned zone is partitioned by ingestion day and a landing can touch more than one day (a
batch that crosses midnight, a backlog): `raw_beers` names the days it wrote parts for
(`days_touched` in its metadata) and `landed_days` requests exactly those partitions of
the cleaned tables (one multi-asset over `lake.tables`, built together), one run each. The schedule, the automation sensor and `landed_days` are all
RUNNING out of the box (Dagster defaults them to STOPPED).

The stream's retention must outlast the schedule's interval with room for a missed day: with a
daily schedule, `stream_retention_hours` (infra) defaults to 48 (a test keeps the two in step).
A landing that falls behind the retention fails naming the gap (see `stages.raw`).
"""

from __future__ import annotations

from collections.abc import Iterator

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    Definitions,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    asset_sensor,
    define_asset_job,
)

from beer_platform.assets.lake import DAYS_TOUCHED, INGESTION_DAYS
from beer_platform.lake.declaration import Table
from beer_platform.lake.tables import TABLES

LANDING = AssetSelection.assets("beer_events", "raw_beers")

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


def days_touched(event: EventLogEntry) -> list[str]:
    """The ingestion days a raw_beers materialization wrote parts for."""
    materialization = event.asset_materialization
    value = materialization.metadata.get(DAYS_TOUCHED) if materialization else None
    return list(value.value) if value is not None else []


def definitions(tables: tuple[Table, ...] = TABLES) -> Definitions:
    """The jobs, the schedule and the sensors, for the cleaned zone's `tables`."""
    cleaning = AssetSelection.assets(*(table.cleaned_asset for table in tables))  # built together: a day of each
    # One ingestion day of the cleaned zone (a partition key per run): what `landed_days` requests,
    # and what a backfill runs for each day.
    cleaning_job = define_asset_job("cleaning_job", selection=cleaning, partitions_def=INGESTION_DAYS,
                                    description="Clean one ingestion day from the raw zone.")  # fmt: skip
    # `beer-platform run` (make run): the landing, each day it touched, then everything below.
    landing_job = define_asset_job("landing_job", selection=LANDING, description="Publish, then land.")
    publishing_job = define_asset_job(
        "publishing_job", selection=AssetSelection.all() - LANDING - cleaning,
        description="Everything below the cleaned zone: the catalog tables, the model, its deployment.",
    )  # fmt: skip
    automation_sensor = AutomationConditionSensorDefinition(
        "lake_automation", target=AssetSelection.all() - cleaning, default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Materializes each asset once its parents have updated (its eager automation condition).",
    )  # fmt: skip

    @asset_sensor(
        asset_key=AssetKey("raw_beers"), job=cleaning_job, name="landed_days", default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="After each landing, cleans exactly the ingestion days it wrote parts for (one run per day).",
    )  # fmt: skip
    def landed_days(context: SensorEvaluationContext, asset_event: EventLogEntry) -> Iterator[RunRequest]:
        for day in days_touched(asset_event):  # raw_beers added each as a partition before this event
            yield RunRequest(run_key=f"raw_beers:{asset_event.run_id}:{asset_event.timestamp}:{day}", partition_key=day)

    return Definitions(jobs=[ingestion_job, cleaning_job, landing_job, publishing_job], schedules=[daily_ingestion],
                       sensors=[automation_sensor, landed_days])  # fmt: skip
