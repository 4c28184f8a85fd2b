"""The query layer: the Glue Data Catalog table over the cleaned zone."""


import time

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.common import FOLLOWS_PARTITIONS, column_schema, platform_asset, schema_change_checks
from beer_platform.assets.lake import cleaned_beers
from beer_platform.core.cleaning import CLEANED_SCHEMA
from beer_platform.core.tables import BEERS
from beer_platform.resources import AWSResource, NamesResource, QueryResource
from beer_platform.stages.catalog import publish_table


@platform_asset(
    deps=[cleaned_beers],
    group_name="catalog",
    kinds={"glue", "sql"},
    automation_condition=FOLLOWS_PARTITIONS,
    check_specs=[
        AssetCheckSpec(
            "queryable", asset="beers_table", blocking=True,
            description="A SQL engine reads the latest partition through the catalog and counts its rows.",
        )  # fmt: skip
    ],
    metadata={"dagster/column_schema": column_schema(CLEANED_SCHEMA)},
    description=(
        "The Glue Data Catalog table over the cleaned zone (Parquet, the 9 typed columns, partitioned "
        "by ingestion_date), created or updated idempotently, every partition registered."
    ),
)
def beers_table(context: AssetExecutionContext, aws: AWSResource, names: NamesResource, query: QueryResource):
    started = time.perf_counter()
    report = publish_table(
        aws.client("glue"), aws.client("s3"), names.glue_database, names.glue_table, names.cleaned_bucket, BEERS.spec
    )
    context.log.info(f"table {report.table} {report.action}; partitions added: {report.partitions_added}")
    yield MaterializeResult(
        metadata={
            "dagster/table_name": report.table,
            "dagster/uri": report.location,
            "table_action": report.action,
            "partitions": report.partitions,
            "partitions_added": MetadataValue.json(report.partitions_added),
            "latest_partition": report.latest_partition or "",
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
    sql = (
        f"SELECT count(*) AS n FROM {names.glue_table} "
        f"WHERE ingestion_date = '{report.latest_partition}'"
    )
    result = query.run(sql)
    rows = int(result.rows[0][0]) if result.rows else 0
    yield AssetCheckResult(
        check_name="queryable",
        passed=rows > 0,
        metadata={"engine": result.engine, "sql": sql, "rows_in_latest_partition": rows},
    )


beers_table_schema_checks = schema_change_checks(beers_table)
