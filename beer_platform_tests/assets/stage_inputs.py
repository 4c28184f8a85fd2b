"""What a stage finds upstream, written straight into a test's own resources: stream records, a
raw part, cleaned partitions, the Glue tables. So that one asset can run on its own."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from beer_platform.aws.clients import AwsClients
from beer_platform.aws.kinesis import publish
from beer_platform.core import object_keys, raw_format
from beer_platform.core.cleaning import CleaningResult
from beer_platform.core.stream_records import ReceivedRecord
from beer_platform.names import ResourceNames
from beer_platform.core.recipe_tables import recipe_tables
from beer_platform.stages.catalog import TABLES, publish_table
from beer_platform.stages.cleaned import BUILDERS, DayRecords, to_parquet
from beer_platform.stages.ingestion import to_stream_records
from beer_platform_tests.beer_frames import beers_frame

DAY = date(2026, 11, 26)


def put_on_stream(clients: AwsClients, names: ResourceNames, beers: list[dict]) -> None:
    publish(clients.client("kinesis"), names.stream, to_stream_records(beers))


def put_raw_part(clients: AwsClients, names: ResourceNames, beers: list[dict], day: date = DAY) -> str:
    arrived = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
    lines = [raw_format.envelope(ReceivedRecord("shardId-000000000000", str(n), arrived, str(beer["id"]),
                                                record.data))
             for n, (beer, record) in enumerate(zip(beers, to_stream_records(beers)), start=1)]  # fmt: skip
    key = object_keys.raw_part_key(day)
    clients.client("s3").put_object(Bucket=names.raw_bucket, Key=key, Body=raw_format.encode_part(lines))
    return key


def put_cleaned_partition(clients: AwsClients, names: ResourceNames, beers: list[dict], day: date = DAY) -> None:
    """The day's partition of each cleaned table (beers, beer_hops, recipes), from PunkAPI records."""
    records = DayRecords(CleaningResult(beers_frame(beers), pl.DataFrame()), recipe_tables(beers))
    for builder in BUILDERS:  # what the cleaned stage writes
        rows, _ = builder.build(records)
        clients.client("s3").put_object(Bucket=names.cleaned_bucket, Key=object_keys.cleaned_part_key(day, builder.table),
                                        Body=to_parquet(rows))  # fmt: skip


def put_table(clients: AwsClients, names: ResourceNames, beers: list[dict], day: date = DAY) -> None:
    """The cleaned partitions and the three Glue tables over them."""
    put_cleaned_partition(clients, names, beers, day)
    for spec in TABLES:
        publish_table(clients.client("glue"), clients.client("s3"), names.glue_database, spec.glue_name(names),
                      names.cleaned_bucket, spec)  # fmt: skip
