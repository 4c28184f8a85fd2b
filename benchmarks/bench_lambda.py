"""Lambda handler: cold start and warm latency, with the shipped .pyc and without any, + image size.

Builds the real artifact (a model trained into a temporary BENTOML_HOME, the bento, the image
context), then starts the handler in fresh processes exactly as `verify` does (see
beer_platform/deployment/harness.py: `python -S`, the context first on sys.path, site-packages
without .pth hooks). Each run: process start -> handler imported (Lambda's init: imports, the
model load in the ASGI lifespan), then a first one-beer POST /predict, then `--warm` more.

"no .pyc anywhere" runs the process with PYTHONPYCACHEPREFIX set to an empty dir and
PYTHONDONTWRITEBYTECODE=1: Python then looks for bytecode only under that (empty) prefix and
writes none, so every module - the bento's, site-packages', and the stdlib's too (which the
base image does ship compiled, so this slightly overstates the cost) - is compiled from source
on every cold start. "shipped .pyc" uses the context's unchecked-hash .pyc and site-packages'
bytecode (filled by one untimed run first, as pip does at install in the image).

Not measured here: the image pull and Lambda's own sandbox start (no Docker, no AWS); files
come from the page cache after the first run, where Lambda reads a lazily-loaded image.
Goals: cold start (init + first call) under 4 s with shipped .pyc; warm p50 under 20 ms.

    python -m benchmarks.bench_lambda [--runs 5] [--warm 200]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.machine import describe_machine
from beer_platform.deployment.events import function_url_event
from beer_platform.deployment.harness import run_handler
from beer_platform.deployment.verify import BUZZ

COLD_GOAL_S = 4.0
WARM_P50_GOAL_MS = 20.0


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 200 values is the 198th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


@dataclass
class Variant:
    name: str
    cold_total_s: list[float]  # process start -> first answer, one per run
    init_s: list[float]  # process start -> handler imported
    first_call_ms: list[float]
    warm_ms: list[float]  # every warm call of every run


def prepare_context(work: Path) -> Path:
    """A model trained into a temporary store, its bento and image context (as a release builds)."""
    home = work / "bentoml"
    trained = subprocess.run([sys.executable, "-m", "beer_platform_tests.shipped_model", "--no-evaluate"],
                             env={**os.environ, "BENTOML_HOME": str(home)}, capture_output=True, text=True)  # fmt: skip
    if trained.returncode != 0:
        sys.exit(f"training failed:\n{trained.stderr[-2000:]}")
    os.environ["BENTOML_HOME"] = str(home)  # before this process touches the model store
    from beer_platform.deployment.bento import build_bento
    from beer_platform.deployment.context import build_context

    return build_context(build_bento(), work / "context")


def measure(context: Path, name: str, runs: int, warm: int, env: dict[str, str]) -> Variant:
    events = [{"name": "first", "event": function_url_event("POST", "/predict", [BUZZ])},
              {"name": "warm", "event": function_url_event("POST", "/predict", [BUZZ]), "repeat": warm}]  # fmt: skip
    result = Variant(name, [], [], [], [])
    for _ in range(runs):
        run = run_handler(context, events, env=env)
        first, warm_calls = run.result("first"), run.result("warm")
        if first.statuses != [200] or warm_calls.statuses != [200]:
            sys.exit(f"{name}: unexpected answers {first.statuses} {warm_calls.statuses}\n{run.stderr[-2000:]}")
        result.init_s.append(run.spawn_to_init_s)
        result.first_call_ms.append(first.latencies[0] * 1000)
        result.cold_total_s.append(run.spawn_to_init_s + first.latencies[0])
        result.warm_ms += [latency * 1000 for latency in warm_calls.latencies]
        print(f"  {name}: cold {result.cold_total_s[-1]:.2f} s", file=sys.stderr, flush=True)
    return result


def table(variants: list[Variant], runs: int, warm: int) -> str:
    lines = [f"| variant | cold starts | start -> init done (median) | first call (median) | "
             f"cold start: init + first call (median; min-max) | warm p50 | warm p99 ({warm} calls x {runs}) |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for v in variants:
        lines.append(
            f"| {v.name} | {len(v.cold_total_s)} | {statistics.median(v.init_s):.2f} s | "
            f"{statistics.median(v.first_call_ms):.0f} ms | {statistics.median(v.cold_total_s):.2f} s; "
            f"{min(v.cold_total_s):.2f}-{max(v.cold_total_s):.2f} s | {statistics.median(v.warm_ms):.2f} ms | "
            f"{percentile(v.warm_ms, 99):.2f} ms |"
        )
    return "\n".join(lines)


def size_table(context: Path) -> str:
    from beer_platform.deployment.sizing import image_size_estimate

    est = image_size_estimate(context)
    mb = lambda n: f"{n / 2**20:,.0f} MB"  # noqa: E731
    largest = ", ".join(f"{name} {mb(size)}" for name, size in list(est["largest_packages"].items())[:5])
    rows = [
        ("base image (assumed, see image.BASE_IMAGE_ASSUMED_BYTES)", mb(est["base_image_bytes_assumed"])),
        (f"`lambda` group: {est['packages_measured']} dists measured here, incl. bytecode", mb(est["packages_bytes"])),
        ("  of which bytecode pip would compile", mb(est["packages_bytecode_bytes"])),
        ("build context (bento, model, handler, .pyc)", mb(est["context_bytes"])),
        ("**total**", f"**{mb(est['total_bytes'])}**"),
        ("Lambda image limit (10 GB)", f"{est['fraction_of_image_limit']:.1%} used"),
        ("zip limit, for the record (250 MB)", "exceeded" if not est["fits_zip_limit"] else "fits"),
    ]
    notes = (f"\nLargest: {largest}. Not measured (not installed here): "
             f"{', '.join(est['packages_not_measured']) or 'none'}. Base: {est['base_image']}.")  # fmt: skip
    return "| image part | size |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows) + notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="cold starts per variant")
    parser.add_argument("--warm", type=int, default=200, help="warm calls per cold start")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as work:
        context = prepare_context(Path(work))
        run_handler(context, [{"name": "fill", "event": function_url_event("GET", "/healthz")}])  # bytecode cache
        empty_prefix = Path(work) / "empty-pycache-prefix"
        empty_prefix.mkdir()
        no_pyc = {"PYTHONPYCACHEPREFIX": str(empty_prefix), "PYTHONDONTWRITEBYTECODE": "1"}
        variants = [measure(context, "shipped .pyc", args.runs, args.warm, {}),
                    measure(context, "no .pyc anywhere", args.runs, args.warm, no_pyc)]  # fmt: skip
        if any(empty_prefix.iterdir()):
            sys.exit("bytecode was written under the empty prefix: the no-.pyc runs were not honest")
        sizes = size_table(context)
    shipped = variants[0]
    cold, p50 = statistics.median(shipped.cold_total_s), statistics.median(shipped.warm_ms)
    print(describe_machine(), end="")
    print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work shares the machine)\n")
    print(table(variants, args.runs, args.warm))
    print(f"\nGoals (shipped .pyc): cold start {cold:.2f} s < {COLD_GOAL_S:.0f} s: "
          f"{'PASS' if cold < COLD_GOAL_S else 'FAIL'}; warm p50 {p50:.2f} ms < {WARM_P50_GOAL_MS:.0f} ms: "
          f"{'PASS' if p50 < WARM_P50_GOAL_MS else 'FAIL'}\n")  # fmt: skip
    print(sizes)


if __name__ == "__main__":
    main()
