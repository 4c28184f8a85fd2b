"""The Glue tables over the cleaned zone, one per `lake.tables` declaration: typed, described columns,
partitioned by ingestion date, every partition registered."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from beer_platform.aws import glue as glue_ops
from beer_platform.aws import s3 as s3_ops
from beer_platform.lake.object_keys import PARTITION_KEY, day_of_key, partition_prefix, partitions_prefix
from beer_platform.lake.declaration import Table
from beer_platform.training.rows import data_version, training_rows


@dataclass
class TableReport:
    table: str
    location: str
    action: str
    partitions: int
    partitions_added: list[str] = field(default_factory=list)
    latest_partition: str | None = None


def publish_table(glue: Any, s3: Any, database: str, cleaned_bucket: str, table: Table) -> TableReport:
    """Create or update `table`'s Glue table and register every partition its prefix holds."""
    location = s3_ops.uri(cleaned_bucket, f"{table.name}/")
    columns = table.glue_columns()
    action = glue_ops.ensure_table(
        glue, database, glue_ops.table_input(table.name, location, columns, PARTITION_KEY, table.description)
    )
    wanted = {}
    for obj in s3_ops.list_objects(s3, cleaned_bucket, partitions_prefix(table.name)):
        day = day_of_key(obj.key)
        wanted[day] = s3_ops.uri(cleaned_bucket, partition_prefix(table.name, day))
    added = glue_ops.ensure_partitions(glue, database, table.name, columns, wanted)
    return TableReport(
        table=f"{database}.{table.name}", location=location, action=action, partitions=len(wanted),
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


@dataclass
class TrainingTables:
    """The latest partition of the tables a model trains on, read through the catalog."""

    tables: list[str]  # database.table, in the order asked
    partition: str
    rows: pl.DataFrame  # the beers fit to train on (`training.rows.training_rows`)
    counts: dict[str, int]  # what was left out and why
    beer_hops: pl.DataFrame
    recipes: pl.DataFrame
    version: str  # content hash of the three tables as read
    beers: pl.DataFrame  # every beer of the partition, with a known IBU or not


def read_training_tables(glue: Any, s3: Any, database: str, tables: list[str]) -> TrainingTables:
    """The beers, beer_hops and recipes tables (named in that order), from one common latest partition."""
    snapshots = [read_latest_partition(glue, s3, database, table) for table in tables]
    partitions = {snapshot.partition for snapshot in snapshots}
    if len(partitions) != 1:
        raise LookupError(f"the tables' latest partitions differ: { {s.table: s.partition for s in snapshots} }")
    beers, beer_hops, recipes = (snapshot.rows for snapshot in snapshots)
    rows, counts = training_rows(beers)
    return TrainingTables([s.table for s in snapshots], partitions.pop(), rows, counts, beer_hops, recipes,
                          data_version(beers, beer_hops, recipes), beers)  # fmt: skip
