"""Run the shipped handler in a fresh process, as Lambda would, and time it (no Docker here).

The child is `python -S -c HARNESS`: without `site`, the given interpreter's site-packages are
added by hand and their .pth files are NOT run, so the checkout's editable install (an import
hook that maps `beer_platform` to the checkout) cannot stand in for the bento's own `src/`. The
context dir comes first on sys.path and is the cwd, like /var/task. As root, the child also
loses CAP_DAC_OVERRIDE, so a read-only (chmod a-w) code dir is read-only for it too.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Runs in the child. Prints nothing itself: results go to the file named in the spec.
HARNESS = r"""
import json, logging, os, sys, time
spec = json.load(open(sys.argv[1]))

class ServiceStarts(logging.Handler):
    # BentoML logs "Service <name> initialized" each time its lifespan creates the service
    # instance (= loads the model): once per container is the point of entering it at init
    count = 0
    def emit(self, record):
        message = record.getMessage()
        ServiceStarts.count += message.startswith("Service ") and message.endswith(" initialized")

serve_log = logging.getLogger("bentoml.serve")
serve_log.addHandler(ServiceStarts(logging.INFO))
serve_log.setLevel(logging.INFO)
sys.path.extend(path for path in spec["site_packages"] if path not in sys.path)
sys.path[:] = [spec["context"]] + [p for p in sys.path if p not in ("", spec["context"])]
os.chdir(spec["context"])
started = time.perf_counter()
import lambda_handler
init_done_at, import_s = time.time(), time.perf_counter() - started

class Context:
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:" + function_name
    memory_limit_in_mb = 1024
    aws_request_id = "local"
    log_group_name = log_stream_name = "local"
    def get_remaining_time_in_millis(self):
        return 30000

results = []
for item in spec["events"]:
    latencies, statuses, first = [], set(), None
    for _ in range(item.get("repeat", 1)):
        start = time.perf_counter()
        response = lambda_handler.handler(item["event"], Context())
        latencies.append(time.perf_counter() - start)
        statuses.add(response.get("statusCode"))
        first = first or response
    results.append({"name": item["name"], "response": first, "latencies": latencies, "statuses": sorted(statuses)})
with open(spec["out"], "w") as out:
    json.dump({"init_done_at": init_done_at, "import_s": import_s,
               "handler_init_s": getattr(lambda_handler, "INIT_SECONDS", None), "results": results,
               "service_starts": ServiceStarts.count}, out)
"""

# Variables of the calling process that must not leak into the "container".
_DROPPED_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE",
                "PROMETHEUS_MULTIPROC_DIR", "VIRTUAL_ENV")  # fmt: skip
_DROPPED_PREFIXES = ("BENTOML_", "IBU_", "AWS_", "LAMBDA_", "MOTO_")


class HandlerCrashed(RuntimeError):
    """The child process failed or timed out; the message ends with its stderr."""


@dataclass
class EventResult:
    name: str
    response: dict[str, Any]
    latencies: list[float]  # seconds, one per call
    statuses: list[int]  # distinct status codes over all calls


@dataclass
class HarnessRun:
    spawn_to_init_s: float  # process start to the handler module imported (init done)
    import_s: float  # importing the handler module, measured inside the process
    service_starts: int  # BentoML service instances created (model loads) over the whole run
    results: list[EventResult] = field(default_factory=list)
    stderr: str = ""

    def result(self, name: str) -> EventResult:
        return next(item for item in self.results if item.name == name)


# Looked up before any fork: the child, between fork and exec, only calls it.
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def _drop_dac_override() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Drop CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH from the bounding set: root then obeys file modes."""
    if _PRCTL is None or os.geteuid() != 0:
        return
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        _PRCTL(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP; a failure leaves root as it was


@functools.cache
def site_packages(python: str = sys.executable) -> list[str]:
    """The site-packages dirs of `python` (with -S the child cannot find a venv's by itself)."""
    if Path(python).absolute() == Path(sys.executable).absolute():
        return site.getsitepackages()
    code = "import json, site; print(json.dumps(site.getsitepackages()))"
    return json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)


def child_env(scratch: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in _DROPPED_ENV and not key.startswith(_DROPPED_PREFIXES)}  # fmt: skip
    env.update({"AWS_LAMBDA_FUNCTION_NAME": "beer-platform-ibu-model", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
                "AWS_REGION": "eu-west-1", "IBU_LAMBDA_TMP": str(scratch), "HOME": str(scratch),
                "TMPDIR": str(scratch)})  # fmt: skip
    env.update(extra or {})
    return env


def run_handler(
    context_dir: Path,
    events: list[dict[str, Any]],
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    timeout: float = 180.0,
) -> HarnessRun:
    """Import `lambda_handler` from `context_dir` in a fresh process and send it `events`.

    `events`: [{"name", "event", "repeat"?}]. `env`: extra variables for the child (e.g. the
    bytecode settings of the benchmark). Raises HandlerCrashed when the child fails.
    """
    with tempfile.TemporaryDirectory(prefix="ibu-lambda-run-") as work:
        scratch = Path(work) / "tmp"  # Lambda's /tmp for this "container"
        scratch.mkdir()
        spec_path, out_path = Path(work) / "spec.json", Path(work) / "out.json"
        spec_path.write_text(json.dumps({"context": str(Path(context_dir).resolve()), "events": events,
                                         "site_packages": site_packages(python), "out": str(out_path)}))  # fmt: skip
        spawned_at = time.time()
        try:
            proc = subprocess.run(
                [python, "-S", "-c", HARNESS, str(spec_path)],
                env=child_env(scratch, env), capture_output=True, text=True, timeout=timeout,
                preexec_fn=_drop_dac_override, cwd=work,
            )  # fmt: skip
        except subprocess.TimeoutExpired as err:
            tail = (err.stderr or b"")[-3000:]
            tail = tail.decode(errors="replace") if isinstance(tail, bytes) else tail
            raise HandlerCrashed(f"the handler process timed out after {timeout:.0f}s; stderr:\n{tail}") from None
        if proc.returncode != 0 or not out_path.exists():
            raise HandlerCrashed(f"the handler process exited with {proc.returncode}; stderr:\n{proc.stderr[-3000:]}")
        data = json.loads(out_path.read_text())
    return HarnessRun(
        spawn_to_init_s=data["init_done_at"] - spawned_at,
        import_s=data["import_s"],
        service_starts=data["service_starts"],
        results=[EventResult(**item) for item in data["results"]],
        stderr=proc.stderr,
    )
