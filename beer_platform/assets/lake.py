"""The data lake: the raw zone (records as received) and the cleaned zone (typed Parquet)."""


import time

import polars as pl
from pydantic import Field
from dagster import (
    AssetCheckResult,
    Config,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.common import EAGER, column_schema, schema_change_checks, markdown_table, platform_asset
from beer_platform.assets.ingestion import beer_events
from beer_platform.core import object_keys
from beer_platform.core.cleaning import CLEANED_SCHEMA, find_anomalies
from beer_platform.core.tables import BEERS
from beer_platform.resources import AWSResource, NamesResource
from beer_platform.stages import cleaned, raw

# raw_beers' metadata: the ingestion days it wrote parts for, i.e. the cleaned_beers partitions to redo.
DAYS_TOUCHED = "days_touched"
# The cleaned zone's partitions: ingestion days (UTC), today included, from before the first landing.
FIRST_INGESTION_DAY = "2026-11-01"
INGESTION_DAYS = DailyPartitionsDefinition(start_date=FIRST_INGESTION_DAY, end_offset=1, timezone="UTC")


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
                      names.artifacts_bucket, accept_trimmed_gap=config.accept_trimmed_gap)  # fmt: skip
    context.log.info(f"read {report.read} records, landed {report.landed}, {report.already_landed} already there")
    for gap in report.gaps_accepted:
        context.log.warning(f"accepted a gap: {gap}")
    days = ", ".join(report.days_touched) or "no day"
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


def _api_row_count(context: AssetExecutionContext) -> int | None:
    event = context.instance.get_latest_materialization_event(AssetKey("beer_events"))
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get("dagster/row_count")
    return None if value is None else int(value.value)


CLEANED_CHECKS = [
    AssetCheckSpec("ids_unique_and_present", asset="cleaned_beers", blocking=True,
                   description="Every row has an id and no id appears twice."),
    AssetCheckSpec("row_count_matches_api", asset="cleaned_beers", blocking=True,
                   description="The day's partition holds as many beers as the API returned."),
    AssetCheckSpec("values_in_range", asset="cleaned_beers",
                   description="Warns about published values outside physical ranges (kept, flagged)."),
    AssetCheckSpec("no_rejected_records", asset="cleaned_beers",
                   description="Warns when raw records could not be cleaned (kept aside in _rejects/)."),
]  # fmt: skip


@platform_asset(
    deps=[raw_beers],
    group_name="lake",
    kinds={"polars", "s3", "parquet"},
    partitions_def=INGESTION_DAYS,
    check_specs=CLEANED_CHECKS,
    metadata={"dagster/column_schema": column_schema(CLEANED_SCHEMA)},
    description=(
        "The published fields (id, name, abv, ibu, target_fg, target_og, ebc, srm, ph), typed, one row per "
        "beer per ingestion day (latest wins), one Parquet partition per day, cleaned from that day's raw "
        "parts only. Materialized for the days each landing touched (sensor `landed_days`); a backfill "
        "re-cleans any day from the raw zone. Anomalies are flagged, not dropped."
    ),
)
def cleaned_beers(context: AssetExecutionContext, aws: AWSResource, names: NamesResource):
    started = time.perf_counter()
    s3 = aws.client("s3")
    day = context.partition_key
    report = cleaned.clean_day(s3, names.raw_bucket, names.cleaned_bucket, day)
    beers_out = report.tables[BEERS.spec.name]
    beers = beers_out.rows
    anomalies = find_anomalies(beers)
    yield MaterializeResult(
        metadata={
            "dagster/row_count": beers.height,
            "dagster/column_schema": column_schema(dict(beers.schema)),
            "dagster/uri": beers_out.uri,
            "summary": f"{day}: {beers.height} beers from {report.raw_records} records in {report.raw_parts} raw parts",
            "raw_parts": report.raw_parts,
            "raw_records": report.raw_records,
            "tables": MetadataValue.json({name: t.uri for name, t in report.tables.items()}),
            "rejected_records": beers_out.rejected,
            "anomalies": MetadataValue.json(anomalies),
            "preview": MetadataValue.md(markdown_table(beers.head(5))),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
    ids = beers["id"]
    yield AssetCheckResult(
        check_name="ids_unique_and_present",
        passed=bool(ids.null_count() == 0 and ids.n_unique() == beers.height),
        metadata={"null_ids": ids.null_count(), "duplicate_ids": beers.height - ids.n_unique()},
    )
    expected = _api_row_count(context)
    yield AssetCheckResult(
        check_name="row_count_matches_api",
        passed=expected is not None and expected == beers.height,
        metadata={"api_rows": expected if expected is not None else -1, "cleaned_rows": beers.height,
                  "partition": day},  # fmt: skip
    )
    flagged = {kind: ids for kind, ids in anomalies.items() if ids}
    yield AssetCheckResult(
        check_name="values_in_range",
        passed=not flagged,
        severity=AssetCheckSeverity.WARN,
        metadata={kind: MetadataValue.json(ids) for kind, ids in flagged.items()},
    )
    rejected = cleaned.rejected_in(s3, names.cleaned_bucket, day, BEERS.spec.prefix)
    yield AssetCheckResult(
        check_name="no_rejected_records",
        passed=not rejected,
        severity=AssetCheckSeverity.WARN,
        metadata={"rejected": len(rejected)},
    )


cleaned_beers_schema_checks = schema_change_checks(cleaned_beers)
