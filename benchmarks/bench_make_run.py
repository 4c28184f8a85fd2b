"""`make run` wall time from a warm install, and the time each asset took.

Runs `make run` twice in fresh state (its own stack dir, Dagster home and model store): the
first run ingests, trains and deploys everything, the second finds nothing new (the idempotent
path a daily re-run takes).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.machine import describe_machine
from beer_platform.local.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
ASSET_LINE = re.compile(r"^\s+(?P<zone>.+?)\s{2,}(?P<asset>[\w\[\]-]+)\s+(?P<rows>[\d-]+) rows\s+(?P<secs>[\d.]+)s")


def make_run(env: dict[str, str]) -> tuple[float, dict[str, float], str]:
    started = time.perf_counter()
    out = subprocess.run(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)  # fmt: skip
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"make run failed:\n{out.stdout}\n{out.stderr}")
    per_asset = {m["asset"]: float(m["secs"]) for line in out.stdout.splitlines() if (m := ASSET_LINE.match(line))}
    run_line = next(line for line in out.stdout.splitlines() if "succeeded in" in line)
    return wall, per_asset, run_line.split("succeeded in")[1].strip()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {
            "BEER_PLATFORM_STACK_DIR": f"{tmp}/stack",
            "DAGSTER_HOME": f"{tmp}/dagster_home",
            "BENTOML_HOME": f"{tmp}/bentoml",
            "BEER_PLATFORM_AWS_PORT": str(free_port()),
            "BEER_PLATFORM_PUNKAPI_PORT": str(free_port()),
        }
        first = make_run(env)
        second = make_run(env)
    print("\n## `make run` end to end (warm install, local stack)\n")
    print(describe_machine())
    assets = list(first[1])
    print("| run | wall s | graph s | " + " | ".join(f"{a} s" for a in assets) + " |")
    print("|---|---:|---:|" + "---:|" * len(assets))
    runs = (("first (ingest, train, deploy)", first), ("second (nothing new)", second))
    for label, (wall, per_asset, graph) in runs:
        cells = " | ".join(f"{per_asset.get(a, 0):.1f}" for a in assets)
        print(f"| {label} | {wall:.1f} | {graph.rstrip('s')} | {cells} |")
    print("\nwall = the whole `make run` (set-up check, stack start with state replay, graph, summary, stack stop)")


if __name__ == "__main__":
    main()
