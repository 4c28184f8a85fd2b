"""The data lake: the raw zone (records as received) and the cleaned zone (typed Parquet, one
partition per ingestion day, one asset per table of `lake.tables`, all built in one pass)."""


import time

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
from beer_platform.assets.ingestion import beer_events
from beer_platform.lake import object_keys
from beer_platform.lake.declaration import Table
from beer_platform.lake.tables import TABLES
from beer_platform.resources import AWSResource, NamesResource
from beer_platform.stages import cleaned, raw

# raw_beers' metadata: the ingestion days it wrote parts for, i.e. the cleaned zone's partitions to redo.
DAYS_TOUCHED = "days_touched"
# The cleaned zone's partitions: the ingestion days (UTC) the raw zone holds parts for, added as landed.
INGESTION_DAYS = DynamicPartitionsDefinition(name="ingestion_days")


class LandingConfig(Config):
    """Run config of raw_beers (the launchpad in the UI, or `run_config` in code)."""

    accept_trimmed_gap: bool = Field(
        default=False,
        description="Land from the trim horizon even though records expired from the stream before they were "
        "landed (the run failed naming the shards and the gap). Acknowledges that those records are lost.",
    )


@platform_asset(
    deps=[beer_events],
    group_name="lake",
    kinds={"python", "s3"},
    automation_condition=EAGER,
    description=(
        "The stream's records landed exactly as received in the raw zone: append-only gzipped JSON-lines "
        "parts, one bounded batch of one shard each, per ingestion day. Reads each shard from its last "
        "committed position, parents before children; lands each record once; fails loudly if records "
        "expired from the stream before they were landed."
    ),
)
def raw_beers(
    context: AssetExecutionContext, config: LandingConfig, aws: AWSResource, names: NamesResource
) -> MaterializeResult:
    started = time.perf_counter()
    report = raw.land(aws.client("kinesis"), aws.client("s3"), names.stream, names.raw_bucket,
                      names.artifacts_bucket, accept_trimmed_gap=config.accept_trimmed_gap,
                      reported_positions=_reported_positions(context))  # fmt: skip
    context.log.info(f"read {report.read} records, landed {report.landed}, {report.already_landed} already there")
    for gap in report.gaps_accepted:
        context.log.warning(f"accepted a gap: {gap}")
    days = ", ".join(report.days_touched) or "no day"
    new_days = [day for day in report.days_touched if not context.instance.has_dynamic_partition(INGESTION_DAYS.name, day)]
    context.instance.add_dynamic_partitions(INGESTION_DAYS.name, new_days)
    return MaterializeResult(
        metadata={
            "dagster/row_count": report.landed,
            "dagster/uri": f"s3://{names.raw_bucket}/{object_keys.RAW_PREFIX}/",
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
    )


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
    "with the other cleaned tables in one pass. Materialized for the days each landing touched (sensor "
    "`landed_days`); a backfill re-cleans any day from the raw zone."
)


def cleaned_specs(tables: tuple[Table, ...]) -> list[AssetSpec]:
    return [
        AssetSpec(table.cleaned_asset, deps=[raw_beers, *(f"cleaned_{source}" for source in table.built_from)],
                  group_name="lake", kinds={"polars", "s3", "parquet"}, description=f"{table.description} {_PER_DAY}",
                  metadata={"dagster/column_schema": column_schema(table)})
        for table in tables
    ]  # fmt: skip


def cleaned_tables_asset(tables: tuple[Table, ...]) -> AssetsDefinition:
    """One computation per ingestion day builds every table of `tables` (`stages.cleaned`)."""
    checks = [AssetCheckSpec(check.name, asset=table.cleaned_asset, blocking=check.blocking,
                             description=check.description) for table in tables for check in table.checks]  # fmt: skip
    modules = tuple(sorted({table.build.__module__ for table in tables}))

    @platform_multi_asset(specs=cleaned_specs(tables), modules=modules, partitions_def=INGESTION_DAYS,
                          check_specs=checks, name="cleaned_tables")  # fmt: skip
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


def definitions(tables: tuple[Table, ...] = TABLES) -> Definitions:
    """The raw zone's asset and the cleaned zone's, for `tables`."""
    computation = cleaned_tables_asset(tables)
    return Definitions(assets=[raw_beers, computation], asset_checks=schema_change_checks(computation))
