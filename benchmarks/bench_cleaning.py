"""Cleaning a day: what the cleaned stage does to a day's raw parts, beside the single-pass cleaner
it replaced and the floor.

    python -m benchmarks.bench_cleaning [--sizes 10000,100000,1000000]

For each size, one ingestion day is written once to a temp dir as the raw landing writes it:
parts of one shard and at most 10,000 records (`stages.raw.BATCH_RECORDS`), gzip level
`raw_format.GZIP_LEVEL`, the 325 real beers replicated under new ids (about 2.3 KB of JSON a
record). Every 100th record re-publishes the id of the record 50 lines earlier with other values,
later or (within the same 500-record batch, same arrival second) with a higher sequence number,
so latest-wins has work to do.

- two-pass: `lake.day.clean_day` over the day's parts with every table of `lake.tables`, writing
  each table's Parquet file as `stages.cleaned.LocalSink` does (S3 aside): pass 1 reads each
  part's ordering keys, pass 2 builds each part's winners into every table.
- single-pass: the cleaner of release `BASELINE` (all parts parsed into one frame, the tables
  built from it; no Parquet written), run from a git worktree of that commit: the baseline.
- floor: the same parts gunzipped and split into lines by polars, no JSON parsed.

Each measurement runs in a fresh child process, which reports its RSS high-water mark (VmHWM)
and its CPU time (all threads). Runs are interleaved so that a change in the load of a shared
machine hits them alike; each keeps its best run.
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
from beer_platform.lake.day import clean_day
from beer_platform.lake.tables import CATALOGUE_TABLES
from beer_platform.stages.cleaned import LocalSink
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
GOAL_PEAK_MIB = 1024  # the run container's memory limit
MODES = ("two-pass", "single-pass", "floor")
BASELINE = "0a2397e"  # the last release that cleaned a day in one pass
# The recipe tables parse each distinct recipe once; this size's day has none in common (worst case).
DISTINCT_RECIPES_SIZE = 100_000
ATTENUATION_SLOT = "__attenuation__"  # a record's own attenuation_level, in place of its beer's


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


def two_pass(parts: list[Path]) -> tuple[int, dict[str, int]]:
    """The day's parts cleaned into every table, each written as a local Parquet file."""
    with tempfile.TemporaryDirectory(prefix="bench-cleaned-") as out:
        report = clean_day(lambda: (part.read_bytes() for part in parts), CATALOGUE_TABLES, LocalSink(Path(out), CATALOGUE_TABLES))
    rejected = sum(table.rejected for table in report.tables.values())
    return rejected, {name: table.rows for name, table in report.tables.items()}


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
    rejected, rows = 0, {}
    if mode == "two-pass":
        rejected, rows = two_pass(parts)
    elif mode == "floor":
        gunzip_floor(parts)
    else:
        raise ValueError(f"unknown mode {mode}")
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak_rss_mib(), "rejected": rejected,
                      "rows": rows}))  # fmt: skip


# --- the parent ------------------------------------------------------------------------------------


def run_once(mode: str, directory: Path, baseline: Path | None) -> dict[str, Any] | None:
    if mode == "single-pass":  # the baseline release's own benchmark child, from its own source
        if baseline is None:
            return None
        command, cwd = [sys.executable, "-m", "benchmarks.bench_cleaning", "--child", "tables", str(directory)], baseline
    else:
        command, cwd = [sys.executable, "-m", "benchmarks.bench_cleaning", "--child", mode, str(directory)], ROOT
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(cwd)})  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline_checkout(directory: Path) -> Path | None:
    """A worktree of `BASELINE` in `directory`, or None without the git history (the column is left out)."""
    done = subprocess.run(["git", "worktree", "add", "--detach", str(directory), BASELINE], cwd=ROOT,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        log(f"no baseline: git worktree add {BASELINE} failed: {done.stderr.strip()[-300:]}")
        return None
    return directory


def measure(directory: Path, repeats: int, baseline: Path | None) -> dict[str, dict[str, Any]]:
    """Per mode: the best time of `repeats` fresh processes, with the highest peak among them.

    The modes take turns, so that a change in the machine's load affects them all alike.
    """
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for _ in range(repeats):
        for mode in MODES:
            if (run := run_once(mode, directory, baseline)) is not None:
                runs[mode].append(run)
    results = {}
    for mode, mode_runs in ((mode, found) for mode, found in runs.items() if found):
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
        run_child(*args.child[:1], Path(args.child[1]))
        return
    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",")]
    machine_at_start = machine()
    log(machine_at_start)
    days = [(size, False) for size in sizes] + ([(args.distinct_recipes, True)] if args.distinct_recipes else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as checkout:
        baseline = baseline_checkout(Path(checkout) / "baseline")
        try:
            rows = [measure_day(size, distinct_recipes, baseline) for size, distinct_recipes in days]
        finally:
            if baseline is not None:
                subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, check=False)
    print(f"\nAt start: {machine_at_start}\nAt end:   {machine()}")
    print_table(rows)


def measure_day(size: int, distinct_recipes: bool, baseline: Path | None) -> tuple[int, bool, int, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-cleaning-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        distinct = write_raw_zone(size, directory, distinct_recipes)
        written = sum(path.stat().st_size for path in directory.glob("part-*"))
        log(f"{size:,} records: {written / 2**20:,.0f} MiB gzipped, {distinct:,} ids, "
            f"written in {time.perf_counter() - started:.1f} s")
        results = measure(directory, REPEATS_UP_TO_100K if size <= 100_000 else 1, baseline)
        for mode in ("two-pass", "single-pass"):
            if mode in results:
                assert results[mode]["rejected"] == 0 and results[mode]["rows"]["beers"] == distinct, results[mode]
                assert results[mode]["rows"]["recipes"] == distinct  # one recipe row per beer
        return size, distinct_recipes, written, results


def print_table(rows: list[tuple[int, bool, int, dict[str, Any]]]) -> None:
    print(f"A day as the landing writes it: parts of at most {PART_RECORDS:,} records of one shard, gzip level "
          f"{GZIP_LEVEL}; 1% duplicate ids; every table (beers, beer_hops, recipes). Best of {REPEATS_UP_TO_100K} "
          f"interleaved runs up to 100k, one run above; every run a fresh process. single-pass: release {BASELINE}.\n")
    print("| records in the day | cleaner | seconds | CPU s | records/s | peak MiB | peak vs single-pass "
          "| seconds vs floor |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for size, distinct_recipes, _, results in rows:
        label = f"{size:,}" + (", every recipe distinct" if distinct_recipes else "")
        baseline_peak = results.get("single-pass", {}).get("peak_mib")
        for mode in MODES:
            if mode not in results:
                continue
            r = results[mode]
            versus = f"{r['peak_mib'] / baseline_peak:.2f}x" if baseline_peak and mode != "floor" else ""
            print(f"| {label} | {mode} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {size / r['seconds']:,.0f} "
                  f"| {r['peak_mib']:.0f} | {versus} | {r['seconds'] / results['floor']['seconds']:.1f}x |")
    size, _, _, last = max((row for row in rows if not row[1]), key=lambda row: row[0])
    peak = last["two-pass"]["peak_mib"]
    print(f"\nGoal: peak under {GOAL_PEAK_MIB} MiB at {size:,} records: {peak:.0f} MiB, "
          f"{'met' if peak < GOAL_PEAK_MIB else 'MISSED'}.")


if __name__ == "__main__":
    main()
