"""When things run: the catalogue's ingestion daily and the prediction log's landing hourly (schedules),
the catalogue's landing and everything below the cleaned zone by declarative automation, and the
cleaned zone's days by one sensor per raw zone (`landed_days`, `landed_prediction_days`).

The cleaned zone is partitioned by day and a landing can touch more than one day (a batch that
crosses midnight, a backlog): a landing names the days it wrote parts for (`days_touched` in its
metadata) and its zone's sensor requests exactly those partitions of the tables built from that
zone (one multi-asset, built together), one run each. Schedules and sensors are all RUNNING out
of the box (Dagster defaults them to STOPPED).

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
    SensorDefinition,
    ScheduleDefinition,
    SensorEvaluationContext,
    asset_sensor,
    define_asset_job,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from beer_platform.assets.lake import DAYS_TOUCHED, ZONES, Zone, by_zone
from beer_platform.lake.declaration import Table
from beer_platform.lake.tables import TABLES

LANDING = AssetSelection.assets("beer_events", *(zone.landing for zone in ZONES.values()))

ingestion_job = define_asset_job(
    "ingestion_job", selection=AssetSelection.assets("beer_events"), description="Publish the PunkAPI catalogue to the stream.",
)

daily_ingestion = ScheduleDefinition(
    name="daily_ingestion",
    job=ingestion_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Ingest the catalogue every day at 06:00 UTC; the lake follows by automation.",
)

prediction_landing_job = define_asset_job(
    "prediction_landing_job", selection=AssetSelection.assets("raw_predictions"),
    description="Land what the served model answered since the last landing.",
)

# Hourly, so the monitoring sees the served model within the hour (and a missed tick is far inside
# the stream's retention); a landing with nothing new writes nothing and cleans nothing.
hourly_prediction_landing = ScheduleDefinition(
    name="hourly_prediction_landing",
    job=prediction_landing_job,
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Land the prediction log every hour at :15; its days are cleaned and monitored as they land.",
)


def days_touched(event: EventLogEntry) -> list[str]:
    """The ingestion days a landing's materialization wrote parts for."""
    materialization = event.asset_materialization
    value = materialization.metadata.get(DAYS_TOUCHED) if materialization else None
    return list(value.value) if value is not None else []


def definitions(tables: tuple[Table, ...] = TABLES) -> Definitions:
    """The jobs, the schedule and the sensors, for the cleaned zone's `tables`: per raw zone, a job
    that cleans one of its days (a backfill runs it per day) and a sensor that requests it for
    the days each landing touched."""
    groups = by_zone(tables)
    cleaning_jobs = {zone: define_asset_job(
        zone.cleaning_job, selection=AssetSelection.assets(*(table.cleaned_asset for table in group), *zone.follows),
        partitions_def=zone.days, description=f"Clean one day of the raw zone {zone.source.zone}/"
        + (f", then {', '.join(zone.follows)}." if zone.follows else "."),
    ) for zone, group in groups.items()}  # fmt: skip
    cleaning = AssetSelection.assets(*(table.cleaned_asset for table in tables),
                                     *(name for zone in groups for name in zone.follows))  # fmt: skip
    # `beer-platform run` (make run): the landings, each day they touched, then everything below.
    landing_job = define_asset_job("landing_job", selection=LANDING, description="Publish, then land.")
    publishing_job = define_asset_job(
        "publishing_job", selection=AssetSelection.all() - LANDING - cleaning,
        description="Everything below the cleaned zone: the catalog tables, the model, its deployment, monitoring.",
    )  # fmt: skip
    automation_sensor = AutomationConditionSensorDefinition(
        "lake_automation", target=AssetSelection.all() - cleaning, default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Materializes each asset once its parents have updated (its eager automation condition).",
    )  # fmt: skip
    sensors = [landed_days(zone, job) for zone, job in cleaning_jobs.items()]
    return Definitions(jobs=[ingestion_job, prediction_landing_job, landing_job, publishing_job, *cleaning_jobs.values()],
                       schedules=[daily_ingestion, hourly_prediction_landing], sensors=[automation_sensor, *sensors])  # fmt: skip


def landed_days(zone: Zone, job: UnresolvedAssetJobDefinition) -> SensorDefinition:
    """After each landing of `zone`, cleans exactly the days it wrote parts for (one run per day)."""

    @asset_sensor(
        asset_key=AssetKey(zone.landing), job=job, name=zone.sensor, default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description=f"After each {zone.landing}, cleans exactly the days it wrote parts for (one run per day).",
    )  # fmt: skip
    def requested(context: SensorEvaluationContext, asset_event: EventLogEntry) -> Iterator[RunRequest]:
        for day in days_touched(asset_event):  # the landing added each as a partition before this event
            yield RunRequest(run_key=f"{zone.landing}:{asset_event.run_id}:{asset_event.timestamp}:{day}",
                             partition_key=day)  # fmt: skip

    return requested
