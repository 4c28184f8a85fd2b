"""The deployed platform (`make platform-up`) against today's single-process Dagster, side by side.

The same runs in each shape, each repetition doing the same work, so the figures compare the
shapes, not the data: `ingestion_job` on a catalogue already published today (fetch the 325 beers
from the replica, hash them, find today's marker, publish nothing), and `cleaning_job` of the
landed day (read its raw parts, write its three tables again).

- platform: submitted over GraphQL; queued, dequeued by the daemon, launched by DockerRunLauncher
  into a container of the user-code image, its steps executed in the run worker (timings from
  the run's events and the container's own start time);
- in-process: `execute_in_process` on a SQLite instance, as `make run` runs it;
- subprocess: `dagster job execute` (a fresh interpreter and the multiprocess executor, the
  shape of a `dagster dev` run).

Then the peak resident memory of a run's container (the run worker and its step processes, which
share its 1 GiB), the resident memory of each service, idle after the runs, and the images' sizes.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from benchmarks.machine import describe_machine
from beer_platform.deployment import engine as engines
from beer_platform.local.platform import lifecycle
from beer_platform.local.platform.graphql import PlatformClient
from beer_platform.local.platform.layout import Layout
from beer_platform.local.platform.services import resident_bytes
from beer_platform.local.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
JOBS = ("ingestion_job", "cleaning_job")
REPEATS = 3


def cli(env: dict[str, str], *args: str, timeout: float = 1800) -> str:
    done = subprocess.run([sys.executable, "-m", "beer_platform.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"beer-platform {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


class ContainerPeak(threading.Thread):
    """Samples the resident memory of a run's container (its process tree) until the run ends."""

    def __init__(self, run_id: str) -> None:
        super().__init__(daemon=True)
        self.run_id, self.peak, self.worker_peak, self.done = run_id, 0, 0, threading.Event()
        self.start()

    def run(self) -> None:
        engine, pid = engines.detect(), None
        while not self.done.is_set():
            if pid is None:
                found = subprocess.run(engine.command("ps", "-q", "--filter", f"label=dagster/run_id={self.run_id}"),
                                       capture_output=True, text=True).stdout.split()  # fmt: skip
                if found:
                    pid = int(subprocess.run(engine.command("inspect", "--format", "{{.State.Pid}}", found[0]),
                                             capture_output=True, text=True).stdout.strip() or 0) or None  # fmt: skip
            self.peak = max(self.peak, resident_bytes(pid) or 0)
            try:
                self.worker_peak = max(self.worker_peak, psutil.Process(pid).memory_info().rss if pid else 0)
            except psutil.Error:
                pass
            time.sleep(0.1)


def platform_run(client: PlatformClient, job: str, tags: dict[str, str]) -> dict[str, float]:
    """Seconds from submission to: queued, container started, run worker started, success; the
    container's peak resident bytes."""
    submitted = time.time()
    run_id = client.submit(job, tags=tags)
    sampler = ContainerPeak(run_id)
    run = client.wait(run_id, timeout=600, poll=0.2)
    sampler.done.set()
    if run["status"] != "SUCCESS":
        raise RuntimeError(f"run {run_id} ended {run['status']}")
    events = {e["__typename"]: int(e["timestamp"]) / 1000 for e in reversed(client.events(run_id))}
    inspected = json.loads(subprocess.run(engines.detect().command("container", "inspect",
                                                                   run["tags"]["docker/container_id"]),
                                          capture_output=True, text=True, check=True).stdout)[0]  # fmt: skip
    return {"queued": events["RunEnqueuedEvent"] - submitted,
            "container": utc_seconds(inspected["State"]["StartedAt"]) - submitted,
            "worker": run["startTime"] - submitted, "success": run["endTime"] - submitted, "peak": sampler.peak,
            "worker_peak": sampler.worker_peak}


def utc_seconds(text: str) -> float:
    """An engine's `2026-12-06T13:21:49.159572444Z` (nanoseconds: more than fromisoformat takes)."""
    whole, _, fraction = text.removesuffix("Z").partition(".")
    return datetime.fromisoformat(whole + "+00:00").timestamp() + float(f"0.{fraction or 0}")


IN_PROCESS = """
import json, sys, time
from dagster import DagsterInstance
from beer_platform.definitions import defs
job, tags = defs.resolve_job_def(sys.argv[1]), json.loads(sys.argv[3])
with DagsterInstance.get() as instance:
    for _ in range(int(sys.argv[2])):
        started = time.perf_counter()
        assert job.execute_in_process(instance=instance, partition_key=tags.get("dagster/partition")).success
        print(time.perf_counter() - started, flush=True)
"""


def in_process_runs(env: dict[str, str], job: str, tags: dict[str, str]) -> list[float]:
    """REPEATS + 1 runs in one interpreter (the first warms it up, as `make run`'s process is)."""
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, job, str(REPEATS + 1), json.dumps(tags)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=900)  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return [float(line) for line in out.stdout.split()][1:]


def subprocess_run(env: dict[str, str], job: str, tags: dict[str, str]) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "dagster", "job", "execute", "-m", "beer_platform.definitions", "-j", job,
               "--tags", json.dumps(tags)]  # fmt: skip
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True, timeout=900)
    return time.perf_counter() - started


def measure(tmp: Path) -> dict:
    env = os.environ | {"BEER_PLATFORM_PLATFORM_DIR": str(tmp / "platform"),
                        "BEER_PLATFORM_STACK_DIR": str(tmp / "stack"), "BENTOML_HOME": str(tmp / "bentoml"),
                        "DAGSTER_HOME": str(tmp / "dagster_home"), "BEER_PLATFORM_ENV": "local"}  # fmt: skip
    (tmp / "dagster_home").mkdir()
    (tmp / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    load = os.getloadavg()[0]
    started = time.perf_counter()
    status = json.loads(cli(env, "platform", "up", "--json", "--port", str(free_port()), "--aws-port",
                            str(free_port()), "--punkapi-port", str(free_port())))  # fmt: skip
    up_s = time.perf_counter() - started
    try:
        client = PlatformClient(status["webserver_url"])
        for sensor in ("lake_automation", "landed_days"):  # only the measured runs run
            client.stop_sensor(sensor)
        platform_run(client, "ingestion_job", {})  # publishes today's catalogue: every run after does the same
        landing = platform_run(client, "landing_job", {})
        tags = {"ingestion_job": {}, "cleaning_job": {"dagster/partition": datetime.now(UTC).strftime("%Y-%m-%d")}}
        platform_run(client, "cleaning_job", tags["cleaning_job"])  # writes the day: every run after rewrites it
        shapes = {job: {"platform": [platform_run(client, job, tags[job]) for _ in range(REPEATS)],
                        "in_process": in_process_runs(env, job, tags[job]),
                        "subprocess": [subprocess_run(env, job, tags[job]) for _ in range(REPEATS)]}
                  for job in JOBS}  # fmt: skip
        idle = lifecycle.status(Layout(tmp / "platform"))
    finally:
        cli(env, "platform", "down", timeout=300)
    engine = engines.detect()
    sizes = {name: engine.size(idle[key]) for name, key in (("user-code", "image"), ("dagster", "dagster_image"))}
    return {"up_s": up_s, "jobs": shapes, "landing": landing, "sizes": sizes, "load": (load, os.getloadavg()[0]),
            "rss": {name: part["rss_bytes"] for name, part in idle["services"].items()}}


def report(figures: dict) -> None:
    med = statistics.median
    print(f"\n## The deployed platform against single-process Dagster (median of {REPEATS})\n")
    print(describe_machine())
    start, end = figures["load"]
    print(f"Load average (1 min) from other work: {start:.1f} at the start, {end:.1f} at the end.\n")
    print("| run | shape | submitted -> queued s | -> container started s | -> run worker started s | -> success s | "
          "x in-process | container peak MiB (run worker) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for job, shapes in figures["jobs"].items():
        base = med(shapes["in_process"])
        plat = {key: med(run[key] for run in shapes["platform"]) for key in shapes["platform"][0]}
        print(f"| {job} | platform (GraphQL, queue, DockerRunLauncher) | {plat['queued']:.2f} | "
              f"{plat['container']:.2f} | {plat['worker']:.2f} | {plat['success']:.2f} | "
              f"{plat['success'] / base:.1f}x | {plat['peak'] / 2**20:.0f} ({plat['worker_peak'] / 2**20:.0f}) |")
        print(f"| {job} | in-process (`execute_in_process`, make run) | - | - | - | {base:.2f} | 1.0x | - |")
        spawned = med(shapes["subprocess"])
        print(f"| {job} | subprocess (`dagster job execute`: dagster dev's shape) | - | - | - | {spawned:.2f} | "
              f"{spawned / base:.1f}x | - |")
    landing = figures["landing"]
    print(f"\nlanding_job landing 325 records: {landing['success']:.1f} s from submission to success, container "
          f"peak {landing['peak'] / 2**20:.0f} MiB; `platform up` with the images built: {figures['up_s']:.1f} s\n")
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
