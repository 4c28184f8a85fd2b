"""The data lake: the raw zone (records as received) and the cleaned zone (typed Parquet)."""


import time

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.common import EAGER, column_schema, schema_change_checks, markdown_table, platform_asset
from beer_platform.assets.ingestion import beer_events
from beer_platform.core.cleaning import CLEANED_SCHEMA, find_anomalies
from beer_platform.resources import AWSResource, NamesResource
from beer_platform.stages import cleaned, raw


@platform_asset(
    deps=[beer_events],
    group_name="lake",
    kinds={"python", "s3"},
    automation_condition=EAGER,
    description=(
        "The stream's records landed exactly as received (gzipped JSON lines, one part per ingestion "
        "day) in the raw zone. Reads each shard from its last committed position; lands each record once."
    ),
)
def raw_beers(context: AssetExecutionContext, aws: AWSResource, names: NamesResource) -> MaterializeResult:
    started = time.perf_counter()
    report = raw.land(aws.client("kinesis"), aws.client("s3"), names.stream, names.raw_bucket, names.artifacts_bucket)
    context.log.info(f"read {report.read} records, landed {report.landed}, {report.already_landed} already there")
    return MaterializeResult(
        metadata={
            "dagster/row_count": report.latest_part_records,
            "dagster/uri": report.latest_part or f"s3://{names.raw_bucket}/",
            "records_read": report.read,
            "records_landed": report.landed,
            "records_already_landed": report.already_landed,
            "parts_written": MetadataValue.json(report.parts_written),
            "shard_positions": MetadataValue.json(report.positions),
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
                   description="The latest partition holds as many beers as the API returned."),
    AssetCheckSpec("values_in_range", asset="cleaned_beers",
                   description="Warns about published values outside physical ranges (kept, flagged)."),
    AssetCheckSpec("no_rejected_records", asset="cleaned_beers",
                   description="Warns when raw records could not be cleaned (kept aside in _rejects/)."),
]  # fmt: skip


@platform_asset(
    deps=[raw_beers],
    group_name="lake",
    kinds={"polars", "s3", "parquet"},
    automation_condition=EAGER,
    check_specs=CLEANED_CHECKS,
    metadata={"dagster/column_schema": column_schema(CLEANED_SCHEMA)},
    description=(
        "The published fields (id, name, abv, ibu, target_fg, target_og, ebc, srm, ph), typed, one row "
        "per beer (latest wins), as Parquet partitioned by ingestion date. Anomalies are flagged, not dropped."
    ),
)
def cleaned_beers(context: AssetExecutionContext, aws: AWSResource, names: NamesResource):
    started = time.perf_counter()
    s3 = aws.client("s3")
    report = cleaned.clean(s3, names.raw_bucket, names.cleaned_bucket)
    beers = report.latest if report.latest is not None else pl.DataFrame(schema=CLEANED_SCHEMA)
    anomalies = find_anomalies(beers)
    yield MaterializeResult(
        metadata={
            "dagster/row_count": beers.height,
            "dagster/column_schema": column_schema(dict(beers.schema)),
            "dagster/uri": report.partitions.get(report.latest_day or "", f"s3://{names.cleaned_bucket}/"),
            "latest_partition": report.latest_day or "",
            "partitions": len(report.partitions),
            "partitions_written": MetadataValue.json(report.partitions_written),
            "partitions_unchanged": report.partitions_unchanged,
            "rejected_records": report.rejected,
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
        metadata={"api_rows": expected if expected is not None else -1, "cleaned_rows": beers.height},
    )
    flagged = {kind: ids for kind, ids in anomalies.items() if ids}
    yield AssetCheckResult(
        check_name="values_in_range",
        passed=not flagged,
        severity=AssetCheckSeverity.WARN,
        metadata={kind: MetadataValue.json(ids) for kind, ids in flagged.items()},
    )
    rejected = cleaned.rejected_in(s3, names.cleaned_bucket, report.latest_day) if report.latest_day else []
    yield AssetCheckResult(
        check_name="no_rejected_records",
        passed=not rejected,
        severity=AssetCheckSeverity.WARN,
        metadata={"rejected": len(rejected)},
    )


cleaned_beers_schema_checks = schema_change_checks(cleaned_beers)
