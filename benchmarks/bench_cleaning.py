"""Cleaning at scale: read_raw_jsonl + clean_beers against a per-record Python loop.

    python -m benchmarks.bench_cleaning [--sizes 10000,100000,1000000]

For each size, a synthetic raw zone is written once to a temp dir: the 325 real beers replicated
under new ids, as gzipped JSON-lines envelope parts of 50,000 records (about 115 MB of JSON
before compression, the most a Firehose-sized buffer of 128 MiB holds). Every 100th record
re-publishes the id of the record 50 lines earlier with other values, later or (within the same
500-record batch, same arrival second) with a higher sequence number, so latest-wins has work to
do. Each measurement runs in a fresh child process, which reports its RSS before the step and
its RSS high-water mark (getrusage(RUSAGE_SELF) in the child: the same number the parent's
RUSAGE_CHILDREN would give for that one child). Every implementation's catalogue is written to
Parquet after the timer stops, and they must all be equal.

Two tables per run:

End to end, from the gzipped bytes (what the pipeline does):
- polars: read_raw_parts (read_raw_jsonl on each part's bytes, two parts at a time), clean_beers.
- loop: gzip line iteration, json.loads per line, a dict for latest-wins, float coercion.
- floor: polars reading each part's bytes, gunzipping and splitting lines, with no JSON parsing.
  No cleaner can beat it, so loop/floor bounds the speed-up any JSON parser could reach here.

Transform only, from records already decoded in memory (built before the timer starts):
- polars: clean_beers on the envelope frame read_raw_parts returns (`data` a struct of the 9
  published fields).
- loop: the same records as a list of dicts (`data` a dict of the 9 fields), and a plain
  per-record loop doing clean_beers' work: the same rejection checks in the same order (payload,
  id, arrival timestamp with an offset, Kinesis sequence number, numbers), latest-wins, coercion.
  The input is gc.freeze()d first, so the collector does not walk a million input dicts.
  Its peak is the high-water mark of the step alone (reset through /proc/self/clear_refs once the
  input is built), over an RSS that already holds the input.

Runs are interleaved (polars, loop, floor, polars, loop, ...) so that a change in the load of a
shared machine hits every implementation alike; each implementation keeps its best run. "CPU s"
is the child's user + system time during the step, all threads: on a busy machine polars, which
spreads over two cores, loses more wall time than the single-threaded loop, and CPU time shows it.
"""

from __future__ import annotations

import argparse
import gc
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
END_TO_END = ("polars", "loop", "floor")
TRANSFORM = ("polars_transform", "loop_transform")
INT64_MAX = 2**63 - 1


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


def loop_transform(records: list[dict[str, Any]]) -> tuple[int, list[tuple[Any, ...]]]:
    """clean_beers' work on decoded records, one record at a time, in plain Python."""
    latest: dict[int, tuple[tuple[datetime, int], tuple[Any, ...]]] = {}
    rejected: list[tuple[dict[str, Any], str]] = []
    for record in records:
        data = record.get("data")
        beer_id = arrival = sequence = None
        values: list[float | None] = []
        if record.get("data_base64") is not None:
            reason = "payload is not JSON (data_base64)"
        elif not isinstance(data, dict):
            reason = "data missing or not a JSON object"
        elif type(beer_id := data.get("id")) is not int or not 1 <= beer_id <= INT64_MAX:
            reason = "id missing or not a positive integer"
        elif (arrival := _aware_datetime(record.get("arrival_timestamp"))) is None:
            reason = "arrival_timestamp missing or not ISO 8601 with an offset"
        elif not _is_sequence_number(sequence := record.get("sequence_number")):
            reason = "sequence_number missing or not a Kinesis sequence number"
        else:
            reason = None
            for field in NUMERIC_FIELDS:
                value = data.get(field)
                if value is None or type(value) is float:
                    values.append(value)
                elif type(value) is int:
                    values.append(float(value))
                else:
                    reason = f"{field} is not a number"
                    break
        if reason is not None:
            rejected.append((record, reason))
            continue
        order = (arrival, int(sequence))
        best = latest.get(beer_id)
        if best is None or order >= best[0]:
            latest[beer_id] = (order, (beer_id, data.get("name"), *values))
    return len(rejected), [latest[beer_id][1] for beer_id in sorted(latest)]


def _aware_datetime(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def _is_sequence_number(text: Any) -> bool:
    return (
        type(text) is str and text.isascii() and text.isdigit() and (text[0] != "0" or text == "0")
    )


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    """User + system CPU time of this process, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reset_peak() -> None:
    """Restart the RSS high-water mark from the current RSS (Linux 4.0+), where allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def run_child(mode: str, directory: Path) -> None:
    """Time one step in this fresh process; print its report as JSON, save its catalogue."""
    parts = sorted(directory.glob("part-*.jsonl.gz"))
    inputs: Any = None
    if mode in TRANSFORM:  # decoded before the timer: the transform alone is measured
        inputs = read_raw_parts(part.read_bytes() for part in parts)
        if mode == "loop_transform":
            inputs = inputs.to_dicts()
        gc.collect()
        gc.freeze()
        reset_peak()
    before = rss_mib()
    cpu_started = cpu_seconds()
    started = time.perf_counter()
    rejected, beers, rows = 0, None, None
    if mode == "polars":
        rejected, beers = polars_clean(parts)
    elif mode == "loop":
        rejected, rows = loop_clean(parts)
    elif mode == "floor":
        gunzip_floor(parts)
    elif mode == "polars_transform":
        result = clean_beers(inputs)
        rejected, beers = result.rejected.height, result.beers
    elif mode == "loop_transform":
        rejected, rows = loop_transform(inputs)
    else:
        raise ValueError(f"unknown mode {mode}")
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if rows is not None:  # built after the timer and the peak: not part of the loop's work
        beers = pl.DataFrame(rows, schema=CLEANED_SCHEMA, orient="row")
    if beers is not None:
        beers.write_parquet(directory / f"{mode}.parquet")
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rss_before_mib": before, "peak_mib": peak,
                      "rejected": rejected}))


# --- the parent ------------------------------------------------------------------------------------


def run_once(mode: str, directory: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_cleaning", "--child", mode, str(directory)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(modes: tuple[str, ...], directory: Path, repeats: int) -> dict[str, dict[str, Any]]:
    """Per mode: the best time of `repeats` fresh processes, with the highest peak among them.

    The modes take turns, so that a change in the machine's load affects them all alike.
    """
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for _ in range(repeats):
        for mode in modes:
            runs[mode].append(run_once(mode, directory))
    results = {}
    for mode, mode_runs in runs.items():
        best = min(mode_runs, key=lambda run: run["seconds"])
        results[mode] = {**best, "peak_mib": max(run["peak_mib"] for run in mode_runs)}
        log(f"  {mode}: {best['seconds']:.2f} s, peak {results[mode]['peak_mib']:.0f} MiB")
    return results


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
    machine_at_start = machine()
    log(machine_at_start)
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
            results = measure(END_TO_END + TRANSFORM, directory, repeats)
            expected = pl.read_parquet(directory / "polars.parquet")
            assert expected.height == distinct and results["polars"]["rejected"] == 0
            for mode in ("loop", *TRANSFORM):
                assert results[mode]["rejected"] == 0, f"{mode} rejected records"
                assert pl.read_parquet(directory / f"{mode}.parquet").equals(expected), (
                    f"{mode} and polars disagree")
            rows.append((size, written, results))

    print(f"\nAt start: {machine_at_start}\nAt end:   {machine()}")
    print(f"Raw zone: parts of {PART_RECORDS:,} records, gzip level {GZIP_LEVEL}; 1% duplicate ids. "
          f"Times are the best of {REPEATS_UP_TO_100K} interleaved runs up to 100k, one run at 1M; "
          "every run is a fresh process. All catalogues were checked equal at every size.\n")
    print("End to end, from the gzipped parts (read_raw_parts + clean_beers vs gzip + json.loads loop):\n")
    print("| records | gzipped MiB | polars s | polars CPU s | records/s | child RSS before MiB "
          "| peak MiB | loop s | loop peak MiB | speed-up | gunzip-only floor s "
          "| max speed-up (loop/floor) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, written, r in rows:
        p, loop, floor = r["polars"], r["loop"], r["floor"]
        print(f"| {size:,} | {written / 2**20:,.0f} | {p['seconds']:.2f} | {p['cpu_seconds']:.2f} "
              f"| {size / p['seconds']:,.0f} | {p['rss_before_mib']:.0f} | {p['peak_mib']:.0f} "
              f"| {loop['seconds']:.2f} | {loop['peak_mib']:.0f} | {loop['seconds'] / p['seconds']:.1f}x "
              f"| {floor['seconds']:.2f} | {loop['seconds'] / floor['seconds']:.1f}x |")
    print("\nTransform only, from records already decoded in memory (clean_beers on the envelope "
          "frame vs a per-record loop over dicts doing the same checks):\n")
    print("| records | polars s | polars CPU s | records/s | input RSS MiB | peak MiB | loop s "
          "| records/s | loop input RSS MiB | loop peak MiB | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, _, r in rows:
        p, loop = r["polars_transform"], r["loop_transform"]
        print(f"| {size:,} | {p['seconds']:.3f} | {p['cpu_seconds']:.3f} | {size / p['seconds']:,.0f} "
              f"| {p['rss_before_mib']:.0f} "
              f"| {p['peak_mib']:.0f} | {loop['seconds']:.3f} | {size / loop['seconds']:,.0f} "
              f"| {loop['rss_before_mib']:.0f} | {loop['peak_mib']:.0f} "
              f"| {loop['seconds'] / p['seconds']:.1f}x |")
    print_goals(rows)


def print_goals(rows: list[tuple[int, int, dict[str, Any]]]) -> None:
    print("\nGoals (end to end, at the largest size):")
    if len(rows) >= 2:
        (small, _, first), (large, _, last) = rows[-2], rows[-1]
        growth = (last["polars"]["seconds"] / first["polars"]["seconds"]) / (large / small)
        verdict = "met" if growth <= 1.25 else "MISSED"
        print(f"- Linear growth: {small:,} -> {large:,} records took {growth:.2f}x the time per "
              f"record (1.00 = linear; {verdict}).")
    size, written, last = rows[-1]
    peak = last["polars"]["peak_mib"]
    verdict = "met" if peak < GOAL_PEAK_MIB else "MISSED"
    print(f"- Peak memory at {size:,}: {peak:.0f} MiB (goal < {GOAL_PEAK_MIB} MiB: {verdict}).")
    polars, loop, floor = last["polars"]["seconds"], last["loop"]["seconds"], last["floor"]["seconds"]
    speed_up, ceiling = loop / polars, loop / floor
    verdict = "met" if speed_up >= GOAL_SPEED_UP else "MISSED"
    print(f"- Speed-up at {size:,}: {speed_up:.1f}x the loop (goal >= {GOAL_SPEED_UP}x: {verdict}).")
    transform = last["polars_transform"]["seconds"]
    if speed_up < GOAL_SPEED_UP:
        needed = loop / GOAL_SPEED_UP
        floor_verdict = (
            "out of reach for any cleaner" if floor > needed else "within reach only of a near-free parser"
        )
        print(f"  Why: {GOAL_SPEED_UP}x means {needed:.2f} s. Gunzipping the {written / 2**20:,.0f} MiB "
              f"of parts and splitting their lines, with no JSON parsing at all, already takes "
              f"{floor:.2f} s (at most {ceiling:.1f}x: {floor_verdict}). Of the polars run's "
              f"{polars:.2f} s, the transform is {transform:.2f} s (table 2) and the remaining "
              f"{max(polars - floor - transform, 0):.2f} s beyond the floor is JSON parsing: "
              "each record is ~2.3 KB of JSON, nested fields included, of which the 9 published "
              "fields are a few dozen bytes, and every byte must still be parsed.")
        cpu = last["polars"]["cpu_seconds"]
        idle = loop / (cpu / 2)
        print(f"  The machine is shared (load averages above): the loop needs one core, polars "
              f"spreads {cpu:.2f} s of CPU over two, and loses most when others use them. With "
              f"both cores to itself, expect about {cpu / 2:.2f} s, {idle:.1f}x: "
              f"{'still short of' if idle < GOAL_SPEED_UP else 'enough for'} the goal.")
    ratio = last["loop_transform"]["seconds"] / transform
    verdict = "reached" if ratio >= GOAL_SPEED_UP else "not reached"
    print(f"- Transform only at {size:,} (not a goal of its own, for reference): {ratio:.1f}x the loop "
          f"({transform:.2f} s vs {last['loop_transform']['seconds']:.2f} s; {GOAL_SPEED_UP}x {verdict}).")


if __name__ == "__main__":
    main()
