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
    passed: list[str] = []
    failed: list[str] = []

    def expect(ok: bool, what: str, response: Any) -> None:
        if ok:
            passed.append(what)
        else:
            failed.append(f"{what}: got {_status(response)} {str(_body(response) or response)[:300]!r}")

    with WarmFunction(engine, image, config) as function:
        try:
            good = function.invoke(function_url_event("POST", "/predict", GOOD_BATCH, region=config.region))
            sandbox = function.sandbox
            assert sandbox is not None and sandbox.cold_start_s is not None
            cold_start_s, init_s = sandbox.cold_start_s, sandbox.init_s or sandbox.cold_start_s
            body = _body(good) or {}
            predictions = body.get("predictions", []) if isinstance(body, dict) else []
            ibus = [item.get("ibu") for item in predictions]
            numbers = all(isinstance(v, (int, float)) and math.isfinite(v) for v in ibus)
            count = len(GOOD_BATCH)
            answered_by = [item.get("model") for item in predictions]
            expected = ["recipe" if "ingredients" in beer else "card" for beer in GOOD_BATCH]
            expect(_status(good) == 200 and len(ibus) == count and numbers and body.get("model") == model
                   and answered_by == expected,
                   f"POST /predict with {count} beers -> 200, {count} IBUs ({', '.join(expected)}), model {model}",
                   good)  # fmt: skip
            for name, (bad_body, field_name) in BAD_INPUTS.items():
                bad = function.invoke(function_url_event("POST", "/predict", bad_body, region=config.region))
                expect(400 <= (_status(bad) or 0) < 500 and field_name in str(_body(bad)),
                       f"POST /predict {name} -> 4xx naming {field_name!r}", bad)  # fmt: skip
            for path in ("/healthz", "/readyz"):
                answer = function.invoke(function_url_event("GET", path, region=config.region))
                expect(_status(answer) == 200, f"GET {path} -> 200", answer)
            docs = function.invoke(function_url_event("GET", "/docs.json", region=config.region))
            expect(_status(docs) == 200 and "/predict" in ((_body(docs) or {}).get("paths") or {}),
                   "GET /docs.json -> 200 with /predict", docs)  # fmt: skip
            hops = function.invoke(function_url_event("GET", "/hops", region=config.region))
            listed = _body(hops) if _status(hops) == 200 else None
            known = listed.get("hops") or [] if isinstance(listed, dict) else []
            expect(len(known) > 100, "GET /hops -> 200 with the hop reference (the bento ships brewing/data)", hops)
            latencies = []
            warm_event = function_url_event("POST", "/predict", [BUZZ], region=config.region)
            statuses = set()
            for _ in range(warm_calls):
                started = time.perf_counter()
                statuses.add(_status(function.invoke(warm_event)))
                latencies.append((time.perf_counter() - started) * 1000)
            if warm_calls:
                expect(statuses == {200}, f"{warm_calls} warm POST /predict -> 200", {"statusCode": sorted(statuses)})
            if function.sandboxes_started == 1:
                passed.append(f"one warm container answered all {7 + warm_calls} calls")
            else:
                failed.append(f"{function.sandboxes_started} containers were started for one warm function")
            logs = sandbox.logs()
        except InvocationError as err:
            raise VerificationError([f"the function failed: {err.kind}: {err.message}"], err.logs) from None
    if failed:
        raise VerificationError(failed, logs)
    return VerificationReport(
        image=image, model=model, cold_start_s=cold_start_s, init_s=init_s, warm_calls=warm_calls,
        warm_p50_ms=statistics.median(latencies) if latencies else math.nan,
        warm_max_ms=max(latencies) if latencies else math.nan, checks=passed,
    )  # fmt: skip
