"""The cleaned zone's tables, each declared once (see `declaration`): `beers`, `beer_hops`, `recipes`.

To add a table, declare it here and add it to `TABLES` (docs/lake.md shows one): its assets,
checks, Glue table and documentation follow from the declaration.
"""

from __future__ import annotations

import polars as pl

from beer_platform.brewing.recipes import RECIPE_FIELDS
from beer_platform.lake.beers import CLEANED_SCHEMA, anomalies, typed_beers
from beer_platform.lake.declaration import Built, Check, Chunk, DayTotals, Table, described
from beer_platform.lake.predictions import PREDICTION_SCHEMA
from beer_platform.lake.recipe_tables import BEER_HOPS_SCHEMA, RECIPES_SCHEMA, REJECTED_SCHEMA, unmatched_hops
from beer_platform.lake.sources import CATALOGUE, PREDICTION_LOG


def _row_count_matches_api(day: DayTotals) -> tuple[bool, dict]:
    expected = day.facts.get("api_rows")
    return expected == day.rows["beers"], {"api_rows": -1 if expected is None else expected,
                                           "cleaned_rows": day.rows["beers"]}  # fmt: skip


def _ids_at_fault(chunk: Chunk) -> pl.DataFrame:
    ids = chunk.built["beers"].rows.select("id")
    return ids.filter(pl.col("id").is_null() | pl.col("id").is_duplicated())


def _rejected_records(chunk: Chunk) -> pl.DataFrame:
    return chunk.rejected.select("shard_id", "sequence_number", "reason")


BEERS = Table(
    name="beers",
    description="BrewDog beers (PunkAPI v2), cleaned: the published fields typed, one row per beer per ingestion day "
    "(its latest record). Anomalies are flagged, not dropped.",
    rows_are="beers",
    columns=described(CLEANED_SCHEMA, {
        "id": "PunkAPI beer id", "name": "Beer name", "abv": "Alcohol by volume, %",
        "ibu": "International bitterness units", "target_fg": "Target final gravity",
        "target_og": "Target original gravity", "ebc": "Colour, European Brewery Convention",
        "srm": "Colour, Standard Reference Method", "ph": "pH",
    }),  # fmt: skip
    source=CATALOGUE,
    reads=CLEANED_SCHEMA,
    build=lambda chunk: Built(typed_beers(chunk.records, chunk.ids), chunk.rejected),
    checks=(
        Check("ids_unique_and_present", "Every row has an id and no id appears twice.", find=_ids_at_fault,
              blocking=True),
        Check("row_count_matches_api", "The day's partition holds as many beers as the API returned.",
              judge=_row_count_matches_api, blocking=True),
        Check("values_in_range", "Warns about published values outside physical ranges (kept, flagged).",
              find=lambda chunk: anomalies(chunk.built["beers"].rows), warn=True),
        Check("no_rejected_records", "Warns when raw records could not be cleaned (kept aside in _rejects/).",
              find=_rejected_records, warn=True),
    ),
)

BEER_HOPS = Table(
    name="beer_hops",
    description="Hop additions of each beer's recipe (PunkAPI ingredients.hops): one row per addition per "
    "ingestion day, matched to the hop reference (kind null: the name matched nothing).",
    rows_are="hop additions",
    columns=described(BEER_HOPS_SCHEMA, {
        "beer_id": "PunkAPI beer id", "addition": "Index of the addition in the recipe's hop list, as published",
        "name": "Hop name as published",
        "variety": "Hop variety matched in the hop reference (null: extract, not a hop, or no match)",
        "kind": "hop, blend, extract, not_a_hop; null: the name matched nothing in the hop reference",
        "grams": "Amount in grams (converted; null for a non-hop not weighed)",
        "amount_value": "Amount as published", "amount_unit": "Unit as published",
        "add": "When it is added, as published",
        "boil_minutes": "Boil minutes derived from add (dry hop 0; null where add names no time)",
        "dry_hop": "Added cold (dry hop, fermenter, secondary, maturation, wood ageing)",
        "attribute": "As published: bitter, flavour, aroma",
    }),  # fmt: skip
    source=CATALOGUE,
    reads=pl.Schema({"id": pl.Int64, **{name: pl.String for name in RECIPE_FIELDS}}),
    build=lambda chunk: Built(chunk.recipes.beer_hops, REJECTED_SCHEMA.to_frame()),  # recipes rejects it once
    checks=(
        Check("hop_names_matched", "Every hop name matched the hop reference (brewing/data/hop_alpha_acids.csv). "
              "An unknown name is kept with kind null and listed here, never counted as no bitterness: the "
              "table and the model wait until the reference knows it.",
              find=lambda chunk: unmatched_hops(chunk.built["beer_hops"].rows), blocking=True),
    ),
)


def _beers_without_one_recipe_row(chunk: Chunk) -> pl.DataFrame:
    recipes = chunk.built["recipes"]
    accounted = pl.concat([recipes.rows["beer_id"], recipes.rejected["beer_id"]])
    missing = chunk.built["beers"].rows.select(beer_id="id").filter(~pl.col("beer_id").is_in(accounted.implode()))
    twice = recipes.rows.select("beer_id").filter(pl.col("beer_id").is_duplicated()).unique()
    return pl.concat([missing.with_columns(fault=pl.lit("no recipe row")),
                      twice.with_columns(fault=pl.lit("more than one recipe row"))])  # fmt: skip


RECIPES = Table(
    name="recipes",
    description="Each beer's recipe: batch and boil volume in litres, attenuation; one row per beer per "
    "ingestion day. A recipe that cannot be read is kept aside in _rejects/, with the reason.",
    rows_are="recipes",
    columns=described(RECIPES_SCHEMA, {
        "beer_id": "PunkAPI beer id", "volume_litres": "Batch volume, litres",
        "boil_volume_litres": "Boil volume, litres", "attenuation_level": "Attenuation, %, as published",
    }),  # fmt: skip
    source=CATALOGUE,
    reads=pl.Schema({"id": pl.Int64, **{name: pl.String for name in RECIPE_FIELDS}}),
    build=lambda chunk: Built(chunk.recipes.recipes, chunk.recipes.rejected),
    checks=(
        Check("one_row_per_beer", "Each cleaned beer has exactly one recipe row, or its recipe was rejected.",
              find=_beers_without_one_recipe_row, blocking=True),
        Check("no_rejected_records", "Warns when a recipe could not be read (kept aside in _rejects/, with the "
              "reason).", find=lambda chunk: chunk.built["recipes"].rejected, warn=True),
    ),
)

PREDICTIONS = Table(
    name="predictions",
    description="Every prediction the served model gave (the model server and the Lambda alike): one row per beer "
    "of a request, with the request's id, the model that answered, the inputs as the model saw them, the "
    "prediction and the request's latency, per ingestion day of the prediction log. A prediction the stream "
    "delivered twice counts once.",
    rows_are="predictions",
    columns=described(PREDICTION_SCHEMA, {
        "request_id": "The request's id (its X-Request-ID)", "position": "The beer's place in the request",
        "time": "When it was answered, UTC", "model": "The stored model that answered, name:version",
        "answered_by": "card or recipe: which of its two models", "ibu": "The predicted IBU",
        "tinseth_ibu": "The recipe's Tinseth estimate (null for the card model)",
        "latency_ms": "The whole request's time in the service, ms", "beer_id": "PunkAPI id, when the client sent one",
        "host": "server (the model server) or lambda", "name": "Beer name, as sent",
        "abv": "Alcohol by volume, %", "target_fg": "Target final gravity", "target_og": "Target original gravity",
        "ebc": "Colour, EBC", "srm": "Colour, SRM", "ph": "pH",
        "volume_litres": "Batch volume the recipe model used, litres (null for the card model)",
        "hops": "The recipe model's hops, JSON: [[alpha %, grams, boil minutes, dry hop], ...]",
    }),  # fmt: skip
    source=PREDICTION_LOG,
    build=lambda chunk: Built(chunk.records.select(PREDICTION_SCHEMA.names()), pl.DataFrame()),
    checks=(
        Check("no_rejected_records", "Warns when a record of the prediction log could not be read.",
              find=lambda chunk: chunk.rejected, warn=True),
    ),
)

CATALOGUE_TABLES: tuple[Table, ...] = (BEERS, BEER_HOPS, RECIPES)  # built from the catalogue's raw zone
TABLES: tuple[Table, ...] = (*CATALOGUE_TABLES, PREDICTIONS)
