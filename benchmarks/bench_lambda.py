"""The Lambda image for real: cold start, warm latency through the Runtime API, size, build time.

Builds the real image (a model trained into a temporary BENTOML_HOME, its bento, the build
context, the engine's build on the local Debian base) and runs it exactly as `verify` does
(beer_platform/deployment/sandbox.py: read-only root, /tmp only, Lambda's environment, our
Runtime API, awslambdaric in the image). Baseline: the same image with a no-op handler
(`operator.is_`, Lambda's ImageConfig.Command), i.e. the container + runtime floor.

- cold start: container start -> first answer to a one-beer POST /predict, `--runs` fresh
  containers (median; min-max); "init" is container start -> the runtime's first poll;
- warm: `--warm` calls in one container through the Runtime API (p50, p99);
- size: the engine's `image inspect` size against Lambda's 10 GB limit;
- build: cold (empty package cache, `--no-cache`: every layer rebuilt; the base image exists,
  its own mmdebstrap build is timed apart) and warm (packages cached, engine layers cached).

Not measured: Lambda's own sandbox start and image pull (lazily loaded in AWS); files come from
the page cache after the first container. Goals: median cold start at most 0.5 s above the no-op floor's in the same
run, warm p50 < 10 ms, image at most 300 MB (10^6 bytes, as the engine counts).

    python -m benchmarks.bench_lambda [--runs 5] [--warm 200] [--no-base]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.machine import describe_machine

COLD_OVER_FLOOR_GOAL_S = 0.5
WARM_P50_GOAL_MS = 10.0
IMAGE_GOAL_BYTES = 300 * 10**6


def percentile(values: list[float], pct: float) -> float:
    """Nearest rank (p99 of 200 values is the 198th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def train(work: Path) -> None:
    home = work / "bentoml"
    trained = subprocess.run([sys.executable, "-m", "beer_platform_tests.shipped_model", "--no-evaluate"],
                             env={**os.environ, "BENTOML_HOME": str(home)}, capture_output=True, text=True)  # fmt: skip
    if trained.returncode != 0:
        sys.exit(f"training failed:\n{trained.stderr[-2000:]}")
    os.environ["BENTOML_HOME"] = str(home)  # before this process touches the model store


def timed_build(engine, bento, work: Path, name: str, cache: Path, cold: bool) -> tuple[float, float, str]:
    """(seconds to assemble the context, seconds for the engine build, image ref)."""
    from beer_platform.deployment.base_image import ensure_local_base
    from beer_platform.deployment.build_context import build_context

    base = ensure_local_base(engine)
    started = time.perf_counter()
    context = build_context(bento, work / name, cache)
    assembled = time.perf_counter() - started
    ref = f"localhost/bench-lambda:{name}"
    flags = ["--no-cache"] if cold else []
    started = time.perf_counter()
    engine.run("build", *flags, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
               f"--build-arg=BASE_IMAGE={base}", "-t", ref, str(context), timeout=1800)  # fmt: skip
    return assembled, time.perf_counter() - started, ref


def time_base(engine) -> float:
    from beer_platform.deployment.base_image import MMDEBSTRAP

    with tempfile.TemporaryDirectory(prefix="bench-base-") as work:
        started = time.perf_counter()
        subprocess.run([*MMDEBSTRAP, f"{work}/base.tar"], check=True, capture_output=True)
        engine.import_tarball(f"{work}/base.tar", "localhost/bench-lambda:base")
        took = time.perf_counter() - started
    engine.remove_image("localhost/bench-lambda:base")
    return took


def measure(engine, image: str, command: tuple[str, ...], runs: int, warm: int) -> dict[str, list[float]]:
    from beer_platform.deployment.function_url import function_url_event
    from beer_platform.deployment.sandbox import FunctionConfig, WarmFunction
    from beer_platform.deployment.verify import BUZZ

    event = function_url_event("POST", "/predict", [BUZZ])
    config = FunctionConfig(command=command)
    result: dict[str, list[float]] = {"cold": [], "init": [], "warm": []}
    for run in range(runs):
        with WarmFunction(engine, image, config) as function:
            answer = function.invoke(event)
            if not command and answer.get("statusCode") != 200:
                sys.exit(f"unexpected answer {answer}")
            sandbox = function.sandbox
            result["cold"].append(sandbox.cold_start_s)
            result["init"].append(sandbox.init_s or sandbox.cold_start_s)
            print(f"  {' '.join(command) or 'ibu handler'}: cold {sandbox.cold_start_s:.2f} s", file=sys.stderr)
            if run == 0:
                for _ in range(warm):
                    started = time.perf_counter()
                    function.invoke(event)
                    result["warm"].append((time.perf_counter() - started) * 1000)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh containers for the cold start")
    parser.add_argument("--warm", type=int, default=200, help="warm calls in one container")
    parser.add_argument("--no-base", action="store_true", help="skip timing the mmdebstrap base build")
    args = parser.parse_args()
    from beer_platform.deployment import engine as engines

    engine = engines.detect()
    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as tmp:
        work = Path(tmp)
        train(work)
        from beer_platform.deployment.bento import build_bento
        from beer_platform.deployment.image import IMAGE_LIMIT_BYTES

        bento = build_bento()
        cache = work / "package-cache"
        cold_ctx, cold_build, _ = timed_build(engine, bento, work, "cold", cache, cold=True)
        warm_ctx, warm_build, image = timed_build(engine, bento, work, "warm", cache, cold=False)
        base_s = None if args.no_base else time_base(engine)
        size = engine.size(image)
        ibu = measure(engine, image, (), args.runs, args.warm)
        floor = measure(engine, image, ("operator.is_",), args.runs, args.warm)
        engine.remove_image("localhost/bench-lambda:cold")
        engine.remove_image(image)

    def row(name: str, got: dict[str, list[float]]) -> str:
        cold = statistics.median(got["cold"])
        return (f"| {name} | {len(got['cold'])} | {statistics.median(got['init']):.2f} s | {cold:.2f} s "
                f"({min(got['cold']):.2f}-{max(got['cold']):.2f}) | {cold / statistics.median(floor['cold']):.1f}x | "
                f"{statistics.median(got['warm']):.2f} ms | {percentile(got['warm'], 99):.2f} ms | "
                f"{statistics.median(got['warm']) / statistics.median(floor['warm']):.1f}x |")  # fmt: skip

    cold, p50 = statistics.median(ibu["cold"]), statistics.median(ibu["warm"])
    over = cold - statistics.median(floor["cold"])
    print(describe_machine(), end="")
    print(f"Engine: {engine.kind}. Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(other work shares the machine)\n")  # fmt: skip
    print(f"| handler | containers | start -> init done | cold start: start -> first answer (median; min-max) | "
          f"vs no-op | warm p50 ({args.warm} calls) | warm p99 | vs no-op |\n|---|---|---|---|---|---|---|---|")
    print(row("IBU service (bento, model, Mangum)", ibu))
    print(row("baseline: no-op `operator.is_`, same image", floor))
    print(f"\nGoals: cold start {over:.2f} s above the floor <= {COLD_OVER_FLOOR_GOAL_S} s: "
          f"{'PASS' if over <= COLD_OVER_FLOOR_GOAL_S else 'FAIL'}; warm p50 {p50:.2f} ms < {WARM_P50_GOAL_MS:.0f} ms: "
          f"{'PASS' if p50 < WARM_P50_GOAL_MS else 'FAIL'}; image {size / 1e6:,.0f} MB <= {IMAGE_GOAL_BYTES / 1e6:.0f} MB: "
          f"{'PASS' if size <= IMAGE_GOAL_BYTES else 'FAIL'}\n")
    print("| image | size | of Lambda's 10 GB limit |\n|---|---|---|")
    print(f"| `image inspect` | {size / 1e6:,.0f} MB | {size / IMAGE_LIMIT_BYTES:.1%} |\n")
    print("| build | assemble context | engine build | total | vs warm |\n|---|---|---|---|---|")
    warm_total = warm_ctx + warm_build
    print(f"| cold cache (packages installed + compiled, every layer) | {cold_ctx:.1f} s | {cold_build:.1f} s | "
          f"{cold_ctx + cold_build:.1f} s | {(cold_ctx + cold_build) / warm_total:.1f}x |")
    print(f"| warm cache (packages and layers cached) | {warm_ctx:.1f} s | {warm_build:.1f} s | {warm_total:.1f} s | "
          "1.0x |")
    if base_s is not None:
        print(f"| base image, once per machine (mmdebstrap + import) | - | {base_s:.1f} s | {base_s:.1f} s | "
              f"{base_s / warm_total:.1f}x |")


if __name__ == "__main__":
    main()
