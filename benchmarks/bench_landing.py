"""The raw landing at stream scale: what a landing costs against what the day already holds, and a
backlog landed in one run.

    python -m benchmarks.bench_landing [--sizes 10000,100000,1000000] [--backlog 1000000] [--moto 100000]

1. 325 new records (the real catalogue) landed into a day that already holds N records: the
   append-only landing (`stages.raw.land`: new parts only, nothing read back) side by side with
   the read-merge-rewrite it replaces (`benchmarks/read_merge_rewrite.py`: the day's one part
   read, decoded, merged, re-encoded, rewritten), at the sizes the baseline survives here. S3 is
   moto's server (in this process, not recording); the stream is the in-memory stand-in
   (`beer_platform_tests.kinesis_standin`), so the figures are the project's code, not moto's
   ~11 ms a request. How it grows: append-only, with the new records (plus one S3 listing of a
   key prefix per shard); read-merge-rewrite, with the day's size.
2. A backlog of 1M records over 4 shards, landed in one run from the stand-in (records made on
   demand): records/s and peak memory, which is bounded by the batch (10,000 records or 64 MiB),
   not by the backlog. Grows linearly in time with the backlog, flat in memory.
3. The same for 100k records through the local stack's moto (the real Kinesis API over HTTP):
   here moto's per-request cost and its GetRecords, which walks the shard from its start on
   every call, dominate.

Every measurement runs in a fresh child process, which reports its wall time and its peak RSS
(VmHWM, the whole process: Python, boto3 and the batch). Load averages are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks import read_merge_rewrite
from benchmarks.machine import describe_machine, peak_rss_mib
from benchmarks.synthetic import START, SyntheticShard, payload
from beer_platform.aws.clients import AwsClients
from beer_platform.aws.kinesis import publish
from beer_platform.lake import object_keys
from beer_platform.lake import raw_format
from beer_platform.stream.records import ReceivedRecord, StreamRecord
from beer_platform.local import stack
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.stages import raw
from beer_platform.stages.ingestion import to_stream_records
from beer_platform_tests.kinesis_standin import FIRST_SEQUENCE, InMemoryKinesis

ROOT = Path(__file__).resolve().parents[1]
REGION = "eu-west-1"
DAY = START.date().isoformat()
BASELINE_UP_TO = 100_000  # read-merge-rewrite at 1M would need ~20 GiB here
GOAL_FLAT, GOAL_SECONDS, GOAL_MIB, GOAL_BACKLOG_MIB = 1.5, 1.0, 256, 512


# --- the child: one measurement ---------------------------------------------------------------


def child(mode: str, endpoint: str, bucket: str, arg: int) -> dict[str, Any]:
    s3 = AwsClients.for_local_endpoint(endpoint, REGION).client("s3")
    beers = load_beers()
    started = time.perf_counter()
    if mode == "append":  # 325 new records of DAY, after the `arg` already there
        stream = InMemoryKinesis("bench", shards=2, now=START + timedelta(hours=12))
        stream.next_sequence = FIRST_SEQUENCE + (arg + 1) * 1000
        publish(stream, "bench", to_stream_records(beers))
        started = time.perf_counter()
        report = raw.land(stream, s3, "bench", bucket, bucket, clock=stream.clock)
        result = {"landed": report.landed, "parts": len(report.parts_written)}
    elif mode == "rewrite":
        arrival = START + timedelta(hours=12)
        records = [ReceivedRecord("shardId-000000000000", str(FIRST_SEQUENCE + (arg + 1 + i) * 1000), arrival,
                                  r.partition_key, r.data) for i, r in enumerate(to_stream_records(beers))]  # fmt: skip
        started = time.perf_counter()
        result = {"landed": read_merge_rewrite.land_day(s3, bucket, DAY, records), "parts": 1}
    elif mode == "backlog":  # `arg` records over 4 shards, made on demand
        stream = InMemoryKinesis("bench", shards=4, now=START + timedelta(days=1))
        for index, shard in enumerate(stream.shards.values()):
            shard.records = SyntheticShard(index, 4, arg)
        started = time.perf_counter()
        report = raw.land(stream, s3, "bench", bucket, bucket, clock=stream.clock)
        result = {"landed": report.landed, "parts": len(report.parts_written), "batches": report.batches}
    elif mode == "moto":  # the local stack's stream named `bucket`
        kinesis = AwsClients.for_local_endpoint(endpoint, REGION).client("kinesis")
        report = raw.land(kinesis, s3, bucket, bucket, bucket)
        result = {"landed": report.landed, "parts": len(report.parts_written), "batches": report.batches}
    else:
        raise ValueError(mode)
    seconds = time.perf_counter() - started
    return result | {"seconds": seconds, "peak_mib": peak_rss_mib()}



def run_child(mode: str, endpoint: str, bucket: str, arg: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_landing", "--child", mode, endpoint, bucket, str(arg)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the parent: what each measurement finds there -------------------------------------------


def fresh_bucket(s3) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def existing_parts(s3, bucket: str, records: int) -> None:
    """A day of `records` as the append-only landing writes it: parts of 10,000 of one shard."""
    for index in range(2):
        shard_id = f"shardId-{index:012d}"
        shard = SyntheticShard(index, 2, records)
        for start in range(0, len(shard), raw.BATCH_RECORDS):
            batch = [ReceivedRecord(shard_id, str(r.sequence_number), r.arrival, r.partition_key, r.data)
                     for r in shard[start:start + raw.BATCH_RECORDS]]  # fmt: skip
            for day, run in raw_format.day_runs(batch):
                key = object_keys.raw_part_key(day, shard_id, run[0].sequence_number, run[-1].sequence_number)
                s3.put_object(Bucket=bucket, Key=key, Body=raw_format.encode_part(map(raw_format.envelope_line, run)))


def existing_day_part(s3, bucket: str, records: int) -> None:
    """The same day as the read-merge-rewrite landing kept it: one part."""
    lines = [read_merge_rewrite.envelope(ReceivedRecord(f"shardId-{r.sequence_number % 2:012d}", str(r.sequence_number),
                                                        r.arrival, r.partition_key, r.data))
             for shard in (SyntheticShard(0, 1, records),) for r in shard]  # fmt: skip
    s3.put_object(Bucket=bucket, Key=read_merge_rewrite.part_key(DAY), Body=read_merge_rewrite.encode_part(lines))


def load_line() -> str:
    return "load average " + ", ".join(f"{value:.1f}" for value in os.getloadavg())


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backlog", type=int, default=1_000_000)
    parser.add_argument("--moto", type=int, default=100_000)
    parser.add_argument("--child", nargs=4, metavar=("MODE", "ENDPOINT", "BUCKET", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, endpoint, bucket, n = args.child
        print(json.dumps(child(mode, endpoint, bucket, int(n))))
        return

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request is noise
    at_start = f"{describe_machine().strip()}, {load_line()}"
    log(at_start)
    port = stack.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = AwsClients.for_local_endpoint(endpoint, REGION).client("s3")
    rows = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            bucket = fresh_bucket(s3)
            started = time.perf_counter()
            existing_parts(s3, bucket, size)
            log(f"{size:,} records as parts written in {time.perf_counter() - started:.0f} s")
            appended = run_child("append", endpoint, bucket, size)
            assert appended["landed"] == 325
            rewritten = None
            if size <= BASELINE_UP_TO:
                bucket = fresh_bucket(s3)
                existing_day_part(s3, bucket, size)
                rewritten = run_child("rewrite", endpoint, bucket, size)
                assert rewritten["landed"] == 325
            log(f"  {size:,}: append {appended['seconds']:.2f} s {appended['peak_mib']:.0f} MiB; "
                f"rewrite {rewritten and round(rewritten['seconds'], 2)}")
            rows.append((size, appended, rewritten))
        backlog = run_child("backlog", endpoint, fresh_bucket(s3), args.backlog)
        assert backlog["landed"] == args.backlog
        log(f"backlog {args.backlog:,}: {backlog['seconds']:.1f} s, {backlog['peak_mib']:.0f} MiB")
    finally:
        server.stop()
    with tempfile.TemporaryDirectory() as tmp:
        state = stack.start_detached(Path(tmp), aws_port=stack.free_port(), punkapi_port=stack.free_port())
        try:
            clients = AwsClients.for_local_endpoint(state["aws_endpoint_url"], REGION)
            name = fresh_bucket(clients.client("s3"))
            kinesis = clients.client("kinesis")
            kinesis.create_stream(StreamName=name, ShardCount=2)
            kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
            for start in range(0, args.moto, 10_000):
                publish(kinesis, name, [StreamRecord(str(i + 1), payload(i)) for i in range(start, min(args.moto, start + 10_000))])
            through_moto = run_child("moto", state["aws_endpoint_url"], name, args.moto)
            assert through_moto["landed"] == args.moto
        finally:
            stack.stop_detached(Path(tmp))
    print_tables(at_start, rows, args.backlog, backlog, args.moto, through_moto)


def print_tables(at_start, rows, backlog_size, backlog, moto_size, through_moto) -> None:
    print(f"\nAt start: {at_start}\nAt end:   {load_line()}\n")
    print("Landing 325 new records into a day that already holds N records (fresh process each):\n")
    print("| records already in the day | append-only s | append-only peak MiB | parts written "
          "| read-merge-rewrite s | read-merge-rewrite peak MiB | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, appended, rewritten in rows:
        old = (f"{rewritten['seconds']:.2f} | {rewritten['peak_mib']:.0f} | {rewritten['seconds'] / appended['seconds']:.0f}x"
               if rewritten else "not run (needs ~20 GiB) | | ")
        print(f"| {size:,} | {appended['seconds']:.2f} | {appended['peak_mib']:.0f} | {appended['parts']} | {old} |")
    first, last = rows[0][1], rows[-1][1]
    growth = last["seconds"] / first["seconds"]
    print(f"\nGoals at {rows[-1][0]:,}: flat (at most {GOAL_FLAT}x from {rows[0][0]:,}): {growth:.2f}x "
          f"({'met' if growth <= GOAL_FLAT else 'MISSED'}); under {GOAL_SECONDS:.0f} s: {last['seconds']:.2f} s "
          f"({'met' if last['seconds'] < GOAL_SECONDS else 'MISSED'}); under {GOAL_MIB} MiB: "
          f"{last['peak_mib']:.0f} MiB ({'met' if last['peak_mib'] < GOAL_MIB else 'MISSED'}).\n")
    print("A backlog landed in one run:\n")
    print("| stream | records | shards | seconds | records/s | batches | parts | peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, size, shards, r in (("in-memory stand-in", backlog_size, 4, backlog),
                                   ("local stack (moto)", moto_size, 2, through_moto)):  # fmt: skip
        print(f"| {label} | {size:,} | {shards} | {r['seconds']:.1f} | {size / r['seconds']:,.0f} | {r['batches']} "
              f"| {r['parts']} | {r['peak_mib']:.0f} |")
    print(f"\nGoal: peak under {GOAL_BACKLOG_MIB} MiB for {backlog_size:,} records: {backlog['peak_mib']:.0f} MiB "
          f"({'met' if backlog['peak_mib'] < GOAL_BACKLOG_MIB else 'MISSED'}).")


if __name__ == "__main__":
    main()
