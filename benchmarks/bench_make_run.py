"""`make run` wall time from a warm install, fresh state then a later run, and the time each asset
took: the local stack as it is (Terraform applies infra/) beside the baseline (the hand-written
provisioner of `benchmarks/baseline_provisioner.py` as the stack's infrastructure).

Each variant runs in fresh state of its own (stack dir, Dagster home, model store), as a fresh
clone does: the first run applies (or provisions), ingests, trains and deploys; the later one
restarts the stack from its recording and finds nothing new. The baseline's stack is started
beside `make run` (which then uses it) and stopped after, so its wall time counts the same
start, run and stop. Runs alternate between the variants, so that drifting load hits both.
`python -m benchmarks.bench_make_run [--rounds N]`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import baseline_provisioner
from benchmarks.machine import describe_machine
from beer_platform.local.stack import free_port, launch_detached, stop_detached, wait_until

ROOT = Path(__file__).resolve().parents[1]
ASSET_LINE = re.compile(r"^\s+(?P<zone>.+?)\s{2,}(?P<asset>[\w\[\]-]+)\s+(?P<rows>[\d-]+) rows\s+(?P<secs>[\d.]+)s")
VARIANTS = ("terraform", "baseline")


def make_run(env: dict[str, str]) -> tuple[float, float, dict[str, float], str]:
    """(wall s, s until the graph starts, each asset's s, the graph's time) of one `make run`."""
    started = time.perf_counter()
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    lines, graph_starts = [], float("nan")
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("environment: "):  # printed once the stack is ready, before the first run
            graph_starts = time.perf_counter() - started
    wall = time.perf_counter() - started
    if proc.wait(timeout=900) != 0:
        raise RuntimeError("make run failed:\n" + "\n".join(lines))
    per_asset = {m["asset"]: float(m["secs"]) for line in lines if (m := ASSET_LINE.match(line))}
    run_line = next(line for line in lines if "succeeded in" in line)
    return wall, graph_starts, per_asset, run_line.split("succeeded in")[1].strip()


def baseline_make_run(env: dict[str, str]) -> tuple[float, float, dict[str, float], str]:
    """Start the baseline stack, `make run` on it, stop it: the same three steps `make run` takes."""
    state_dir = Path(env["BEER_PLATFORM_STACK_DIR"])
    started = time.perf_counter()
    proc = launch_detached(state_dir, baseline_provisioner.command(
        state_dir, int(env["BEER_PLATFORM_AWS_PORT"]), int(env["BEER_PLATFORM_PUNKAPI_PORT"])))  # fmt: skip
    try:
        wait_until(state_dir, "applied", proc, timeout=120)
        stack_start = time.perf_counter() - started
        _, graph_starts, per_asset, graph = make_run(env)
    finally:
        stop_detached(state_dir)
    return time.perf_counter() - started, stack_start + graph_starts, per_asset, graph


def environment(tmp: str, variant: str) -> dict[str, str]:
    return os.environ | {
        "BEER_PLATFORM_STACK_DIR": f"{tmp}/{variant}/stack",
        "DAGSTER_HOME": f"{tmp}/{variant}/dagster_home",
        "BENTOML_HOME": f"{tmp}/{variant}/bentoml",
        "BEER_PLATFORM_AWS_PORT": str(free_port()),
        "BEER_PLATFORM_PUNKAPI_PORT": str(free_port()),
    }


def load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def measure(rounds: int) -> dict[tuple[str, str], list[tuple]]:
    """{(variant, "first"|"later"): [(wall, until the graph, per asset, graph, load before)]},
    alternating which variant goes first."""
    results: dict[tuple[str, str], list] = {}
    for round_ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            envs = {variant: environment(tmp, variant) for variant in VARIANTS}
            for which in ("first", "later"):
                for variant in VARIANTS if round_ % 2 == 0 else VARIANTS[::-1]:
                    before = load()
                    runner = make_run if variant == "terraform" else baseline_make_run
                    print(f"round {round_ + 1}: {variant} {which} (load {before})", file=sys.stderr, flush=True)
                    wall, until_graph, per_asset, graph = runner(envs[variant])
                    print(f"  wall {wall:.1f} s, until the graph starts {until_graph:.1f} s, graph {graph}",
                          file=sys.stderr, flush=True)  # fmt: skip
                    results.setdefault((variant, which), []).append((wall, until_graph, per_asset, graph, before))
    return results


def print_table(results: dict) -> None:
    print("\n## `make run` end to end: infra/ applied by Terraform beside the hand-written provisioner\n")
    print(describe_machine())
    assets = list(results[("terraform", "first")][0][2])
    print("| run | stack's infrastructure | wall s | until the graph starts s | load at start | graph s | "
          + " | ".join(f"{a} s" for a in assets) + " |")  # fmt: skip
    print("|---|---|---:|---:|---|---:|" + "---:|" * len(assets))
    for which, label in (("first", "first (fresh state)"), ("later", "later (nothing new)")):
        for variant in VARIANTS:
            for wall, until_graph, per_asset, graph, before in results[(variant, which)]:
                cells = " | ".join(f"{per_asset.get(a, 0):.1f}" for a in assets)
                print(f"| {label} | {variant} | {wall:.1f} | {until_graph:.1f} | {before} | {graph.rstrip('s')} "
                      f"| {cells} |")  # fmt: skip
    for which in ("first", "later"):
        pairs = list(zip(results[("terraform", which)], results[("baseline", which)]))
        walls = ", ".join(f"{tf[0] - base[0]:+.1f}" for tf, base in pairs)
        starts = ", ".join(f"{tf[1] - base[1]:+.1f}" for tf, base in pairs)
        ratios = ", ".join(f"{tf[0] / base[0]:.2f}x" for tf, base in pairs)
        print(f"\n{which}, terraform against the baseline, each round: wall {walls} s ({ratios}); "
              f"until the graph starts {starts} s")
    print("\nwall = the whole `make run` (set-up check, stack start with state replay and the infrastructure, "
          "graph, summary, stack stop); the baseline's wall adds its stack's start and stop around `make run`. "
          "Until the graph starts = from the start to the first run (the stack up and ready, Dagster imported).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="fresh-state rounds (each: first and later runs)")
    print_table(measure(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
