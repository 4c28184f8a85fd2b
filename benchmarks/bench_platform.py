"""The deployed platform (`make platform-up`) against today's single-process Dagster, side by side.

The same run in each shape: `ingestion_job` on a catalogue already published today, so every
repetition does the same work (fetch the 325 beers from the replica, hash them, find today's
marker, publish nothing) and the figures compare the shapes, not the data.

- platform: submitted over GraphQL; queued, dequeued by the daemon, launched by DockerRunLauncher
  into a container of the user-code image (timings from the run's events and the container's
  own start time);
- in-process: `execute_in_process` on a SQLite instance, as `make run` runs it;
- subprocess: `dagster job execute` (a fresh interpreter and the multiprocess executor, the
  shape of a `dagster dev` run).

Then the resident memory of each service, idle after the runs, and the images' sizes.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from benchmarks.machine import describe_machine
from beer_platform.deployment import engine as engines
from beer_platform.local.platform import lifecycle
from beer_platform.local.platform.graphql import PlatformClient
from beer_platform.local.platform.layout import Layout
from beer_platform.local.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
JOB = "ingestion_job"
REPEATS = 3


def cli(env: dict[str, str], *args: str, timeout: float = 1800) -> str:
    done = subprocess.run([sys.executable, "-m", "beer_platform.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"beer-platform {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def platform_run(client: PlatformClient) -> dict[str, float]:
    """Seconds from submission to: queued, container started, run worker started, success."""
    submitted = time.time()
    run_id = client.submit(JOB)
    run = client.wait(run_id, timeout=600, poll=0.2)
    if run["status"] != "SUCCESS":
        raise RuntimeError(f"run {run_id} ended {run['status']}")
    events = {e["__typename"]: int(e["timestamp"]) / 1000 for e in reversed(client.events(run_id))}
    inspected = json.loads(subprocess.run(engines.detect().command("container", "inspect",
                                                                   run["tags"]["docker/container_id"]),
                                          capture_output=True, text=True, check=True).stdout)[0]  # fmt: skip
    container_started = utc_seconds(inspected["State"]["StartedAt"])
    return {"queued": events["RunEnqueuedEvent"] - submitted, "container": container_started - submitted,
            "worker": run["startTime"] - submitted, "success": run["endTime"] - submitted}  # fmt: skip


def utc_seconds(text: str) -> float:
    """An engine's `2026-12-06T13:21:49.159572444Z` (nanoseconds: more than fromisoformat takes)."""
    whole, _, fraction = text.removesuffix("Z").partition(".")
    return datetime.fromisoformat(whole + "+00:00").timestamp() + float(f"0.{fraction or 0}")


IN_PROCESS = """
import sys, time
from dagster import DagsterInstance
from beer_platform.definitions import defs
job = defs.resolve_job_def(sys.argv[1])
with DagsterInstance.get() as instance:
    for _ in range(int(sys.argv[2])):
        started = time.perf_counter()
        assert job.execute_in_process(instance=instance).success
        print(time.perf_counter() - started, flush=True)
"""


def in_process_runs(env: dict[str, str], repeats: int) -> list[float]:
    """`repeats` + 1 runs in one interpreter (the first warms it up, as `make run`'s process is)."""
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, JOB, str(repeats + 1)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return [float(line) for line in out.stdout.split()][1:]


def subprocess_run(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dagster", "job", "execute", "-m", "beer_platform.definitions", "-j", JOB],
                   cwd=ROOT, env=env, capture_output=True, check=True, timeout=600)  # fmt: skip
    return time.perf_counter() - started


def measure(tmp: Path) -> dict:
    env = os.environ | {"BEER_PLATFORM_PLATFORM_DIR": str(tmp / "platform"), "BEER_PLATFORM_STACK_DIR": str(tmp / "stack"),
                        "BENTOML_HOME": str(tmp / "bentoml"), "DAGSTER_HOME": str(tmp / "dagster_home"),
                        "BEER_PLATFORM_ENV": "local"}  # fmt: skip
    (tmp / "dagster_home").mkdir()
    (tmp / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    started = time.perf_counter()
    status = json.loads(cli(env, "platform", "up", "--json", "--port", str(free_port()), "--aws-port",
                            str(free_port()), "--punkapi-port", str(free_port())))  # fmt: skip
    up_s = time.perf_counter() - started
    try:
        client = PlatformClient(status["webserver_url"])
        platform_run(client)  # publishes today's catalogue: every run after it does the same work
        platform = [platform_run(client) for _ in range(REPEATS)]
        in_process = in_process_runs(env, REPEATS)
        spawned = [subprocess_run(env) for _ in range(REPEATS)]
        idle = lifecycle.status(Layout(tmp / "platform"))
    finally:
        cli(env, "platform", "down", timeout=300)
    engine = engines.detect()
    sizes = {name: engine.size(idle[key]) for name, key in (("user-code", "image"), ("dagster", "dagster_image"))}
    return {"up_s": up_s, "platform": platform, "in_process": in_process, "subprocess": spawned,
            "rss": {name: part["rss_bytes"] for name, part in idle["services"].items()}, "sizes": sizes}  # fmt: skip


def report(figures: dict) -> None:
    med = statistics.median
    base = med(figures["in_process"])
    plat = {key: med(run[key] for run in figures["platform"]) for key in figures["platform"][0]}
    print(f"\n## The deployed platform against single-process Dagster ({JOB}, median of {REPEATS})\n")
    print(describe_machine())
    print("| shape | submitted -> queued s | -> container started s | -> run worker started s | -> success s | x in-process |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| platform (GraphQL, queue, DockerRunLauncher) | {plat['queued']:.2f} | {plat['container']:.2f} | "
          f"{plat['worker']:.2f} | {plat['success']:.2f} | {plat['success'] / base:.1f}x |")
    print(f"| in-process (`execute_in_process`, make run) | - | - | - | {base:.2f} | 1.0x |")
    spawned = med(figures["subprocess"])
    print(f"| subprocess (`dagster job execute`, dagster dev's shape) | - | - | - | {spawned:.2f} | {spawned / base:.1f}x |")
    print(f"\n`platform up` with the images built: {figures['up_s']:.1f} s\n")
    print("| service | resident MiB (idle) |\n|---|---:|")
    for name, rss in figures["rss"].items():
        print(f"| {name} | {rss / 2**20:.0f} |" if rss else f"| {name} | - |")
    print("\n| image | size MB |\n|---|---:|")
    for name, size in figures["sizes"].items():
        print(f"| {name} | {size / 1e6:.0f} |")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-platform-"))
    tmp.chmod(0o755)  # as root, Postgres runs as `postgres` and must reach its data dir
    try:
        report(measure(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
