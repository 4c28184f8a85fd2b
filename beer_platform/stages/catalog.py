"""The Glue tables over the cleaned zone: one per cleaned table, partitioned by ingestion date.

Publishing is generic over a `TableSpec` (where the table's Parquet lives, its columns, its
description, which resource name is its Glue name): `TABLES` has beers, beer_hops and recipes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from beer_platform.aws import glue as glue_ops
from beer_platform.aws import s3 as s3_ops
from beer_platform.core.cleaning import CLEANED_SCHEMA
from beer_platform.core.object_keys import PARTITION_KEY, day_of_key, partition_prefix, partitions_prefix
from beer_platform.core.recipe_tables import BEER_HOPS_SCHEMA, RECIPES_SCHEMA
from beer_platform.names import ResourceNames

# polars dtype name -> Hive/Glue type (an Enum is written as a string: stages.cleaned)
GLUE_TYPES = {"Int64": "bigint", "Int32": "int", "String": "string", "Float64": "double", "Boolean": "boolean"}


@dataclass(frozen=True)
class TableSpec:
    prefix: str  # the table's prefix in the cleaned bucket (`object_keys.CLEANED_TABLES`)
    schema: pl.Schema
    description: str
    name_field: str  # the ResourceNames field holding its Glue name

    def glue_name(self, names: ResourceNames) -> str:
        return getattr(names, self.name_field)

    def glue_columns(self) -> list[dict[str, str]]:
        return [{"Name": name, "Type": "string" if isinstance(dtype, pl.Enum) else GLUE_TYPES[str(dtype)]}
                for name, dtype in self.schema.items()]  # fmt: skip


BEERS = TableSpec("beers", CLEANED_SCHEMA, "BrewDog beers (PunkAPI v2), cleaned: one row per beer per ingestion day.",
                  "glue_table")  # fmt: skip
BEER_HOPS = TableSpec(
    "beer_hops", BEER_HOPS_SCHEMA,
    "Hop additions of each beer's recipe (PunkAPI ingredients.hops): one row per addition per ingestion day, "
    "matched to the hop reference (kind null: the name matched nothing).",
    "glue_beer_hops_table",
)  # fmt: skip
RECIPES = TableSpec("recipes", RECIPES_SCHEMA,
                    "Each beer's recipe: batch and boil volume in litres, attenuation; one row per beer per ingestion day.",
                    "glue_recipes_table")  # fmt: skip
TABLES: tuple[TableSpec, ...] = (BEERS, BEER_HOPS, RECIPES)


@dataclass
class TableReport:
    table: str
    location: str
    action: str
    partitions: int
    partitions_added: list[str] = field(default_factory=list)
    latest_partition: str | None = None


def publish_table(glue: Any, s3: Any, database: str, table: str, cleaned_bucket: str, spec: TableSpec = BEERS) -> TableReport:
    """Create or update the Glue table `table` for `spec` and register each of its partitions."""
    location = s3_ops.uri(cleaned_bucket, f"{spec.prefix}/")
    columns = spec.glue_columns()
    action = glue_ops.ensure_table(
        glue, database, glue_ops.table_input(table, location, columns, PARTITION_KEY, spec.description)
    )
    wanted = {}
    for obj in s3_ops.list_objects(s3, cleaned_bucket, partitions_prefix(spec.prefix)):
        day = day_of_key(obj.key)
        wanted[day] = s3_ops.uri(cleaned_bucket, partition_prefix(spec.prefix, day))
    added = glue_ops.ensure_partitions(glue, database, table, columns, wanted)
    return TableReport(
        table=f"{database}.{table}", location=location, action=action, partitions=len(wanted),
        partitions_added=added, latest_partition=max(wanted) if wanted else None,
    )  # fmt: skip


@dataclass
class TableSnapshot:
    table: str
    partition: str
    location: str
    rows: pl.DataFrame


def read_latest_partition(glue: Any, s3: Any, database: str, table: str) -> TableSnapshot:
    """What a lake user does: ask the catalog where the table's latest partition is, read its Parquet."""
    description = glue_ops.describe_table(glue, database, table)
    if not description.partitions:
        raise LookupError(f"{database}.{table} has no partitions: materialize its table asset first")
    partition = max(description.partitions)
    location = description.partitions[partition]
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    frames = [
        pl.read_parquet(io.BytesIO(s3_ops.get_bytes(s3, bucket, obj.key)))
        for obj in s3_ops.list_objects(s3, bucket, prefix)
        if obj.key.endswith(".parquet")
    ]
    if not frames:
        raise LookupError(f"{location} holds no Parquet files")
    return TableSnapshot(f"{database}.{table}", partition, location, pl.concat(frames))
