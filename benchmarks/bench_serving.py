"""Serving: BentoML's /predict against a bare Starlette app serving the same models, one run.

All answer a one-beer POST /predict, card-only (the original request shape: the card model) and
with a recipe (Buzz's volume and hops: the recipe model and the Tinseth estimate), with the same
validation (`schemas.parse_predict`) and the same models from the same model store, one server
process each on uvicorn with uvloop: the service as `make serve` runs it (h11, with the limits of
`local/http_server.py`), the bare app on uvicorn's defaults (httptools, a faster parser: the
stricter baseline); the servers are measured in turn at each concurrency. The bare app is the
plain way: each request predicted alone, no batching, no GC tuning. The load generator is `wrk`
when installed (C, one thread: it leaves most of a core to the server), else an asyncio httpx
client (at ~1 ms of CPU per request itself a bottleneck on 2 cores: the output says which was
used). Prints requests/s and p50/p99 latency at 1, 16 and 64 concurrent clients, the ratios
BentoML/bare, and the in-process predict times of both models.

Goals at 16 clients, for either request: BentoML (prediction logging on) at least the bare app's
throughput, with a p99 no higher; logging adds at most 0.5 ms to the p50 (`bentoml` against
`bentoml-no-log`).
Variants: `bentoml` (the service as configured, every answer logged to a Kinesis stream of a moto
server this benchmark starts, as `make serve` logs them), `bentoml-no-log` (the same, logging
off), `bentoml-untuned` (BentoML's own API layer and default settings, no batching, no GC freeze:
the "before") and `bare`.
The "server CPU ms/request" column (CPU time of the server's processes per request) is the
steadiest figure when other work shares the machine; requests/s and latencies move with it.

    python -m benchmarks.bench_serving [--duration 10] [--rounds 5] [--clients 1,16,64] [--variants ...]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass

import httpx
import psutil

from benchmarks.machine import describe_machine
from beer_platform.local import model_server as server
from beer_platform.local.stack import free_port
from beer_platform.serving.schemas import BUZZ_RECIPE
from beer_platform.names import DEFAULT_NAMES
from beer_platform.settings import SOURCE_ROOT

UNTUNED_SERVICE = "benchmarks.untuned_service:UntunedIBUModelService"  # BentoML as it comes

BUZZ = {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4}
BODIES = {"card": json.dumps([BUZZ]), "recipe": json.dumps([{**BUZZ, **BUZZ_RECIPE}])}  # one beer each


@dataclass
class Point:
    clients: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_ms_per_request: float = float("nan")  # server CPU (all its processes) per request


@dataclass
class Target:
    url: str
    pid: int  # the server's top process; its children count too

    def cpu_seconds(self) -> float:
        """User + system CPU of the server's processes: unlike requests/s, it barely moves when
        other work shares the machine."""
        try:
            top = psutil.Process(self.pid)
            processes = [top, *top.children(recursive=True)]
        except psutil.Error:
            return float("nan")
        total = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total


# --- the bare app -----------------------------------------------------------------------------


def error_body(error) -> dict:
    """The 400 body, as BentoML renders a ValidationError."""
    return {
        "error": f"{error.error_count()} validation error for {error.title}",  # sic: BentoML's wording
        "detail": error.errors(include_context=False, include_input=False),
    }


def bare_app(bentoml_home: str):
    """Starlette, one route, the same parsing, model and answer as the BentoML service."""
    os.environ["BENTOML_HOME"] = bentoml_home
    import bentoml
    from pydantic import ValidationError
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from beer_platform.serving import MODEL_NAME
    from beer_platform.serving.model_store import load_models
    from beer_platform.serving.schemas import MAX_BODY_BYTES, PredictResponse, parse_predict, predict_now

    stored = bentoml.models.get(f"{MODEL_NAME}:latest")
    models, tag = load_models(stored), str(stored.tag)

    async def predict(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body: request body too large"}, status_code=413)
        try:
            batch = parse_predict(body)
        except ValidationError as error:
            return JSONResponse(error_body(error), status_code=400)
        answer = PredictResponse(predictions=predict_now(models, batch), model=tag)
        return Response(answer.model_dump_json(), media_type="application/json")

    async def ready(request: Request) -> Response:
        return Response("\n")

    return Starlette(routes=[Route("/predict", predict, methods=["POST"]), Route("/readyz", ready)])


def serve_bare(port: int, bentoml_home: str) -> None:
    import uvicorn

    uvicorn.run(bare_app(bentoml_home), host="127.0.0.1", port=port, access_log=False, log_level="warning")


@contextmanager
def running_bare(bentoml_home: str) -> Iterator[Target]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_serving", "--serve-bare", str(port),
                                "--home", bentoml_home], cwd=SOURCE_ROOT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("bare app did not start") from None
                time.sleep(0.2)
        yield Target(url, process.pid)
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def running_bentoml(bentoml_home: str, untuned: bool = False, log_to: str | None = None) -> Iterator[Target]:
    """The model server; `log_to`: the AWS endpoint whose predictions stream gets every answer."""
    env = {}
    if log_to:
        env["BEER_PLATFORM_AWS_ENDPOINT_URL"] = log_to
    service_path = UNTUNED_SERVICE if untuned else server.SERVICE
    with server.running_service(0, bentoml_home=bentoml_home, env=env, service=service_path,
                                log_predictions=bool(log_to)) as service:  # fmt: skip
        yield Target(service.url, service.process.pid)


@contextmanager
def prediction_stream() -> Iterator[str]:
    """A moto server (its own process: its CPU is the server's, not the load generator's) with the
    predictions stream; yields its endpoint."""
    import boto3

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name=DEFAULT_NAMES.region,
                               aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                kinesis.create_stream(StreamName=DEFAULT_NAMES.predictions_stream, ShardCount=DEFAULT_NAMES.stream_shards)
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)


def records_on(endpoint: str) -> int:
    """How many prediction records the predictions stream holds (every shard from its trim
    horizon; a stream record is a gzipped batch of them, one JSON line each)."""
    import boto3

    kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name=DEFAULT_NAMES.region,
                           aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    total = 0
    for shard in kinesis.list_shards(StreamName=DEFAULT_NAMES.predictions_stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=DEFAULT_NAMES.predictions_stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            total += sum(gzip.decompress(record["Data"]).count(b"\n") for record in page["Records"])
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return total


# --- load generators ----------------------------------------------------------------------------


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, clients: int, duration: float, body: str) -> Point:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                     'wrk.headers["Content-Type"] = "application/json"\n')  # fmt: skip
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{duration:g}s", "--latency", "-s", script.name, f"{url}/predict"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)

    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * _UNITS_MS[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    errors += sum(map(int, socket_errors.groups())) if socket_errors else 0
    return Point(clients, rate, latency("50"), latency("99"), errors, requests)


def run_httpx(url: str, clients: int, duration: float, body: str) -> Point:
    async def load() -> Point:
        latencies: list[float] = []
        errors = 0
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
            headers = {"content-type": "application/json"}
            deadline = time.perf_counter() + duration

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    try:
                        response = await client.post("/predict", content=body, headers=headers)
                        ok = response.status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    latencies.append(time.perf_counter() - started)
                    errors += not ok

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(clients)))
            elapsed = time.perf_counter() - started
        cuts = statistics.quantiles(latencies, n=100)
        return Point(clients, len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, errors, len(latencies))

    return asyncio.run(load())


def start_variant(variant: str, home: str, log_to: str) -> AbstractContextManager[Target]:
    if variant == "bare":
        return running_bare(home)
    if variant == "bentoml":
        return running_bentoml(home, log_to=log_to)
    if variant in ("bentoml-no-log", "bentoml-untuned"):
        return running_bentoml(home, untuned=variant == "bentoml-untuned")
    raise SystemExit(f"unknown variant {variant!r}")


# --- in process ---------------------------------------------------------------------------------


def in_process(bentoml_home: str, seconds: float = 3.0) -> dict[str, dict[str, float]]:
    """Median ms of one-row predict, and of parse + predict + answer JSON, per request kind."""
    from beer_platform.serving import MODEL_NAME
    from beer_platform.serving.model_store import load_models
    from beer_platform.serving.schemas import PredictResponse, parse_predict, predict_now

    models = load_models(f"{MODEL_NAME}:latest")
    timings: dict[str, dict[str, float]] = {}
    for kind, body in BODIES.items():
        batch = parse_predict(body)
        predict = models.predict_card if kind == "card" else models.predict_recipe
        rows = batch.card if kind == "card" else batch.recipe

        def request(body: str = body) -> bytes:
            return PredictResponse(predictions=predict_now(models, parse_predict(body)), model="x").model_dump_json()

        timings[kind] = {}
        for name, call in (("predict", lambda: predict(rows)), ("parse+predict+answer", request)):
            call()
            samples, deadline = [], time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                call()
                samples.append(time.perf_counter() - started)
            timings[kind][name] = statistics.median(samples) * 1000
    return timings


# --- main ---------------------------------------------------------------------------------------


def prepare_model_store(home: str) -> str:
    """Train on the shipped dataset and save into `home` (in a subprocess: BENTOML_HOME is read
    once per process)."""
    env = server.service_env(home)
    out = subprocess.run([sys.executable, "-m", "beer_platform_tests.shipped_model", "--no-evaluate"],
                         env=env, capture_output=True, text=True, check=True, cwd=SOURCE_ROOT)  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


Results = dict[str, dict[str, list[Point]]]  # request kind -> server -> one point per client count


def combined(slices: list[tuple[Point, float]]) -> Point:
    """One point from its slices (each a point and the server CPU seconds it took): requests/s and
    CPU over all of them, latencies the median of the slices' percentiles."""
    points = [point for point, _ in slices]
    requests = sum(point.requests for point in points)
    return Point(points[0].clients, sum(point.requests_per_s for point in points) / len(points),
                 statistics.median(point.p50_ms for point in points), statistics.median(point.p99_ms for point in points),
                 sum(point.errors for point in points), requests,
                 sum(cpu for _, cpu in slices) * 1000 / max(requests, 1))  # fmt: skip


def table(results: Results, generator: str) -> str:
    lines = [f"Load generator: {generator}; one-beer POST /predict; errors = non-2xx or socket errors.", "",
             "| request | clients | server | requests/s | p50 ms | p99 ms | errors | server CPU ms/request | vs bare |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for kind, by_server in results.items():
        bare = {p.clients: p for p in by_server.get("bare", [])}
        for index, clients in enumerate(p.clients for p in next(iter(by_server.values()))):
            for name, points in by_server.items():
                point = points[index]
                ratio = f"{point.requests_per_s / bare[clients].requests_per_s:.2f}x" if clients in bare else "-"
                lines.append(f"| {kind} | {clients} | {name} | {point.requests_per_s:,.0f} | {point.p50_ms:.2f} "
                             f"| {point.p99_ms:.2f} | {point.errors} | {point.cpu_ms_per_request:.3f} | {ratio} |")  # fmt: skip
    return "\n".join(lines)


def goals(results: Results) -> list[str]:
    """One line per request kind, at 16 clients: BentoML (logging on) against the bare app (goal:
    throughput >= 1.0x, p99 no higher) and logging's cost (goal: p50 +0.5 ms at most)."""
    lines = []
    for kind, by_server in results.items():
        at16 = {name: next((p for p in points if p.clients == 16), None) for name, points in by_server.items()}
        tuned, bare, unlogged = at16.get("bentoml"), at16.get("bare"), at16.get("bentoml-no-log")
        if tuned and bare:
            ratio = tuned.requests_per_s / bare.requests_per_s
            lines.append(f"{kind}: BentoML/bare {ratio:.2f}x (goal >= 1.0x): {'met' if ratio >= 1.0 else 'NOT met'}; "
                         f"p99 {tuned.p99_ms:.1f} ms against the bare app's {bare.p99_ms:.1f} ms (goal: no higher): "
                         f"{'met' if tuned.p99_ms <= bare.p99_ms else 'NOT met'}.")  # fmt: skip
        if tuned and unlogged:
            added = tuned.p50_ms - unlogged.p50_ms
            lines.append(f"{kind}: logging adds {added:+.2f} ms to the p50 ({unlogged.p50_ms:.2f} -> {tuned.p50_ms:.2f}; "
                         f"goal <= +0.5 ms): {'met' if added <= 0.5 else 'NOT met'}.")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per point")
    parser.add_argument("--rounds", type=int, default=5, help="slices a point is measured in, servers in turn")
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--requests", default="card,recipe", help="comma-separated, of " + ", ".join(BODIES))
    parser.add_argument("--variants", default="bentoml-untuned,bentoml-no-log,bentoml,bare",
                        help="comma-separated, of these")
    parser.add_argument("--generator", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.home)
        return

    clients = [int(c) for c in args.clients.split(",")]
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk"))
    generator, generator_name = (run_wrk, "wrk (1 thread)") if use_wrk else (run_httpx, "asyncio httpx client")
    variants, kinds = args.variants.split(","), args.requests.split(",")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as home, ExitStack() as servers:
        tag = prepare_model_store(home)
        os.environ["BENTOML_HOME"] = home  # before this process touches the model store
        log_to = servers.enter_context(prediction_stream())
        own = {variant: servers.enter_context(ExitStack()) for variant in variants}  # each stops on its own
        targets = {variant: own[variant].enter_context(start_variant(variant, home, log_to)) for variant in variants}
        answered = dict.fromkeys(targets, 0)  # successful one-beer requests, warm-up included
        for variant, target in targets.items():  # warm-up: connections, caches, first calls of both models
            for kind in kinds:
                warm = generator(target.url, max(clients), min(2.0, args.duration), BODIES[kind])
                answered[variant] += warm.requests - warm.errors
        # Interleaved (every server at 1 client, then at 16, ...), each point in `--rounds` slices
        # taken in turn, each round starting at another server: a change in background load on a
        # shared machine hits all of them alike; idle servers cost next to nothing.
        results: Results = {kind: {variant: [] for variant in variants} for kind in kinds}
        order = list(targets)
        for kind in kinds:
            for count in clients:
                slices: dict[str, list[tuple[Point, float]]] = {variant: [] for variant in order}
                for round_ in range(args.rounds):
                    for variant in order[round_ % len(order):] + order[: round_ % len(order)]:
                        target = targets[variant]
                        cpu_before = target.cpu_seconds()
                        point = generator(target.url, count, args.duration / args.rounds, BODIES[kind])
                        slices[variant].append((point, target.cpu_seconds() - cpu_before))
                        answered[variant] += point.requests - point.errors
                for variant in order:
                    results[kind][variant].append(combined(slices[variant]))
        timings = in_process(home)
        logging = None
        if "bentoml" in targets:
            before_stop = records_on(log_to)
            own["bentoml"].close()  # a clean stop: it sends what it holds first
            logging = (answered["bentoml"], before_stop, records_on(log_to))

    print("\n## Serving: BentoML /predict against a bare Starlette app (same models, same validation)\n")
    print(describe_machine())
    print(f"Load average (1 min) at the start {load_before:.2f}, at the end {os.getloadavg()[0]:.2f} "
          "(other work shares the machine)")
    print(f"Model {tag}; {args.duration:g} s per point, in {args.rounds} slices taken in turn with the other servers'.\n")
    print(table(results, generator_name))
    print("\nIn process, one row (median): " + "; ".join(
        f"{kind} model predict {times['predict']:.2f} ms, parse + predict + answer {times['parse+predict+answer']:.2f} ms"
        for kind, times in timings.items()) + ".")  # fmt: skip
    for line in goals(results):
        print(f"\nGoals at 16 clients, {line}")
    if logging:
        served, before, after = logging
        lost = f"{served - after:,}" if after < served else "none"  # wrk leaves out the answers in flight at its end
        print(f"\nPrediction log (bentoml): {served:,} predictions answered, {after:,} records on the stream after a "
              f"clean stop ({before:,} before it: the rest were queued); lost: {lost}.")


if __name__ == "__main__":
    main()
