"""Ingestion: batched `put_records` against one `put_record` per record (the original Lambda's way).

Both publish the real PunkAPI records to the local stack's Kinesis endpoint (moto), each into a
fresh stream, in the same run. Prints records/s and the ratio. Goal: batched >= 20x.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.machine import describe_machine
from beer_platform.aws.clients import AwsClients
from beer_platform.aws.kinesis import publish
from beer_platform.local import stack
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.names import DEFAULT_NAMES
from beer_platform.stages.ingestion import to_stream_records


def fresh_stream(kinesis) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    return name


def publish_one_by_one(client, stream: str, records) -> int:
    """The original project's way, the baseline: one `put_record` per record."""
    for record in records:
        client.put_record(StreamName=stream, Data=record.data, PartitionKey=record.partition_key)
    return len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=10, help="catalogue copies for the batched run")
    args = parser.parse_args()
    records = to_stream_records(load_beers())
    with tempfile.TemporaryDirectory() as tmp:
        state = stack.start_detached(Path(tmp), aws_port=stack.free_port(), punkapi_port=stack.free_port())
        try:
            kinesis = AwsClients.for_local_endpoint(state["aws_endpoint_url"], DEFAULT_NAMES.region).client("kinesis")
            rows = []
            stream = fresh_stream(kinesis)
            started = time.perf_counter()
            publish_one_by_one(kinesis, stream, records)
            one_s = time.perf_counter() - started
            rows.append(("put_record, one per record (baseline)", len(records), one_s))

            batched = records * args.copies
            stream = fresh_stream(kinesis)
            started = time.perf_counter()
            report = publish(kinesis, stream, batched)
            batch_s = time.perf_counter() - started
            assert report.records == len(batched)
            rows.append((f"put_records, batches of <= 500 ({report.put_calls} calls)", len(batched), batch_s))
        finally:
            stack.stop_detached(Path(tmp))
    base_rate = rows[0][1] / rows[0][2]
    print("\n## Ingestion: publishing to Kinesis (local stack, moto server)\n")
    print(describe_machine())
    print("| method | records | seconds | records/s | vs baseline |")
    print("|---|---:|---:|---:|---:|")
    for label, n, secs in rows:
        print(f"| {label} | {n} | {secs:.2f} | {n / secs:,.0f} | {n / secs / base_rate:.1f}x |")


if __name__ == "__main__":
    main()
