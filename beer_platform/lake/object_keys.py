"""Where each object lives inside the buckets: the one place that builds and parses object keys.

Tables are Hive-partitioned by ingestion day (`<table>/ingestion_date=YYYY-MM-DD/...`), so Glue,
Athena and DuckDB read a day as a partition. Pure string work: the buckets themselves are
resource names (`names.py`).

The raw zone is append-only: a part holds one bounded batch of one shard's records of one day,
named by the shard and the sequence numbers of its first and last record
(`beers/ingestion_date=2026-12-01/part-shardId-000000000001-17-342.jsonl.gz`), so landing the
same range again writes the same object, and a part starting at a given record can be found by
its key prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

RAW_PREFIX = "beers"  # s3://<raw>/beers/ingestion_date=YYYY-MM-DD/part-<shard>-<first>-<last>.jsonl.gz
PREDICTIONS_PREFIX = "predictions"  # the served model's answers, landed alike from their own stream
PARTITION_KEY = "ingestion_date"
STATE_PREFIX = "state"  # s3://<artifacts>/state/...: stream checkpoints, publication markers
REJECTS_PREFIX = "_rejects"  # s3://<cleaned>/_rejects/<table>/ingestion_date=.../rejects.jsonl
RAW_PART_SUFFIX = ".jsonl.gz"

_RAW_PART = re.compile(r"/part-(?P<shard>.+)-(?P<first>\d+)-(?P<last>\d+)\.jsonl\.gz$")


def partitions_prefix(table_prefix: str) -> str:
    """`beers` -> `beers/ingestion_date=`: lists every partition of a table."""
    return f"{table_prefix}/{PARTITION_KEY}="


def partition_prefix(table_prefix: str, day: date | str) -> str:
    """`beers`, 2026-11-26 -> `beers/ingestion_date=2026-11-26/`."""
    return f"{partitions_prefix(table_prefix)}{_iso(day)}/"


def day_of_key(key: str) -> str:
    """`beers/ingestion_date=2026-11-26/part-0.jsonl.gz` -> `2026-11-26`."""
    return key.split(f"{PARTITION_KEY}=", 1)[1].split("/", 1)[0]


def raw_part_key(day: date | str, shard_id: str, first_sequence: str, last_sequence: str, zone: str = RAW_PREFIX) -> str:
    return f"{raw_parts_starting_at(day, shard_id, first_sequence, zone)}{last_sequence}{RAW_PART_SUFFIX}"


def raw_parts_starting_at(day: date | str, shard_id: str, first_sequence: str, zone: str = RAW_PREFIX) -> str:
    """The key prefix of any raw part of `shard_id` whose first record is `first_sequence`."""
    return f"{partition_prefix(zone, day)}part-{shard_id}-{first_sequence}-"


@dataclass(frozen=True)
class RawPartName:
    day: str
    shard_id: str
    first_sequence: str
    last_sequence: str


def parse_raw_part_key(key: str) -> RawPartName:
    """The day, shard and sequence range a raw part's key names; ValueError for any other key."""
    match = _RAW_PART.search(key)
    if match is None or f"/{PARTITION_KEY}=" not in f"/{key}":
        raise ValueError(f"not a raw part key: {key!r}")
    return RawPartName(day_of_key(key), match["shard"], match["first"], match["last"])


def table_part_key(table_prefix: str, day: date | str) -> str:
    """A cleaned table's one Parquet object for a day: `beers/ingestion_date=.../part-0.parquet`."""
    return partition_prefix(table_prefix, day) + "part-0.parquet"


def rejects_key(day: date | str, table_prefix: str) -> str:
    return partition_prefix(f"{REJECTS_PREFIX}/{table_prefix}", day) + "rejects.jsonl"


def state_key(*parts: str) -> str:
    """`raw_beers`, `checkpoint.json` -> `state/raw_beers/checkpoint.json`."""
    return "/".join((STATE_PREFIX, *parts))


def _iso(day: date | str) -> str:
    return day.isoformat() if isinstance(day, date) else day
