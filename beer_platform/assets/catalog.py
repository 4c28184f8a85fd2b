"""The query layer: a Glue Data Catalog table over each cleaned table of `lake.tables`."""


import time

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Definitions,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.common import FOLLOWS_PARTITIONS, column_schema, platform_asset, schema_change_checks
from beer_platform.lake.declaration import Table
from beer_platform.lake.tables import TABLES
from beer_platform.resources import AWSResource, NamesResource, QueryResource
from beer_platform.stages.catalog import publish_table


def publish_and_query(context: AssetExecutionContext, table: Table, aws: AWSResource, names: NamesResource,
                      query: QueryResource):  # fmt: skip
    """Publish the table in Glue (every partition registered), then count its latest partition's
    rows through the catalog."""
    started = time.perf_counter()
    report = publish_table(aws.client("glue"), aws.client("s3"), names.glue_database, names.cleaned_bucket, table)
    context.log.info(f"table {report.table} {report.action}; partitions added: {report.partitions_added}")
    yield MaterializeResult(
        metadata={
            "dagster/table_name": report.table,
            "dagster/uri": report.location,
            "dagster/column_schema": column_schema(table),  # what the schema-change check compares run to run
            "table_action": report.action,
            "partitions": report.partitions,
            "partitions_added": MetadataValue.json(report.partitions_added),
            "latest_partition": report.latest_partition or "",
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
    if report.latest_partition is None:  # nothing landed yet (a prediction log before any answer): nothing to read
        yield AssetCheckResult(check_name="queryable", passed=True, description="no partition yet",
                               metadata={"rows_in_latest_partition": 0})  # fmt: skip
        return
    sql = f"SELECT count(*) AS n FROM {table.name} WHERE ingestion_date = '{report.latest_partition}'"
    result = query.run(sql)
    rows = int(result.rows[0][0]) if result.rows else 0
    yield AssetCheckResult(
        check_name="queryable",
        passed=rows > 0,
        metadata={"engine": result.engine, "sql": sql, "rows_in_latest_partition": rows},
    )


def table_asset(table: Table) -> AssetsDefinition:
    """The catalog asset of one cleaned table: `<name>_table`, below `cleaned_<name>`."""

    @platform_asset(
        name=table.catalog_asset,
        deps=[AssetKey(table.cleaned_asset)],
        group_name="catalog",
        kinds={"glue", "sql"},
        automation_condition=FOLLOWS_PARTITIONS,
        check_specs=[
            AssetCheckSpec(
                "queryable", asset=table.catalog_asset, blocking=True,
                description="A SQL engine reads the latest partition through the catalog and counts its rows.",
            )  # fmt: skip
        ],
        metadata={"dagster/column_schema": column_schema(table)},
        description=f"The Glue Data Catalog table `{table.name}` over the cleaned zone ({table.cleaned_asset}: "
        "Parquet, partitioned by ingestion_date), created or updated idempotently, every partition registered.",
    )
    def publish(context: AssetExecutionContext, aws: AWSResource, names: NamesResource, query: QueryResource):
        yield from publish_and_query(context, table, aws, names, query)

    return publish


def definitions(tables: tuple[Table, ...] = TABLES) -> Definitions:
    assets = [table_asset(table) for table in tables]
    return Definitions(assets=assets, asset_checks=[check for asset in assets for check in schema_change_checks(asset)])
