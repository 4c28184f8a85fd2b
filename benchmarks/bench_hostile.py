"""The model server under hostile clients: a well-behaved client's latency beside each kind of abuse,
and the server's memory after a stream of the largest valid requests.

    python -m benchmarks.bench_hostile [--seconds 10] [--large-requests 1000]

A model trained on the shipped dataset is served by the model server (`local.model_server`: one
process, uvicorn with the project's limits, large bodies in a worker process) on 127.0.0.1. One
well-behaved client posts a one-beer /predict in a loop for `--seconds`, alone (the baseline),
then beside each of:
- a huge header: a client sending a 50 MB header over and over (refused with 431 unread);
- the largest valid requests: two clients posting, in a loop, as many 78-hop recipes as fit in
  the 6 MiB body limit (parsed and predicted in the worker process);
- 200 slow connections, each dripping a header byte a second (dropped by the header timeout,
  then reconnecting).
Each row gives the small requests' p50 and p99 and their p99 against the baseline's (goal: the
largest requests' within 5x). The server logs every prediction to a predictions stream (a moto
server), as `make serve` does with the stack up. Memory: the serving process's RSS (and its
worker's) after the first 50 largest requests and after `--large-requests` of them (goal: within
10%), then the same again on a second server whose predictions stream is down (nothing listens
at its endpoint: every record is dropped and counted).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from benchmarks.bench_serving import prediction_stream
from benchmarks.machine import describe_machine
from beer_platform.local.stack import free_port
from beer_platform.local import model_server as server
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.serving.schemas import MAX_BODY_BYTES
from beer_platform.settings import SOURCE_ROOT

BUZZ = {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4}
P99_GOAL, RSS_GOAL = 5.0, 0.10


def largest_body() -> bytes:
    """As many 78-hop PunkAPI recipes as fit under the body limit: the largest valid request."""
    beer = max(load_beers(), key=lambda b: len(b["ingredients"]["hops"]))
    hops = (beer["ingredients"]["hops"] * 78)[:78]
    record = {**beer, "ph": 4.4, "ingredients": {**beer["ingredients"], "hops": hops}}
    count = MAX_BODY_BYTES // len(json.dumps(record))
    return json.dumps([record] * min(count, 1000)).encode()


def well_behaved(url: str, seconds: float) -> tuple[list[float], int]:
    latencies, errors = [], 0
    with httpx.Client(base_url=url, timeout=30) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                errors += client.post("/predict", json=[BUZZ]).status_code != 200
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies, errors


def huge_headers(url: str, stop: threading.Event) -> None:
    host, port = url.removeprefix("http://").split(":")
    header = b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (50 * 2**20) + b"\r\n\r\n"
    while not stop.is_set():
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            try:
                sock.sendall(header)
            except OSError:
                pass  # refused before it was sent whole


def largest_requests(url: str, stop: threading.Event, body: bytes) -> None:
    with httpx.Client(base_url=url, timeout=120) as client:
        while not stop.is_set():
            client.post("/predict", content=body)


def slow_connections(url: str, stop: threading.Event, count: int = 200) -> None:
    host, port = url.removeprefix("http://").split(":")
    request = b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
    open_ = [[None, 0] for _ in range(count)]
    while not stop.is_set():
        for slot in open_:
            try:
                if slot[0] is None:
                    slot[0], slot[1] = socket.create_connection((host, int(port)), timeout=5), 0
                slot[0].sendall(request[slot[1] : slot[1] + 1])
                slot[1] = (slot[1] + 1) % len(request)
            except OSError:
                slot[0] = None  # dropped by the server: reconnect
        stop.wait(1.0)


def scenario(url: str, seconds: float, load: Callable[[threading.Event], None] | None, threads: int = 1) -> dict:
    stop = threading.Event()
    workers = [threading.Thread(target=load, args=(stop,), daemon=True) for _ in range(threads if load else 0)]
    for worker in workers:
        worker.start()
    time.sleep(1.0 if load else 0)  # the abuse under way first
    latencies, errors = well_behaved(url, seconds)
    stop.set()
    for worker in workers:
        worker.join(30)
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50": cuts[49], "p99": cuts[98], "requests": len(latencies), "errors": errors}


def rss_mib(pid: int) -> tuple[float, float]:
    """(the serving process's RSS, its workers' together), MiB."""
    process = psutil.Process(pid)
    workers = sum(child.memory_info().rss for child in process.children(recursive=True))
    return process.memory_info().rss / 2**20, workers / 2**20


def memory(url: str, pid: int, body: bytes, total: int) -> list[tuple[int, float, float]]:
    marks, done = [], 0
    with httpx.Client(base_url=url, timeout=120) as client:
        for target in (50, total):
            while done < target:
                assert client.post("/predict", content=body).status_code == 200
                done += 1
            marks.append((done, *rss_mib(pid)))
            print(f"  after {done} largest requests: {marks[-1][1]:.0f} MiB (+ worker {marks[-1][2]:.0f})",
                  file=sys.stderr)  # fmt: skip
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--large-requests", type=int, default=1000)
    args = parser.parse_args()
    body = largest_body()
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as home:
        trained = subprocess.run([sys.executable, "-m", "beer_platform_tests.shipped_model", "--no-evaluate"],
                                 env={**os.environ, "BENTOML_HOME": home}, cwd=SOURCE_ROOT, capture_output=True)  # fmt: skip
        if trained.returncode:
            sys.exit(trained.stderr.decode()[-2000:])
        with (prediction_stream() as endpoint,
              server.running_service(0, bentoml_home=home, env=_logging_to(endpoint)) as running):
            url, pid = running.url, running.process.pid
            rows = {"alone": scenario(url, args.seconds, None)}
            rows["beside a 50 MB header, over and over"] = scenario(url, args.seconds, lambda s: huge_headers(url, s))
            rows["beside two streams of the largest requests"] = scenario(
                url, args.seconds, lambda s: largest_requests(url, s, body), threads=2)
            rows["beside 200 slow connections"] = scenario(url, args.seconds, lambda s: slow_connections(url, s))
            before = rss_mib(pid)
            marks = {"up": memory(url, pid, body, args.large_requests)}
        down = _logging_to(f"http://127.0.0.1:{free_port()}")  # nothing listens there
        with server.running_service(0, bentoml_home=home, env=down) as running:
            marks["down"] = memory(running.url, running.process.pid, body, args.large_requests)
    print_report(rows, body, before, marks)


def _logging_to(endpoint: str) -> dict[str, str]:
    return {"BEER_PLATFORM_AWS_ENDPOINT_URL": endpoint}


def print_report(rows: dict, body: bytes, before: tuple[float, float], marks: dict[str, list]) -> None:
    print(f"{describe_machine().strip()}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    recipes = len(json.loads(body))
    print(f"Largest valid request: {len(body):,} bytes ({recipes} recipes of 78 hops).\n")
    print("| a well-behaved client's one-beer /predict | requests | errors | p50 ms | p99 ms | p99 vs alone |")
    print("|---|---:|---:|---:|---:|---:|")
    alone = rows["alone"]["p99"]
    for name, row in rows.items():
        print(f"| {name} | {row['requests']} | {row['errors']} | {row['p50']:.2f} | {row['p99']:.2f} "
              f"| {row['p99'] / alone:.1f}x |")
    largest = rows["beside two streams of the largest requests"]["p99"] / alone
    print(f"\nGoal: p99 beside the largest requests within {P99_GOAL:.0f}x of alone: {largest:.1f}x, "
          f"{'met' if largest <= P99_GOAL else 'MISSED'}.\n")
    print("| RSS, MiB | predictions stream | serving process | its worker | vs after the first |")
    print("|---|---|---:|---:|---:|")
    print(f"| before the largest requests | up | {before[0]:.0f} | {before[1]:.0f} | |")
    for stream, points in marks.items():
        for count, serving, worker in points:
            print(f"| after {count} largest requests | {stream} | {serving:.0f} | {worker:.0f} "
                  f"| {serving / points[0][1] - 1:+.1%} |")
    for stream, points in marks.items():
        growth = points[-1][1] / points[0][1] - 1
        print(f"\nGoal, predictions stream {stream}: the serving process's RSS after {points[-1][0]} within "
              f"{RSS_GOAL:.0%} of after {points[0][0]}: {growth:+.1%}, {'met' if abs(growth) <= RSS_GOAL else 'MISSED'}.")


if __name__ == "__main__":
    main()
