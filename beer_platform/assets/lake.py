"""The data lake: the raw zone (records as received) and the cleaned zone (typed Parquet: beers,
beer_hops, recipes, built in one pass over each ingestion day's raw parts)."""


import time

from pydantic import Field
from dagster import (
    AssetCheckResult,
    Config,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    DailyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.common import (
    EAGER, column_schema, markdown_table, platform_asset, platform_multi_asset, schema_change_checks,
)  # fmt: skip
from beer_platform.assets.ingestion import beer_events
from beer_platform.core import object_keys
from beer_platform.core.cleaning import find_anomalies
from beer_platform.core.recipe_tables import unmatched_hops
from beer_platform.core.tables import BEER_HOPS, BEERS, BUILDERS, RECIPES, TableSpec
from beer_platform.resources import AWSResource, NamesResource
from beer_platform.stages import cleaned, raw

# raw_beers' metadata: the ingestion days it wrote parts for, i.e. the cleaned zone's partitions to redo.
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
                      names.artifacts_bucket, accept_trimmed_gap=config.accept_trimmed_gap,
                      reported_positions=_reported_positions(context))  # fmt: skip
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


def cleaned_asset_key(spec: TableSpec) -> str:
    """The cleaned zone's asset of a table: `cleaned_beers`, `cleaned_beer_hops`, `cleaned_recipes`."""
    return f"cleaned_{spec.name}"


# Every cleaned table's asset: what one cleaning run (one ingestion day) materializes.
CLEANED_ASSETS: tuple[str, ...] = tuple(cleaned_asset_key(builder.spec) for builder in BUILDERS)

CLEANED_CHECKS = [
    AssetCheckSpec("ids_unique_and_present", asset="cleaned_beers", blocking=True,
                   description="Every row has an id and no id appears twice."),
    AssetCheckSpec("row_count_matches_api", asset="cleaned_beers", blocking=True,
                   description="The day's partition holds as many beers as the API returned."),
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
_LAKE = {"deps": [raw_beers], "group_name": "lake", "kinds": {"polars", "s3", "parquet"}}
_ROWS = {"beers": "beers", "beer_hops": "hop additions", "recipes": "recipes"}  # what a summary counts
_PER_DAY = (
    "Partitioned by ingestion day: one Parquet partition per day, built from that day's raw parts only, "
    "with the other cleaned tables in one pass. Materialized for the days each landing touched (sensor "
    "`landed_days`); a backfill re-cleans any day from the raw zone."
)


@platform_multi_asset(
    specs=[
        AssetSpec(cleaned_asset_key(BEERS.spec), **_LAKE,
                  metadata={"dagster/column_schema": column_schema(BEERS.spec.schema)},
                  description="The published fields (id, name, abv, ibu, target_fg, target_og, ebc, srm, ph), typed, "
                  f"one row per beer per ingestion day (latest wins). Anomalies are flagged, not dropped. {_PER_DAY}"),
        AssetSpec(cleaned_asset_key(BEER_HOPS.spec), **_LAKE,
                  metadata={"dagster/column_schema": column_schema(BEER_HOPS.spec.schema)},
                  description="One row per hop addition of each beer's latest record (ingredients.hops): the name as "
                  "published, the matched variety and kind, grams, the add and its boil minutes, dry hop, "
                  f"attribute. {_PER_DAY}"),
        AssetSpec(cleaned_asset_key(RECIPES.spec), **_LAKE,
                  metadata={"dagster/column_schema": column_schema(RECIPES.spec.schema)},
                  description="One row per beer: batch and boil volume in litres, attenuation; a recipe that cannot "
                  f"be read is kept aside in _rejects/. {_PER_DAY}"),
    ],
    partitions_def=INGESTION_DAYS,
    check_specs=CLEANED_CHECKS,
)  # fmt: skip
def cleaned_tables(context: AssetExecutionContext, aws: AWSResource, names: NamesResource):
    """One parse of a day's raw parts builds every cleaned table's partition (`stages.cleaned`)."""
    started = time.perf_counter()
    s3 = aws.client("s3")
    day = context.partition_key
    report = cleaned.clean_day(s3, names.raw_bucket, names.cleaned_bucket, day)
    seconds = round(time.perf_counter() - started, 3)  # the tables are built in one pass
    outcomes = {builder.spec.name: report.tables[builder.spec.name] for builder in BUILDERS}
    beers, beer_hops, recipes = (outcomes[b.spec.name].rows for b in (BEERS, BEER_HOPS, RECIPES))
    anomalies = find_anomalies(beers)
    for builder in BUILDERS:
        spec = builder.spec
        out = outcomes[spec.name]
        yield MaterializeResult(
            asset_key=cleaned_asset_key(spec),
            metadata={
                "dagster/row_count": out.rows.height,
                "dagster/column_schema": column_schema(dict(out.rows.schema)),
                "dagster/uri": out.uri,
                "summary": f"{day}: {out.rows.height} {_ROWS[spec.name]} from {report.raw_records} records in "
                f"{report.raw_parts} raw parts",
                "raw_parts": report.raw_parts,
                "raw_records": report.raw_records,
                "tables": MetadataValue.json({name: t.uri for name, t in report.tables.items()}),
                "rejected_records": out.rejected,
                "preview": MetadataValue.md(markdown_table(out.rows.head(5))),
                "seconds": seconds,
                **({"anomalies": MetadataValue.json(anomalies)} if builder is BEERS else {}),
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
        metadata={"api_rows": expected if expected is not None else -1, "cleaned_rows": beers.height,
                  "partition": day},
    )  # fmt: skip
    flagged = {kind: ids for kind, ids in anomalies.items() if ids}
    yield AssetCheckResult(
        asset_key="cleaned_beers", check_name="values_in_range", passed=not flagged, severity=AssetCheckSeverity.WARN,
        metadata={kind: MetadataValue.json(ids) for kind, ids in flagged.items()},
    )  # fmt: skip
    rejected = cleaned.rejected_in(s3, names.cleaned_bucket, day, BEERS.spec.prefix)
    yield AssetCheckResult(
        asset_key="cleaned_beers", check_name="no_rejected_records", passed=not rejected,
        severity=AssetCheckSeverity.WARN, metadata={"rejected": len(rejected)},
    )  # fmt: skip
    unmatched = unmatched_hops(beer_hops)
    yield AssetCheckResult(
        asset_key="cleaned_beer_hops", check_name="hop_names_matched", passed=unmatched.is_empty(),
        metadata={"unmatched": unmatched.height, "partition": day,
                  "unmatched_additions": MetadataValue.json(unmatched.head(50).to_dicts())},
    )  # fmt: skip
    bad_recipes = cleaned.rejected_in(s3, names.cleaned_bucket, day, RECIPES.spec.prefix)
    rejected_ids = {record["beer_id"] for record in bad_recipes}
    missing = sorted(set(beers["id"]) - set(recipes["beer_id"]) - rejected_ids)
    duplicates = recipes.height - recipes["beer_id"].n_unique()
    yield AssetCheckResult(
        asset_key="cleaned_recipes", check_name="one_row_per_beer", passed=not missing and not duplicates,
        metadata={"beers_without_recipe_row": MetadataValue.json(missing[:50]), "duplicate_beer_ids": duplicates},
    )  # fmt: skip
    yield AssetCheckResult(
        asset_key="cleaned_recipes", check_name="no_rejected_records", passed=not bad_recipes,
        severity=AssetCheckSeverity.WARN,
        metadata={"rejected": len(bad_recipes), "reasons": MetadataValue.json(bad_recipes[:20])},
    )  # fmt: skip


cleaned_tables_schema_checks = schema_change_checks(cleaned_tables)
