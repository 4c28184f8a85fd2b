"""The data lake: the raw zone (records as received) and the cleaned zone (typed Parquet, one
partition per ingestion day, one asset per table of `lake.tables`, all built in one pass)."""


import time
from dataclasses import dataclass

from pydantic import Field
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Config,
    Definitions,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.common import (
    EAGER, column_schema, markdown_table, platform_asset, platform_multi_asset, schema_change_checks,
)  # fmt: skip
from beer_platform.assets.serving import served_predictions
from beer_platform.lake.declaration import Source, Table, source_of
from beer_platform.lake.sources import CATALOGUE, PREDICTION_LOG
from beer_platform.lake.tables import TABLES
from beer_platform.resources import AWSResource, NamesResource
from beer_platform.stages import cleaned, raw

# A landing's metadata: the ingestion days it wrote parts for, i.e. the cleaned zone's partitions to redo.
DAYS_TOUCHED = "days_touched"
# Each raw zone's days (UTC), added as they are landed: the partitions of the tables built from it.
INGESTION_DAYS = DynamicPartitionsDefinition(name="ingestion_days")
PREDICTION_DAYS = DynamicPartitionsDefinition(name="prediction_days")


@dataclass(frozen=True)
class Zone:
    """A raw zone as assets: the landing asset that fills it from its stream, and its days."""

    source: Source
    landing: str  # the asset that lands it
    stream: str  # the `ResourceNames` field naming its stream
    days: DynamicPartitionsDefinition
    upstream: AssetKey  # what writes the stream
    cleaning_job: str  # cleans one of its days
    sensor: str  # requests the cleaning of the days a landing touched
    what: str  # what its records are, for descriptions
    follows: tuple[str, ...] = ()  # assets of the same days its cleaning job builds after the tables


ZONES = {zone.source.zone: zone for zone in (
    Zone(CATALOGUE, "raw_beers", "stream", INGESTION_DAYS, AssetKey("beer_events"), "cleaning_job", "landed_days",
         "the catalogue's records"),
    Zone(PREDICTION_LOG, "raw_predictions", "predictions_stream", PREDICTION_DAYS, served_predictions.key,
         "prediction_cleaning_job", "landed_prediction_days", "the served model's prediction records",
         follows=("ibu_model_monitoring",)),
)}  # fmt: skip


class LandingConfig(Config):
    """Run config of a landing (raw_beers, raw_predictions): the launchpad in the UI, or `run_config`."""

    accept_trimmed_gap: bool = Field(
        default=False,
        description="Land from the trim horizon even though records expired from the stream before they were "
        "landed (the run failed naming the shards and the gap). Acknowledges that those records are lost.",
    )


def landing_asset(zone: Zone) -> AssetsDefinition:
    """The asset that lands `zone`'s stream in the raw zone, and adds the days it touched as partitions."""

    @platform_asset(
        name=zone.landing, deps=[zone.upstream], group_name="lake", kinds={"python", "s3"},
        automation_condition=EAGER if zone.source is CATALOGUE else None,
        description=f"The stream's records ({zone.what}) landed exactly as received in the raw zone "
        f"`{zone.source.zone}/`: append-only gzipped JSON-lines parts, one bounded batch of one shard each, per "
        "ingestion day. Reads each shard from its last committed position, parents before children; lands each "
        "record once; fails loudly if records expired from the stream before they were landed.",
    )  # fmt: skip
    def land(context: AssetExecutionContext, config: LandingConfig, aws: AWSResource, names: NamesResource
             ) -> MaterializeResult:  # fmt: skip
        started = time.perf_counter()
        report = raw.land(aws.client("kinesis"), aws.client("s3"), getattr(names, zone.stream), names.raw_bucket,
                          names.artifacts_bucket, zone=zone.source.zone, accept_trimmed_gap=config.accept_trimmed_gap,
                          reported_positions=_reported_positions(context))  # fmt: skip
        context.log.info(f"read {report.read} records, landed {report.landed}, {report.already_landed} already there")
        for gap in report.gaps_accepted:
            context.log.warning(f"accepted a gap: {gap}")
        new = [day for day in report.days_touched if not context.instance.has_dynamic_partition(zone.days.name, day)]
        context.instance.add_dynamic_partitions(zone.days.name, new)
        return MaterializeResult(metadata=_landing_metadata(report, f"s3://{names.raw_bucket}/{zone.source.zone}/",
                                                            started))  # fmt: skip

    return land


def _landing_metadata(report: raw.LandingReport, uri: str, started: float) -> dict:
    days = ", ".join(report.days_touched) or "no day"
    return {
        "dagster/row_count": report.landed,
        "dagster/uri": uri,
        "summary": f"{report.landed} landed in {len(report.parts_written)} parts ({days}), "
        f"{report.already_landed} already there",
        DAYS_TOUCHED: MetadataValue.json(report.days_touched),
        "records_read": report.read,
        "records_landed": report.landed,
        "records_already_landed": report.already_landed,
        "batches": report.batches,
        "parts_written": MetadataValue.json(report.parts_written[:100]),
        "parts_written_count": len(report.parts_written),
        "shards_read": MetadataValue.json(report.shards_read),
        "shard_positions": MetadataValue.json(report.positions),
        "gaps_accepted": MetadataValue.json(report.gaps_accepted),
        "expired_iterators_renewed": report.expired_iterators,
        "seconds": round(time.perf_counter() - started, 3),
    }


raw_beers = landing_asset(ZONES[CATALOGUE.zone])
raw_predictions = landing_asset(ZONES[PREDICTION_LOG.zone])


def _reported_positions(context: AssetExecutionContext) -> dict[str, str | None]:
    """Where the last recorded landing ended ({} before the first): a checkpoint past it means a
    landing died after committing and before this record, and its days are reported again."""
    event = context.instance.get_latest_materialization_event(context.asset_key)
    if event is None or event.asset_materialization is None:
        return {}
    value = event.asset_materialization.metadata.get("shard_positions")
    return dict(value.value) if value is not None else {}


def _api_row_count(context: AssetExecutionContext) -> int | None:
    event = context.instance.get_latest_materialization_event(AssetKey("beer_events"))
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get("dagster/row_count")
    return None if value is None else int(value.value)


_PER_DAY = (
    "Partitioned by ingestion day: one Parquet partition per day, built from that day's raw parts only, "
    "with the other tables of its raw zone in one pass. Materialized for the days each landing touched (a "
    "sensor); a backfill re-cleans any day from the raw zone."
)


def cleaned_specs(tables: tuple[Table, ...], zone: Zone) -> list[AssetSpec]:
    return [
        AssetSpec(table.cleaned_asset, deps=[zone.landing, *(f"cleaned_{source}" for source in table.built_from)],
                  group_name="lake", kinds={"polars", "s3", "parquet"}, description=f"{table.description} {_PER_DAY}",
                  metadata={"dagster/column_schema": column_schema(table)})
        for table in tables
    ]  # fmt: skip


def cleaned_tables_asset(tables: tuple[Table, ...]) -> AssetsDefinition:
    """One computation per day of the tables' raw zone builds every table of `tables` (`stages.cleaned`)."""
    zone = ZONES[source_of(tables).zone]
    checks = [AssetCheckSpec(check.name, asset=table.cleaned_asset, blocking=check.blocking,
                             description=check.description) for table in tables for check in table.checks]  # fmt: skip
    modules = tuple(sorted({table.build.__module__ for table in tables}))

    @platform_multi_asset(specs=cleaned_specs(tables, zone), modules=modules, partitions_def=zone.days,
                          check_specs=checks, name=f"clean_{zone.source.zone}")  # fmt: skip
    def cleaned_tables(context: AssetExecutionContext, aws: AWSResource, names: NamesResource):
        started = time.perf_counter()
        done = cleaned.clean(aws.client("s3"), names.raw_bucket, names.cleaned_bucket, context.partition_key,
                             tables, facts={"api_rows": _api_row_count(context)})  # fmt: skip
        seconds = round(time.perf_counter() - started, 3)  # the tables are built in one pass
        for table in tables:
            yield MaterializeResult(asset_key=table.cleaned_asset, metadata=_table_metadata(table, done, seconds))
        by_name = {table.name: table for table in tables}
        for (name, check_name), outcome in done.report.checks.items():
            check = next(c for c in by_name[name].checks if c.name == check_name)
            yield AssetCheckResult(
                asset_key=by_name[name].cleaned_asset, check_name=check_name, passed=outcome.passed,
                severity=AssetCheckSeverity.WARN if check.warn else AssetCheckSeverity.ERROR,
                metadata={key: MetadataValue.json(value) if isinstance(value, (list, dict)) else value
                          for key, value in outcome.metadata.items()},
            )  # fmt: skip

    return cleaned_tables


def _table_metadata(table: Table, done: cleaned.CleanedDay, seconds: float) -> dict:
    report, day = done.report, done.day
    built = report.tables[table.name]
    return {
        "dagster/row_count": built.rows,
        "dagster/uri": done.uris[table.name],
        "dagster/column_schema": column_schema(table),  # what the schema-change check compares run to run
        "summary": f"{day}: {built.rows} {table.rows_are} from {report.raw_records} records in "
        f"{report.raw_parts} raw parts",
        "raw_parts": report.raw_parts,
        "raw_records": report.raw_records,
        "rejected_records": built.rejected,
        "preview": MetadataValue.md(markdown_table(built.preview)) if built.preview is not None else "",
        "seconds": seconds,
    }


def by_zone(tables: tuple[Table, ...]) -> dict[Zone, tuple[Table, ...]]:
    """`tables` grouped by the raw zone each is built from, in declaration order."""
    grouped: dict[Zone, list[Table]] = {}
    for table in tables:
        grouped.setdefault(ZONES[source_of(_with_bases(table, tables)).zone], []).append(table)
    return {zone: tuple(group) for zone, group in grouped.items()}


def _with_bases(table: Table, tables: tuple[Table, ...]) -> tuple[Table, ...]:
    return (table, *(other for other in tables if other.name in table.built_from))


def definitions(tables: tuple[Table, ...] = TABLES) -> Definitions:
    """The raw zones' landings and the cleaned zone's assets, one computation per raw zone of `tables`."""
    computations = [cleaned_tables_asset(group) for group in by_zone(tables).values()]
    return Definitions(assets=[raw_beers, raw_predictions, *computations],
                       asset_checks=[check for asset in computations for check in schema_change_checks(asset)])  # fmt: skip
