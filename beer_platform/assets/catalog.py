"""The query layer: the Glue Data Catalog tables over the cleaned zone (beers, beer_hops, recipes)."""


import time

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.common import EAGER, column_schema, platform_asset, schema_change_checks
from beer_platform.resources import AWSResource, NamesResource, QueryResource
from beer_platform.stages.catalog import BEER_HOPS, BEERS, RECIPES, TableSpec, publish_table


def _catalog_asset(name: str, spec: TableSpec, cleaned: str, what: str):
    return platform_asset(
        name=name,
        deps=[AssetKey(cleaned)],
        group_name="catalog",
        kinds={"glue", "sql"},
        automation_condition=EAGER,
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


def publish_and_query(spec: TableSpec, aws: AWSResource, names: NamesResource, query: QueryResource):
    """Publish `spec`'s Glue table, then count its latest partition's rows through the catalog."""
    started = time.perf_counter()
    table = spec.glue_name(names.to_names())
    report = publish_table(aws.client("glue"), aws.client("s3"), names.glue_database, table, names.cleaned_bucket, spec)
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


@_catalog_asset("beers_table", BEERS, "cleaned_beers", "beers (the 9 typed fields)")
def beers_table(context: AssetExecutionContext, aws: AWSResource, names: NamesResource, query: QueryResource):
    yield from publish_and_query(BEERS, aws, names, query)


@_catalog_asset("beer_hops_table", BEER_HOPS, "cleaned_beer_hops", "hop additions (one row per addition)")
def beer_hops_table(context: AssetExecutionContext, aws: AWSResource, names: NamesResource, query: QueryResource):
    yield from publish_and_query(BEER_HOPS, aws, names, query)


@_catalog_asset("recipes_table", RECIPES, "cleaned_recipes", "recipes (volumes, attenuation: one row per beer)")
def recipes_table(context: AssetExecutionContext, aws: AWSResource, names: NamesResource, query: QueryResource):
    yield from publish_and_query(RECIPES, aws, names, query)


beers_table_schema_checks = schema_change_checks(beers_table)
beer_hops_table_schema_checks = schema_change_checks(beer_hops_table)
recipes_table_schema_checks = schema_change_checks(recipes_table)
