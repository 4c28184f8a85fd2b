"""Where each object lives inside the buckets: the one place that builds and parses object keys.

Tables are Hive-partitioned by ingestion day (`<table>/ingestion_date=YYYY-MM-DD/...`), so Glue,
Athena and DuckDB read a day as a partition. Pure string work: the buckets themselves are
resource names (`names.py`).
"""

from __future__ import annotations

from datetime import date

RAW_PREFIX = "beers"  # s3://<raw>/beers/ingestion_date=YYYY-MM-DD/part-0.jsonl.gz
CLEANED_PREFIX = "beers"  # s3://<cleaned>/beers/ingestion_date=YYYY-MM-DD/part-0.parquet
# The cleaned tables, each under its own prefix with the same partitioning (`cleaned_part_key`).
CLEANED_TABLES: tuple[str, ...] = (CLEANED_PREFIX, "beer_hops", "recipes")
PARTITION_KEY = "ingestion_date"
STATE_PREFIX = "state"  # s3://<artifacts>/state/...: stream checkpoints, publication markers
REJECTS_PREFIX = "_rejects"  # s3://<cleaned>/_rejects/ingestion_date=.../rejects.json


def partitions_prefix(table_prefix: str) -> str:
    """`beers` -> `beers/ingestion_date=`: lists every partition of a table."""
    return f"{table_prefix}/{PARTITION_KEY}="


def partition_prefix(table_prefix: str, day: date | str) -> str:
    """`beers`, 2026-11-26 -> `beers/ingestion_date=2026-11-26/`."""
    return f"{partitions_prefix(table_prefix)}{_iso(day)}/"


def day_of_key(key: str) -> str:
    """`beers/ingestion_date=2026-11-26/part-0.jsonl.gz` -> `2026-11-26`."""
    return key.split(f"{PARTITION_KEY}=", 1)[1].split("/", 1)[0]


def raw_part_key(day: date | str) -> str:
    return partition_prefix(RAW_PREFIX, day) + "part-0.jsonl.gz"


def cleaned_part_key(day: date | str, table: str = CLEANED_PREFIX) -> str:
    """The day's Parquet part of a cleaned table (`CLEANED_TABLES`): `beer_hops/ingestion_date=.../part-0.parquet`."""
    return partition_prefix(table, day) + "part-0.parquet"


def rejects_key(day: date | str, table: str = CLEANED_PREFIX) -> str:
    """Records a cleaned table could not take: `rejects.json` (beers), `<table>-rejects.json` (the others)."""
    name = "rejects.json" if table == CLEANED_PREFIX else f"{table}-rejects.json"
    return partition_prefix(REJECTS_PREFIX, day) + name


def state_key(*parts: str) -> str:
    """`raw_beers`, `checkpoint.json` -> `state/raw_beers/checkpoint.json`."""
    return "/".join((STATE_PREFIX, *parts))


def _iso(day: date | str) -> str:
    return day.isoformat() if isinstance(day, date) else day
