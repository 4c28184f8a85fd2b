"""Cleaning a day: what `stages.cleaned.clean_day` does to a day's raw parts, against the floor.

    python -m benchmarks.bench_cleaning [--sizes 10000,100000,1000000]

For each size, one ingestion day is written once to a temp dir as the raw landing writes it:
parts of one shard and at most 10,000 records (`stages.raw.BATCH_RECORDS`), gzip level
`raw_format.GZIP_LEVEL`, the 325 real beers replicated under new ids (about 2.3 KB of JSON a
record). Every 100th record re-publishes the id of the record 50 lines earlier with other values,
later or (within the same 500-record batch, same arrival second) with a higher sequence number,
so latest-wins has work to do.

- tables: what `stages.cleaned.clean_day` does to the day's parts, S3 and Parquet aside:
  read_raw_parts (two parts at a time) with `data` read as the union of every table builder's
  fields (`lake.tables.BUILDERS`: beers, beer_hops, recipes), then each builder's build.
- beers: the same with the `beers` builder alone (the 9 published fields): what a day cost before
  the recipe tables, side by side.
- floor: the same parts gunzipped and split into lines by polars, two at a time, no JSON parsed.
  No cleaner reading these parts can beat it; the goal is to stay within 2x of it.

Each measurement runs in a fresh child process, which reports its RSS high-water mark (VmHWM)
and its CPU time (all threads). Runs are interleaved (tables, beers, floor, tables, ...) so that a
change in the load of a shared machine hits both alike; each keeps its best run. A day is
cleaned from that day's parts alone, so the cost grows with the day (linearly: see the table),
never with the history around it.
"""

from __future__ import annotations

import argparse
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

from benchmarks.machine import describe_machine, peak_rss_mib
from beer_platform.lake import raw_format
from beer_platform.lake.cleaning import read_raw_parts
from beer_platform.lake.tables import BEERS, BUILDERS, DayRows, TableBuilder, data_schema_of
from beer_platform.stages.raw import BATCH_RECORDS as LANDING_BATCH_RECORDS

ROOT = Path(__file__).resolve().parents[1]
BEERS_JSON = ROOT / "beer_platform" / "local" / "data" / "beers.json"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
PART_RECORDS = LANDING_BATCH_RECORDS
DUPLICATE_EVERY, DUPLICATE_LAG = 100, 50
BATCH_RECORDS = 500  # records sharing one arrival second, as a put_records batch would
GZIP_LEVEL = raw_format.GZIP_LEVEL
FIRST_SEQUENCE = 49590338271490256608559692538361571095921575989136588898  # 56 digits, like AWS
START = datetime(2026, 11, 26, tzinfo=timezone.utc)
REPEATS_UP_TO_100K = 3  # best of 3 where a run is short enough to be noisy; 1M runs once
GOAL_PEAK_MIB, GOAL_OF_FLOOR = 1024, 2.0
MODES = ("tables", "beers", "floor")
# The recipe tables parse each distinct recipe once; this size's day has none in common (worst case).
DISTINCT_RECIPES_SIZE = 100_000
ATTENUATION_SLOT = "__attenuation__"  # a record's own attenuation_level, in place of its beer's
BUILDERS_OF = {"tables": BUILDERS, "beers": (BEERS,)}


# --- the synthetic raw zone ----------------------------------------------------------------------


def write_raw_zone(records: int, directory: Path, distinct_recipes: bool = False) -> int:
    """Write `records` envelopes as gzipped parts in `directory`; return the number of distinct ids.

    With `distinct_recipes`, every record's recipe differs from every other's (its attenuation_level
    is made unique): the recipe tables' worst case, where nothing is parsed once for many beers.
    """
    beers = json.loads(BEERS_JSON.read_text())
    # Each beer serialised once, without its id: a record is then one string format, not a dumps.
    tails = []
    for beer in beers:
        if distinct_recipes:
            beer = {**beer, "attenuation_level": ATTENUATION_SLOT}
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
                    if distinct_recipes:
                        tail = tail.replace(f'"{ATTENUATION_SLOT}"', str(50 + i / 1e6))
                    lines.append(
                        f'{{"shard_id": "shardId-00000000000{(start // PART_RECORDS) % 2}", '
                        f'"sequence_number": "{FIRST_SEQUENCE + i * 1000}", '
                        f'"arrival_timestamp": "{arrival}", "partition_key": "{beer_id}", '
                        f'"data": {{"id": {beer_id}{tail}}}\n'
                    )
                part.write(compressor.compress("".join(lines).encode()))
            part.write(compressor.flush())
    return len(set(ids))


# --- the measured steps (run in a child process) -------------------------------------------------


def clean(parts: list[Path], builders: tuple[TableBuilder, ...]) -> tuple[int, dict[str, pl.DataFrame]]:
    """The day's raw parts parsed once, then every builder's table: rejects and the tables."""
    raw = read_raw_parts((part.read_bytes() for part in parts), data_schema=data_schema_of(builders))
    day = DayRows(raw)
    built = {builder.spec.name: builder.build(day) for builder in builders}
    return sum(table.rejected.height for table in built.values()), {name: t.rows for name, t in built.items()}


def gunzip_floor(parts: list[Path]) -> int:
    # JSON text never holds a raw 0x1f byte, so each line is read as one field: no JSON parsing.
    # Two parts at a time, as read_raw_parts does.
    options: dict[str, Any] = {"has_header": False, "separator": "\x1f", "quote_char": None}

    def lines(part: Path) -> int:
        return pl.read_csv(part.read_bytes(), schema={"line": pl.String}, **options).height

    with ThreadPoolExecutor(max_workers=2) as pool:
        return sum(pool.map(lines, parts))


def cpu_seconds() -> float:
    """User + system CPU time of this process, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_child(mode: str, directory: Path) -> None:
    """Time one step in this fresh process; print its report as JSON with each table's row count."""
    parts = sorted(directory.glob("part-*.jsonl.gz"))
    cpu_started = cpu_seconds()
    started = time.perf_counter()
    rejected, tables = 0, {}
    if mode in BUILDERS_OF:
        rejected, tables = clean(parts, BUILDERS_OF[mode])
    elif mode == "floor":
        gunzip_floor(parts)
    else:
        raise ValueError(f"unknown mode {mode}")
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    peak = peak_rss_mib()
    rows = {name: frame.height for name, frame in tables.items()}
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak, "rejected": rejected, "rows": rows}))


# --- the parent ------------------------------------------------------------------------------------


def run_once(mode: str, directory: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_cleaning", "--child", mode, str(directory)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(directory: Path, repeats: int) -> dict[str, dict[str, Any]]:
    """Per mode: the best time of `repeats` fresh processes, with the highest peak among them.

    The modes take turns, so that a change in the machine's load affects them all alike.
    """
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for _ in range(repeats):
        for mode in MODES:
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
    parser.add_argument("--distinct-recipes", type=int, default=DISTINCT_RECIPES_SIZE,
                        help="also a day of this many records, every recipe distinct (0: not run)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, directory = args.child
        run_child(mode, Path(directory))
        return

    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",")]
    machine_at_start = machine()
    log(machine_at_start)
    rows, worst = [], []
    days = [(size, False) for size in sizes] + ([(args.distinct_recipes, True)] if args.distinct_recipes else [])
    for size, distinct_recipes in days:
        with tempfile.TemporaryDirectory(prefix="bench-cleaning-") as tmp:
            directory = Path(tmp)
            started = time.perf_counter()
            distinct = write_raw_zone(size, directory, distinct_recipes)
            written = sum(path.stat().st_size for path in directory.glob("part-*"))
            log(f"{size:,} records: {written / 2**20:,.0f} MiB gzipped, {distinct:,} ids, "
                f"written in {time.perf_counter() - started:.1f} s")
            results = measure(directory, REPEATS_UP_TO_100K if size <= 100_000 else 1)
            for mode in BUILDERS_OF:
                assert results[mode]["rejected"] == 0 and results[mode]["rows"]["beers"] == distinct, results[mode]
            assert results["tables"]["rows"]["recipes"] == distinct  # one recipe row per beer
            (worst if distinct_recipes else rows).append((size, written, results))

    print(f"\nAt start: {machine_at_start}\nAt end:   {machine()}")
    print(f"A day as the landing writes it: parts of at most {PART_RECORDS:,} records of one shard, gzip "
          f"level {GZIP_LEVEL}; 1% duplicate ids. Best of {REPEATS_UP_TO_100K} interleaved runs up to 100k, "
          "one run at 1M; every run a fresh process.\n")
    print("| records in the day | parts | gzipped MiB | tables cleaned | clean s | CPU s | records/s | peak MiB "
          "| floor s | floor CPU s | clean / floor |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for (size, written, r), label in [*((row, "") for row in rows), *((row, " (every recipe distinct)") for row in worst)]:
        floor = r["floor"]
        parts = -(-size // PART_RECORDS)
        for mode in BUILDERS_OF:
            p = r[mode]
            cleaned = ", ".join(f"{name} {n:,}" for name, n in p["rows"].items())
            print(f"| {size:,}{label} | {parts} | {written / 2**20:,.0f} | {cleaned} | {p['seconds']:.2f} "
                  f"| {p['cpu_seconds']:.2f} | {size / p['seconds']:,.0f} | {p['peak_mib']:.0f} | {floor['seconds']:.2f} "
                  f"| {floor['cpu_seconds']:.2f} | {p['seconds'] / floor['seconds']:.1f}x |")
    print_goals(rows)


def print_goals(rows: list[tuple[int, int, dict[str, Any]]]) -> None:
    print("\nGoals, at the largest day:")
    if len(rows) >= 2:
        (small, _, first), (large, _, last) = rows[-2], rows[-1]
        growth = (last["tables"]["seconds"] / first["tables"]["seconds"]) / (large / small)
        print(f"- Grows with the day, linearly: {small:,} -> {large:,} records took {growth:.2f}x the time per "
              f"record (1.00 = linear; {'met' if growth <= 1.25 else 'MISSED'}).")
    size, _, last = rows[-1]
    peak = last["tables"]["peak_mib"]
    print(f"- Peak memory at {size:,}: {peak:.0f} MiB (goal < {GOAL_PEAK_MIB} MiB: "
          f"{'met' if peak < GOAL_PEAK_MIB else 'MISSED'}).")
    floor = last["floor"]
    for mode, what in (("tables", "every table (beers, beer_hops, recipes)"), ("beers", "beers alone")):
        clean = last[mode]
        ratio = clean["seconds"] / floor["seconds"]
        print(f"- Within {GOAL_OF_FLOOR:.0f}x of the floor at {size:,}, {what}: {ratio:.1f}x wall, "
              f"{clean['cpu_seconds'] / floor['cpu_seconds']:.1f}x CPU "
              f"({'met' if ratio <= GOAL_OF_FLOOR else 'MISSED'}).")


if __name__ == "__main__":
    main()
