"""The query layer: a Glue Data Catalog table over each cleaned table (beers, beer_hops, recipes),
one asset per `lake.tables` spec."""


import time

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.common import FOLLOWS_PARTITIONS, column_schema, platform_asset, schema_change_checks
from beer_platform.assets.lake import cleaned_asset_key
from beer_platform.lake.tables import BEER_HOPS, BEERS, RECIPES, TableBuilder, TableSpec
from beer_platform.resources import AWSResource, NamesResource, QueryResource
from beer_platform.stages.catalog import publish_table


def publish_and_query(context: AssetExecutionContext, spec: TableSpec, aws: AWSResource, names: NamesResource,
                      query: QueryResource):  # fmt: skip
    """Publish `spec`'s Glue table (every partition registered), then count its latest partition's
    rows through the catalog."""
    started = time.perf_counter()
    table = names.to_names().glue_table_of(spec.name)
    report = publish_table(aws.client("glue"), aws.client("s3"), names.glue_database, table, names.cleaned_bucket, spec)
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
    sql = f"SELECT count(*) AS n FROM {table} WHERE ingestion_date = '{report.latest_partition}'"
    result = query.run(sql)
    rows = int(result.rows[0][0]) if result.rows else 0
    yield AssetCheckResult(
        check_name="queryable",
        passed=rows > 0,
        metadata={"engine": result.engine, "sql": sql, "rows_in_latest_partition": rows},
    )


def table_asset(builder: TableBuilder, what: str) -> AssetsDefinition:
    """The catalog asset of one cleaned table: `<name>_table`, below `cleaned_<name>`."""
    spec = builder.spec
    name = f"{spec.name}_table"
    cleaned = cleaned_asset_key(spec)

    @platform_asset(
        name=name,
        deps=[AssetKey(cleaned)],
        group_name="catalog",
        kinds={"glue", "sql"},
        automation_condition=FOLLOWS_PARTITIONS,
        check_specs=[
            AssetCheckSpec(
                "queryable", asset=name, blocking=True,
                description="A SQL engine reads the latest partition through the catalog and counts its rows.",
            )  # fmt: skip
        ],
        metadata={"dagster/column_schema": column_schema(spec.schema)},
        description=(
            f"The Glue Data Catalog table of {what} over the cleaned zone ({cleaned}: Parquet, partitioned by "
            "ingestion_date), created or updated idempotently, every partition registered."
        ),
    )
    def publish(context: AssetExecutionContext, aws: AWSResource, names: NamesResource, query: QueryResource):
        yield from publish_and_query(context, spec, aws, names, query)

    return publish


beers_table = table_asset(BEERS, "beers (the 9 typed fields)")
beer_hops_table = table_asset(BEER_HOPS, "hop additions (one row per addition)")
recipes_table = table_asset(RECIPES, "recipes (volumes, attenuation: one row per beer)")

beers_table_schema_checks = schema_change_checks(beers_table)
beer_hops_table_schema_checks = schema_change_checks(beer_hops_table)
recipes_table_schema_checks = schema_change_checks(recipes_table)
