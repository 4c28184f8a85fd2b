"""The data lake: the raw zone (records as received) and the cleaned zone (typed Parquet: beers,
beer_hops, recipes, built in one pass over each day's raw records)."""


import time

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.common import (
    EAGER, column_schema, markdown_table, platform_asset, platform_multi_asset, schema_change_checks,
)  # fmt: skip
from beer_platform.assets.ingestion import beer_events
from beer_platform.core.cleaning import CLEANED_SCHEMA, find_anomalies
from beer_platform.core.recipe_tables import BEER_HOPS_SCHEMA, RECIPES_SCHEMA, unmatched_hops
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
    AssetCheckSpec("hop_names_matched", asset="cleaned_beer_hops", blocking=True,
                   description="Every hop name matched the hop reference (core/data/hop_alpha_acids.csv). An "
                               "unknown name is kept with kind null and listed here, never counted as no "
                               "bitterness: the table and the model wait until the reference knows it."),
    AssetCheckSpec("one_row_per_beer", asset="cleaned_recipes", blocking=True,
                   description="Each cleaned beer has exactly one recipe row, or its recipe was rejected."),
    AssetCheckSpec("no_rejected_records", asset="cleaned_recipes",
                   description="Warns when a recipe could not be read (kept aside in _rejects/, with the reason)."),
]  # fmt: skip
CLEANED_ASSETS = {"beers": "cleaned_beers", "beer_hops": "cleaned_beer_hops", "recipes": "cleaned_recipes"}
_SCHEMAS = {"beers": CLEANED_SCHEMA, "beer_hops": BEER_HOPS_SCHEMA, "recipes": RECIPES_SCHEMA}
_LAKE = {"deps": [raw_beers], "group_name": "lake", "kinds": {"polars", "s3", "parquet"}, "automation_condition": EAGER}


@platform_multi_asset(
    specs=[
        AssetSpec("cleaned_beers", **_LAKE, metadata={"dagster/column_schema": column_schema(CLEANED_SCHEMA)},
                  description="The published fields (id, name, abv, ibu, target_fg, target_og, ebc, srm, ph), typed, "
                  "one row per beer (latest wins), as Parquet partitioned by ingestion date. Anomalies are "
                  "flagged, not dropped."),
        AssetSpec("cleaned_beer_hops", **_LAKE, metadata={"dagster/column_schema": column_schema(BEER_HOPS_SCHEMA)},
                  description="One row per hop addition of each beer's latest record (ingredients.hops): the name as "
                  "published, the matched variety and kind, grams, the add and its boil minutes, dry hop, "
                  "attribute. Partitioned by ingestion date."),
        AssetSpec("cleaned_recipes", **_LAKE, metadata={"dagster/column_schema": column_schema(RECIPES_SCHEMA)},
                  description="One row per beer: batch and boil volume in litres, attenuation. Partitioned by "
                  "ingestion date; a recipe that cannot be read is kept aside in _rejects/."),
    ],
    check_specs=CLEANED_CHECKS,
)  # fmt: skip
def cleaned_tables(context: AssetExecutionContext, aws: AWSResource, names: NamesResource):
    """One parse of each day's raw part builds the three cleaned tables (`stages.cleaned`)."""
    started = time.perf_counter()
    s3 = aws.client("s3")
    report = cleaned.clean(s3, names.raw_bucket, names.cleaned_bucket)
    seconds = round(time.perf_counter() - started, 3)
    latest = {table: (part.latest if part.latest is not None else pl.DataFrame(schema=_SCHEMAS[table]))
              for table, part in report.tables.items()}  # fmt: skip
    rejected = {table: cleaned.rejected_in(s3, names.cleaned_bucket, report.latest_day, table)
                if report.latest_day else [] for table in report.tables}  # fmt: skip
    beers, beer_hops, recipes = latest["beers"], latest["beer_hops"], latest["recipes"]
    anomalies = find_anomalies(beers)
    for table, part in report.tables.items():
        rows = latest[table]
        yield MaterializeResult(
            asset_key=CLEANED_ASSETS[table],
            metadata={
                "dagster/row_count": rows.height,
                "dagster/column_schema": column_schema(dict(rows.schema)),
                "dagster/uri": part.partitions.get(report.latest_day or "", f"s3://{names.cleaned_bucket}/{table}/"),
                "latest_partition": report.latest_day or "",
                "partitions": len(part.partitions),
                "partitions_written": MetadataValue.json(part.partitions_written),
                "partitions_unchanged": report.partitions_unchanged,
                "rejected_records": len(rejected[table]),
                "preview": MetadataValue.md(markdown_table(rows.head(5))),
                "seconds": seconds,  # the three tables are built in one pass
                **({"anomalies": MetadataValue.json(anomalies)} if table == "beers" else {}),
            },
        )
    ids = beers["id"]
    yield AssetCheckResult(
        asset_key="cleaned_beers", check_name="ids_unique_and_present",
        passed=bool(ids.null_count() == 0 and ids.n_unique() == beers.height),
        metadata={"null_ids": ids.null_count(), "duplicate_ids": beers.height - ids.n_unique()},
    )  # fmt: skip
    expected = _api_row_count(context)
    yield AssetCheckResult(
        asset_key="cleaned_beers", check_name="row_count_matches_api",
        passed=expected is not None and expected == beers.height,
        metadata={"api_rows": expected if expected is not None else -1, "cleaned_rows": beers.height},
    )  # fmt: skip
    flagged = {kind: ids for kind, ids in anomalies.items() if ids}
    yield AssetCheckResult(
        asset_key="cleaned_beers", check_name="values_in_range", passed=not flagged, severity=AssetCheckSeverity.WARN,
        metadata={kind: MetadataValue.json(ids) for kind, ids in flagged.items()},
    )  # fmt: skip
    yield AssetCheckResult(
        asset_key="cleaned_beers", check_name="no_rejected_records", passed=not rejected["beers"],
        severity=AssetCheckSeverity.WARN, metadata={"rejected": len(rejected["beers"])},
    )  # fmt: skip
    unmatched = unmatched_hops(beer_hops)
    yield AssetCheckResult(
        asset_key="cleaned_beer_hops", check_name="hop_names_matched", passed=unmatched.is_empty(),
        metadata={"unmatched": unmatched.height,
                  "unmatched_additions": MetadataValue.json(unmatched.head(50).to_dicts())},
    )  # fmt: skip
    rejected_ids = {record["beer_id"] for record in rejected["recipes"]}
    missing = sorted(set(beers["id"]) - set(recipes["beer_id"]) - rejected_ids)
    duplicates = recipes.height - recipes["beer_id"].n_unique()
    yield AssetCheckResult(
        asset_key="cleaned_recipes", check_name="one_row_per_beer", passed=not missing and not duplicates,
        metadata={"beers_without_recipe_row": MetadataValue.json(missing[:50]), "duplicate_beer_ids": duplicates},
    )  # fmt: skip
    yield AssetCheckResult(
        asset_key="cleaned_recipes", check_name="no_rejected_records", passed=not rejected["recipes"],
        severity=AssetCheckSeverity.WARN,
        metadata={"rejected": len(rejected["recipes"]), "reasons": MetadataValue.json(rejected["recipes"][:20])},
    )  # fmt: skip


cleaned_tables_schema_checks = schema_change_checks(cleaned_tables)
