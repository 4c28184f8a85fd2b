"""Cleaning at scale: read_raw_jsonl + clean_beers against a per-record Python loop.

    python -m benchmarks.bench_cleaning [--sizes 10000,100000,1000000]

For each size, a synthetic raw zone is written once to a temp dir: the 325 real beers replicated
under new ids, as gzipped JSON-lines envelope parts of 50,000 records (about 115 MB of JSON
before compression, the most a Firehose-sized buffer of 128 MiB holds). Every 100th record
re-publishes the id of the record 50 lines earlier with other values, later or (within the same
500-record batch, same arrival second) with a higher sequence number, so latest-wins has work to
do. Each measurement runs in a fresh child process, which reports its RSS before the step and
its RSS high-water mark (getrusage(RUSAGE_SELF) in the child: the same number the parent's
RUSAGE_CHILDREN would give for that one child). Both implementations' catalogues are written to
Parquet after the timer stops and must be equal.

Three measurements per size:
- polars: read_raw_parts (read_raw_jsonl on each part's bytes, two parts at a time), clean_beers.
- loop: gzip line iteration, json.loads per line, a dict for latest-wins, float coercion.
- floor: polars reading each part's bytes, gunzipping and splitting lines, with no JSON parsing.
  No cleaner can beat it, so loop/floor bounds the speed-up any JSON parser could reach here.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.machine import describe_machine
from beer_platform.core.cleaning import CLEANED_SCHEMA, NUMERIC_FIELDS, clean_beers, read_raw_parts

ROOT = Path(__file__).resolve().parents[1]
BEERS_JSON = ROOT / "beer_platform" / "local" / "data" / "beers.json"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
PART_RECORDS = 50_000
DUPLICATE_EVERY, DUPLICATE_LAG = 100, 50
BATCH_RECORDS = 500  # records sharing one arrival second, as a put_records batch would
GZIP_LEVEL = 1  # raw_zone writes level 9: ~4x slower to write, about as fast to read
FIRST_SEQUENCE = 49590338271490256608559692538361571095921575989136588898  # 56 digits, like AWS
START = datetime(2026, 11, 26, tzinfo=timezone.utc)
REPEATS_UP_TO_100K = 3  # best of 3 where a run is short enough to be noisy; 1M runs once
GOAL_PEAK_MIB, GOAL_SPEED_UP = 1024, 20


# --- the synthetic raw zone ----------------------------------------------------------------------


def write_raw_zone(records: int, directory: Path) -> int:
    """Write `records` envelopes as gzipped parts in `directory`; return the number of distinct ids."""
    beers = json.loads(BEERS_JSON.read_text())
    # Each beer serialised once, without its id: a record is then one string format, not a dumps.
    tails = []
    for beer in beers:
        text = json.dumps(beer, ensure_ascii=False)
        head = f'{{"id": {beer["id"]}'
        assert text.startswith(head + ","), "the API puts id first"
        tails.append(text[len(head) :])
    ids: list[int] = []
    for start in range(0, records, PART_RECORDS):
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip container
        with (directory / f"part-{start:08d}.jsonl.gz").open("wb") as part:
            for batch in range(start, min(records, start + PART_RECORDS), BATCH_RECORDS):
                arrival = (START + timedelta(seconds=batch // BATCH_RECORDS)).isoformat()
                lines = []
                for i in range(batch, min(records, batch + BATCH_RECORDS, start + PART_RECORDS)):
                    if i % DUPLICATE_EVERY == DUPLICATE_EVERY - 1:
                        beer_id, tail = ids[i - DUPLICATE_LAG], tails[(i + 7) % len(tails)]
                    else:  # ids 1, 2, 3, ... skipping nothing
                        beer_id, tail = i - i // DUPLICATE_EVERY + 1, tails[i % len(tails)]
                    ids.append(beer_id)
                    lines.append(
                        f'{{"shard_id": "shardId-00000000000{i % 2}", '
                        f'"sequence_number": "{FIRST_SEQUENCE + i * 1000}", '
                        f'"arrival_timestamp": "{arrival}", "partition_key": "{beer_id}", '
                        f'"data": {{"id": {beer_id}{tail}}}\n'
                    )
                part.write(compressor.compress("".join(lines).encode()))
            part.write(compressor.flush())
    return len(set(ids))


# --- the measured steps (run in a child process) -------------------------------------------------


def polars_clean(parts: list[Path]) -> tuple[int, pl.DataFrame]:
    result = clean_beers(read_raw_parts(part.read_bytes() for part in parts))
    return result.rejected.height, result.beers


def loop_clean(parts: list[Path]) -> tuple[int, list[tuple[Any, ...]]]:
    latest: dict[int, tuple[tuple[datetime, int], tuple[Any, ...]]] = {}
    rejected = 0
    for part in parts:
        with gzip.open(part, "rb") as lines:
            for line in lines:
                record = json.loads(line)
                data = record.get("data")
                beer_id = data.get("id") if isinstance(data, dict) else None
                if type(beer_id) is not int or beer_id < 1:
                    rejected += 1
                    continue
                order = (
                    datetime.fromisoformat(record["arrival_timestamp"]),
                    int(record["sequence_number"]),
                )
                best = latest.get(beer_id)
                if best is None or order >= best[0]:
                    values = (data.get(field) for field in NUMERIC_FIELDS)
                    row = (beer_id, data.get("name"), *(None if v is None else float(v) for v in values))
                    latest[beer_id] = (order, row)
    return rejected, [latest[beer_id][1] for beer_id in sorted(latest)]


def gunzip_floor(parts: list[Path]) -> int:
    # JSON text never holds a raw 0x1f byte, so each line is read as one field: no JSON parsing.
    # Two parts at a time, as read_raw_parts does.
    options: dict[str, Any] = {"has_header": False, "separator": "\x1f", "quote_char": None}

    def lines(part: Path) -> int:
        return pl.read_csv(part.read_bytes(), schema={"line": pl.String}, **options).height

    with ThreadPoolExecutor(max_workers=2) as pool:
        return sum(pool.map(lines, parts))


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_child(mode: str, directory: Path) -> None:
    """Time one step in this fresh process; print its report as JSON, save its catalogue."""
    parts = sorted(directory.glob("part-*.jsonl.gz"))
    before = rss_mib()
    started = time.perf_counter()
    rejected, beers = 0, None
    if mode == "polars":
        rejected, beers = polars_clean(parts)
    elif mode == "loop":
        rejected, rows = loop_clean(parts)
    else:
        gunzip_floor(parts)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if mode == "loop":  # built after the timer and the peak: not part of the loop's work
        beers = pl.DataFrame(rows, schema=CLEANED_SCHEMA, orient="row")
    if beers is not None:
        beers.write_parquet(directory / f"{mode}.parquet")
    print(json.dumps({"seconds": seconds, "rss_before_mib": before, "peak_mib": peak, "rejected": rejected}))


# --- the parent ------------------------------------------------------------------------------------


def measure(mode: str, directory: Path, repeats: int) -> dict[str, Any]:
    """Best time of `repeats` fresh processes, with the highest peak memory among them."""
    runs = []
    for _ in range(repeats):
        command = [sys.executable, "-m", "benchmarks.bench_cleaning", "--child", mode, str(directory)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{mode} child failed:\n{done.stderr}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda run: run["seconds"])
    return {**best, "peak_mib": max(run["peak_mib"] for run in runs)}


def machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{describe_machine().strip()}, polars {pl.__version__}, load average {load}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, directory = args.child
        run_child(mode, Path(directory))
        return

    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",")]
    log(machine())
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-cleaning-") as tmp:
            directory = Path(tmp)
            started = time.perf_counter()
            distinct = write_raw_zone(size, directory)
            written = sum(path.stat().st_size for path in directory.glob("part-*"))
            log(f"{size:,} records: {written / 2**20:,.0f} MiB gzipped, {distinct:,} ids, "
                f"written in {time.perf_counter() - started:.1f} s")
            repeats = REPEATS_UP_TO_100K if size <= 100_000 else 1
            results = {}
            for mode in ("polars", "loop", "floor"):
                results[mode] = measure(mode, directory, repeats)
                log(f"  {mode}: {results[mode]['seconds']:.2f} s, peak {results[mode]['peak_mib']:.0f} MiB")
            polars_beers = pl.read_parquet(directory / "polars.parquet")
            loop_beers = pl.read_parquet(directory / "loop.parquet")
            assert polars_beers.height == distinct and results["polars"]["rejected"] == 0
            assert polars_beers.equals(loop_beers), "polars and the loop disagree"
            rows.append((size, written, results))

    print(f"\n{machine()}")
    print(f"Raw zone: parts of {PART_RECORDS:,} records, gzip level {GZIP_LEVEL}; 1% duplicate ids. "
          f"Times are the best of {REPEATS_UP_TO_100K} runs up to 100k, one run at 1M; every "
          "run is a fresh process. Polars and loop outputs were checked equal at every size.\n")
    print("| records | gzipped MiB | polars s | records/s | child RSS before MiB | peak MiB "
          "| loop s | loop peak MiB | speed-up | gunzip-only floor s | max speed-up (loop/floor) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, written, r in rows:
        p, loop, floor = r["polars"], r["loop"], r["floor"]
        print(f"| {size:,} | {written / 2**20:,.0f} | {p['seconds']:.2f} | {size / p['seconds']:,.0f} "
              f"| {p['rss_before_mib']:.0f} | {p['peak_mib']:.0f} | {loop['seconds']:.2f} "
              f"| {loop['peak_mib']:.0f} | {loop['seconds'] / p['seconds']:.1f}x "
              f"| {floor['seconds']:.2f} | {loop['seconds'] / floor['seconds']:.1f}x |")
    print_goals(rows)


def print_goals(rows: list[tuple[int, int, dict[str, Any]]]) -> None:
    print()
    if len(rows) >= 2:
        (small, _, first), (large, _, last) = rows[-2], rows[-1]
        growth = (last["polars"]["seconds"] / first["polars"]["seconds"]) / (large / small)
        print(f"- Linear growth: {small:,} -> {large:,} records took {growth:.2f}x the time per "
              "record (1.00 = linear).")
    size, _, last = rows[-1]
    peak = last["polars"]["peak_mib"]
    verdict = "met" if peak < GOAL_PEAK_MIB else "MISSED"
    print(f"- Peak memory at {size:,}: {peak:.0f} MiB (goal < {GOAL_PEAK_MIB} MiB: {verdict}).")
    speed_up = last["loop"]["seconds"] / last["polars"]["seconds"]
    ceiling = last["loop"]["seconds"] / last["floor"]["seconds"]
    verdict = "met" if speed_up >= GOAL_SPEED_UP else "MISSED"
    print(f"- Speed-up at {size:,}: {speed_up:.1f}x the loop (goal >= {GOAL_SPEED_UP}x: {verdict}); "
          f"gunzip and line splitting alone already cap it at {ceiling:.1f}x here.")


if __name__ == "__main__":
    main()
