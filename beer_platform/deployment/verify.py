"""Verify a built image by running it as Lambda would, before anything is pushed or deployed.

A fresh container (see `sandbox`: read-only root, /tmp only, Lambda's environment, our Runtime
API, awslambdaric as the client) answers Function URL events: a good batch, bad input (4xx
naming the field), /healthz, /readyz, /docs.json, /hops, then a few warm calls. The good batch
holds card-only beers and one with a recipe: each must be answered by its own model. An init failure
(reported through `/runtime/init/error`), an unexpected answer, a crash or a timeout raises
VerificationError; otherwise the report carries the cold start and the warm latency. A smoke
check, not a benchmark: the long loops are in benchmarks/bench_lambda.py.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from beer_platform.deployment.engine import Engine
from beer_platform.deployment.function_url import function_url_event
from beer_platform.deployment.sandbox import FunctionConfig, InvocationError, WarmFunction
from beer_platform.serving.schemas import EXAMPLE_REQUEST

GOOD_BATCH = EXAMPLE_REQUEST  # the OpenAPI example: named, unnamed and unknown values, and a recipe
BUZZ = GOOD_BATCH[0]
# name -> (body, the field the 4xx answer must name)
BAD_INPUTS: dict[str, tuple[Any, str]] = {
    "bad_ph": ([{**BUZZ, "ph": 79}], "ph"),
    "missing_field": ([{"name": "Buzz", "abv": 4.5}], "target_fg"),
}
WARM_CALLS = 10


class VerificationError(RuntimeError):
    """The image failed verification; `failures` says how, `logs` is the container's output."""

    def __init__(self, failures: list[str], logs: str = "") -> None:
        self.failures, self.logs = failures, logs
        tail = f"\n--- container output (tail) ---\n{logs[-2000:]}" if logs.strip() else ""
        super().__init__("verification failed:\n- " + "\n- ".join(failures) + tail)


@dataclass
class VerificationReport:
    image: str
    model: str
    cold_start_s: float  # container start -> first answer (init included)
    init_s: float  # container start -> the runtime's first poll (init done)
    warm_calls: int
    warm_p50_ms: float
    warm_max_ms: float
    checks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _body(response: Any) -> Any:
    try:
        return json.loads(response.get("body") or "null")
    except (AttributeError, json.JSONDecodeError):
        return None


def _status(response: Any) -> Any:
    return response.get("statusCode") if isinstance(response, dict) else None


def verify(engine: Engine, image: str, model: str, config: FunctionConfig = FunctionConfig(),
           warm_calls: int = WARM_CALLS) -> VerificationReport:  # fmt: skip
    """Run `image` in a fresh sandbox; raise VerificationError unless every check passes."""
    with WarmFunction(engine, image, config) as function:
        checks = _Checks(function, config.region)
        try:
            checks.good_batch(model)
            sandbox = function.sandbox
            assert sandbox is not None and sandbox.cold_start_s is not None
            checks.bad_inputs()
            checks.routes()
            latencies = checks.warm(warm_calls)
            logs = sandbox.logs()
        except InvocationError as err:
            raise VerificationError([f"the function failed: {err.kind}: {err.message}"], err.logs) from None
    if checks.failed:
        raise VerificationError(checks.failed, logs)
    return VerificationReport(
        image=image, model=model, cold_start_s=sandbox.cold_start_s, init_s=sandbox.init_s or sandbox.cold_start_s,
        warm_calls=warm_calls, warm_p50_ms=statistics.median(latencies) if latencies else math.nan,
        warm_max_ms=max(latencies) if latencies else math.nan, checks=checks.passed,
    )  # fmt: skip


class _Checks:
    """The calls verification makes to one warm function, and what each found."""

    def __init__(self, function: WarmFunction, region: str) -> None:
        self.function, self.region = function, region
        self.passed: list[str] = []
        self.failed: list[str] = []
        self.calls = 0

    def call(self, method: str, path: str, body: Any = None) -> Any:
        self.calls += 1
        return self.function.invoke(function_url_event(method, path, body, region=self.region))

    def expect(self, ok: bool, what: str, response: Any) -> None:
        if ok:
            self.passed.append(what)
        else:
            self.failed.append(f"{what}: got {_status(response)} {str(_body(response) or response)[:300]!r}")

    def good_batch(self, model: str) -> None:
        """Every beer answered with a finite IBU by its own model (card-only or recipe), and the model's tag."""
        good = self.call("POST", "/predict", GOOD_BATCH)
        body = _body(good) if isinstance(_body(good), dict) else {}
        predictions = body.get("predictions", [])
        ibus = [item.get("ibu") for item in predictions]
        numbers = all(isinstance(v, (int, float)) and math.isfinite(v) for v in ibus)
        expected = ["recipe" if "ingredients" in beer else "card" for beer in GOOD_BATCH]
        ok = (_status(good) == 200 and len(ibus) == len(GOOD_BATCH) and numbers and body.get("model") == model
              and [item.get("model") for item in predictions] == expected)  # fmt: skip
        self.expect(ok, f"POST /predict with {len(GOOD_BATCH)} beers -> 200, {len(GOOD_BATCH)} IBUs "
                        f"({', '.join(expected)}), model {model}", good)  # fmt: skip

    def bad_inputs(self) -> None:
        for name, (bad_body, field_name) in BAD_INPUTS.items():
            bad = self.call("POST", "/predict", bad_body)
            self.expect(400 <= (_status(bad) or 0) < 500 and field_name in str(_body(bad)),
                        f"POST /predict {name} -> 4xx naming {field_name!r}", bad)  # fmt: skip

    def routes(self) -> None:
        for path in ("/healthz", "/readyz"):
            answer = self.call("GET", path)
            self.expect(_status(answer) == 200, f"GET {path} -> 200", answer)
        docs = self.call("GET", "/docs.json")
        self.expect(_status(docs) == 200 and "/predict" in ((_body(docs) or {}).get("paths") or {}),
                    "GET /docs.json -> 200 with /predict", docs)  # fmt: skip
        hops = self.call("GET", "/hops")
        listed = _body(hops) if _status(hops) == 200 else None
        known = listed.get("hops") or [] if isinstance(listed, dict) else []
        self.expect(len(known) > 100, "GET /hops -> 200 with the hop reference (the bento ships brewing/data)", hops)

    def warm(self, calls: int) -> list[float]:
        """`calls` more one-beer predictions, timed; then that one container answered everything."""
        latencies, statuses = [], set()
        for _ in range(calls):
            started = time.perf_counter()
            statuses.add(_status(self.call("POST", "/predict", [BUZZ])))
            latencies.append((time.perf_counter() - started) * 1000)
        if calls:
            self.expect(statuses == {200}, f"{calls} warm POST /predict -> 200", {"statusCode": sorted(statuses)})
        if self.function.sandboxes_started == 1:
            self.passed.append(f"one warm container answered all {self.calls} calls")
        else:
            self.failed.append(f"{self.function.sandboxes_started} containers were started for one warm function")
        return latencies
