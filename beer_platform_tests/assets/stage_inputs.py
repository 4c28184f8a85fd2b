"""What a stage finds upstream, written straight into a test's own resources: stream records, a
raw part, cleaned partitions, the Glue tables. So that one asset can run on its own."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic_core import to_json

from beer_platform.aws.clients import AwsClients
from beer_platform.aws.kinesis import ShardReader, list_shards, publish
from beer_platform.lake import object_keys
from beer_platform.lake import raw_format
from beer_platform.stream.records import ReceivedRecord
from beer_platform.names import ResourceNames
from beer_platform.lake.tables import CATALOGUE_TABLES
from beer_platform.stages.catalog import publish_table
from beer_platform.stages.cleaned import clean
from beer_platform.stages.ingestion import to_stream_records

DAY = date(2026, 11, 26)


def put_on_stream(clients: AwsClients, names: ResourceNames, beers: list[dict]) -> None:
    publish(clients.client("kinesis"), names.stream, to_stream_records(beers))


def put_raw_part(clients: AwsClients, names: ResourceNames, beers: list[dict], day: date = DAY,
                 first_sequence: int = 1, hour: int = 6) -> str:  # fmt: skip
    """A raw part as raw_beers writes it, of one shard, for `day`."""
    arrived = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    records = [ReceivedRecord("shardId-000000000000", str(n), arrived, str(beer["id"]), record.data)
               for n, (beer, record) in enumerate(zip(beers, to_stream_records(beers)), start=first_sequence)]  # fmt: skip
    key = object_keys.raw_part_key(day, "shardId-000000000000", records[0].sequence_number, records[-1].sequence_number)
    body = raw_format.encode_part(raw_format.envelope_line(record) for record in records)
    clients.client("s3").put_object(Bucket=names.raw_bucket, Key=key, Body=body)
    return key


def stream_records(kinesis, stream: str) -> list[ReceivedRecord]:
    """Everything the stream holds, every shard from its trim horizon (small streams only)."""
    shards = list_shards(kinesis, stream)
    return [record for shard in shards
            for batch in ShardReader(kinesis, stream, shard, None, batch_records=10_000, batch_bytes=2**30).batches()
            for record in batch]  # fmt: skip


def put_cleaned_partition(clients: AwsClients, names: ResourceNames, beers: list[dict], day: date = DAY) -> None:
    """The day's partition of each cleaned table, as the cleaned stage writes it, from PunkAPI records."""
    put_raw_part(clients, names, beers, day)
    clean(clients.client("s3"), names.raw_bucket, names.cleaned_bucket, day.isoformat(), CATALOGUE_TABLES)


def put_table(clients: AwsClients, names: ResourceNames, beers: list[dict], day: date = DAY) -> None:
    """The cleaned partitions and the Glue tables over them."""
    put_cleaned_partition(clients, names, beers, day)
    for table in CATALOGUE_TABLES:
        publish_table(clients.client("glue"), clients.client("s3"), names.glue_database, names.cleaned_bucket, table)


def put_prediction_part(clients: AwsClients, names: ResourceNames, records: list, day: date = DAY) -> str:
    """A raw part of the prediction log as raw_predictions writes it (`records`: PredictionRecords), for `day`."""
    arrived = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    received = [ReceivedRecord("shardId-000000000000", str(n), arrived, record["request_id"], to_json(record))
                for n, record in enumerate(records, start=1)]  # fmt: skip
    key = object_keys.raw_part_key(day, "shardId-000000000000", received[0].sequence_number,
                                   received[-1].sequence_number, zone=object_keys.PREDICTIONS_PREFIX)  # fmt: skip
    body = raw_format.encode_part(raw_format.envelope_line(record) for record in received)
    clients.client("s3").put_object(Bucket=names.raw_bucket, Key=key, Body=body)
    return key
