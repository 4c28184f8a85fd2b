"""Verify a build context (or its tarball) by running its handler as Lambda would, before deploying.

The artifact is unpacked into a temporary dir made read-only (chmod -R a-w, like Lambda's code
dir; see `harness` for how root is held to it), then a fresh process imports the handler and
answers Function URL events: a good batch, bad input, /healthz, /readyz, /docs.json, then warm
calls, with the service (the model load) started exactly once for all of them. Any unexpected
answer, a crash, a timeout or a file changed in the code dir raises VerificationError;
otherwise the report carries the cold-start and warm-latency figures.
"""

from __future__ import annotations

import json
import math
import shutil
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from beer_platform.deployment.artifact import unpack
from beer_platform.deployment.events import function_url_event
from beer_platform.deployment.harness import EventResult, HandlerCrashed, run_handler
from beer_platform.serving.schemas import EXAMPLE_REQUEST

__all__ = ["VerificationError", "VerificationReport", "function_url_event", "invoke_local", "verify"]

GOOD_BATCH = EXAMPLE_REQUEST  # the OpenAPI example: named, unnamed and unknown values, and a recipe
BUZZ = GOOD_BATCH[0]
# name -> (body, the field the 4xx answer must name)
BAD_INPUTS: dict[str, tuple[Any, str]] = {
    "bad_ph": ([{**BUZZ, "ph": 79}], "ph"),
    "missing_field": ([{"name": "Buzz", "abv": 4.5}], "target_fg"),
}


class VerificationError(RuntimeError):
    """The artifact failed verification; `failures` says how, `stderr` is the handler's output."""

    def __init__(self, failures: list[str], stderr: str = "") -> None:
        self.failures, self.stderr = failures, stderr
        tail = f"\n--- handler stderr (tail) ---\n{stderr[-2000:]}" if stderr.strip() else ""
        super().__init__("verification failed:\n- " + "\n- ".join(failures) + tail)


@dataclass
class VerificationReport:
    artifact: str
    bento: str
    model: str
    cold_start_s: float  # process start to init done (the handler module imported)
    init_s: float  # the handler's import alone, inside the process
    first_call_ms: float
    cold_total_s: float  # process start to the first answer
    warm_calls: int
    warm_p50_ms: float
    warm_p99_ms: float
    checks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _events(warm_calls: int) -> list[dict[str, Any]]:
    events = [{"name": "good_batch", "event": function_url_event("POST", "/predict", GOOD_BATCH)}]
    events += [{"name": name, "event": function_url_event("POST", "/predict", body)}
               for name, (body, _) in BAD_INPUTS.items()]  # fmt: skip
    events += [{"name": path.strip("/").replace(".", "_"), "event": function_url_event("GET", path)}
               for path in ("/healthz", "/readyz", "/docs.json", "/hops")]  # fmt: skip
    if warm_calls:
        events.append({"name": "warm", "event": function_url_event("POST", "/predict", [BUZZ]), "repeat": warm_calls})
    return events


def _json_body(result: EventResult) -> Any:
    try:
        return json.loads(result.response.get("body") or "null")
    except json.JSONDecodeError:
        return None


def _check(run_results: dict[str, EventResult], model: str, warm_calls: int) -> tuple[list[str], list[str]]:
    """(passed, failed) descriptions of every check."""
    passed, failed = [], []

    def expect(ok: bool, what: str, result: EventResult) -> None:
        if ok:
            passed.append(what)
        else:
            failed.append(f"{what}: got {result.statuses} {str(result.response.get('body'))[:300]!r}")

    good = run_results["good_batch"]
    body = _json_body(good) or {}
    predictions = body.get("predictions", []) if isinstance(body, dict) else []
    ibus = [item.get("ibu") for item in predictions]
    numbers = all(isinstance(v, (int, float)) and math.isfinite(v) for v in ibus)
    count = len(GOOD_BATCH)
    answered_by = [item.get("model") for item in predictions]
    expected = ["recipe" if "ingredients" in beer else "card" for beer in GOOD_BATCH]
    expect(good.statuses == [200] and len(ibus) == count and numbers and body.get("model") == model
           and answered_by == expected,
           f"POST /predict with {count} beers -> 200, {count} IBUs ({', '.join(expected)}), model {model}",
           good)  # fmt: skip
    for name, (_, field_name) in BAD_INPUTS.items():
        bad = run_results[name]
        expect(all(400 <= status < 500 for status in bad.statuses) and field_name in str(bad.response.get("body")),
               f"POST /predict {name} -> 4xx naming {field_name!r}", bad)  # fmt: skip
    hops = run_results["hops"]
    known = (_json_body(hops) or {}).get("hops", []) if hops.statuses == [200] else []
    expect(len(known) > 100, "GET /hops -> 200 with the hop reference (the bento ships core/data)", hops)
    for name in ("healthz", "readyz"):
        expect(run_results[name].statuses == [200], f"GET /{name} -> 200", run_results[name])
    docs = run_results["docs_json"]
    expect(docs.statuses == [200] and "/predict" in (_json_body(docs) or {}).get("paths", {}),
           "GET /docs.json -> 200 with /predict", docs)  # fmt: skip
    if warm_calls:
        warm = run_results["warm"]
        expect(warm.statuses == [200], f"{warm_calls} warm POST /predict -> 200", warm)
    return passed, failed


def _tree_state(root: Path) -> dict[str, tuple[int, int]]:
    return {path.relative_to(root).as_posix(): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in root.rglob("*")}  # fmt: skip


def _set_writable(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


def _read_only_copy(source: Path, dest: Path) -> Path:
    if source.is_dir():
        shutil.copytree(source, dest)
    else:
        unpack(source.read_bytes(), dest)
    _set_writable(dest, False)
    return dest


def verify(
    context_dir_or_tarball: Path | str,
    python: str = sys.executable,
    warm_calls: int = 200,
    timeout: float = 180.0,
) -> VerificationReport:
    """Run the artifact's handler from a read-only copy in a fresh process; raise VerificationError
    unless every check passes."""
    source = Path(context_dir_or_tarball)
    with tempfile.TemporaryDirectory(prefix="ibu-lambda-verify-") as work:
        code = Path(work) / "task"
        try:
            _read_only_copy(source, code)
            manifest_path = code / "context.json"
            if not manifest_path.exists():
                raise VerificationError([f"{source}: no context.json (not a build context)"])
            manifest = json.loads(manifest_path.read_text())
            before = _tree_state(code)
            try:
                run = run_handler(code, _events(warm_calls), python=python, timeout=timeout)
            except HandlerCrashed as crash:
                raise VerificationError(["the handler did not start or crashed"], str(crash)) from None
            results = {result.name: result for result in run.results}
            passed, failed = _check(results, manifest["model"], warm_calls)
            calls = sum(len(result.latencies) for result in run.results)
            once = f"the service (model) started once for {calls} calls"
            if run.service_starts == 1:
                passed.append(once)
            else:  # e.g. Mangum's default lifespan="auto" starts it around every invocation
                failed.append(f"{once}: started {run.service_starts} times")
            changed = sorted(set(before.items()) ^ set(_tree_state(code).items()))
            if changed:
                paths = sorted({path for path, _ in changed})[:10]
                failed.append(f"the handler changed its read-only code dir: {paths}")
            if failed:
                raise VerificationError(failed, run.stderr)
        finally:
            if code.exists():
                _set_writable(code, True)  # so that the temporary dir can be removed
    good = results["good_batch"]
    warm = [latency * 1000 for latency in results["warm"].latencies] if warm_calls else [math.nan]
    return VerificationReport(
        artifact=str(source),
        bento=manifest["bento"],
        model=manifest["model"],
        cold_start_s=run.spawn_to_init_s,
        init_s=run.import_s,
        first_call_ms=good.latencies[0] * 1000,
        cold_total_s=run.spawn_to_init_s + good.latencies[0],
        warm_calls=warm_calls,
        warm_p50_ms=statistics.median(warm),
        warm_p99_ms=statistics.quantiles(warm, n=100)[98] if len(warm) > 1 else warm[0],
        checks=passed,
    )


def invoke_local(context_dir: Path | str, event: dict[str, Any], python: str = sys.executable,
                 timeout: float = 180.0) -> dict[str, Any]:  # fmt: skip
    """The Lambda response of the handler in `context_dir` to one event, from a fresh process."""
    run = run_handler(Path(context_dir), [{"name": "event", "event": event}], python=python, timeout=timeout)
    return run.results[0].response
