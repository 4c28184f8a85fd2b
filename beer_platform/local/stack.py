"""The local stack: moto's server as the AWS endpoint, an image registry as ECR's, and the
PunkAPI replica, on 127.0.0.1.

State survives restarts: moto records every request to `.stack/moto_recording.jsonl`; at start
the recording is compacted (reads dropped) and replayed, so buckets, objects, stream records and
catalog entries come back exactly as the platform left them. The registry keeps its images and
its port in `.stack/registry/` (see `local.registry`); without `docker-registry` installed the
stack runs without one, and ECR's repository URI stays AWS's (nothing can be pushed).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from beer_platform.local import registry
from beer_platform.local.provision import provision
from beer_platform.names import DEFAULT_NAMES, ResourceNames
from beer_platform.settings import DEFAULT_AWS_PORT, DEFAULT_PUNKAPI_PORT
from beer_platform.settings import STACK_FILE as STATE_FILE
from beer_platform.settings import read_stack_file

RECORDING_FILE = "moto_recording.jsonl"
LOG_FILE = "stack.log"

# Requests that change nothing: left out of the recording so that replay stays short.
_READ_PREFIXES = ("Get", "List", "Describe", "Search", "BatchGet", "Head")


@dataclass(frozen=True)
class StackState:
    pid: int
    aws_endpoint_url: str
    punkapi_base_url: str
    aws_port: int
    punkapi_port: int
    state_dir: str
    recording: str
    started_at: float
    region: str = DEFAULT_NAMES.region
    registry: str | None = None  # 127.0.0.1:<port>, the ECR repository's registry; None: not installed
    registry_problem: str = ""
    replayed_requests: int = 0
    provisioned: tuple[str, ...] = ()

    def as_json(self) -> dict:
        return asdict(self) | {"running": True}


def _is_read(entry: dict) -> bool:
    url = entry.get("url", "")
    if "/moto-api/" in url:
        return "/moto-api/config" not in url  # keep config (e.g. Lambda's use_docker)
    method = entry.get("method", "GET").upper()
    target = {k.lower(): v for k, v in entry.get("headers", {}).items()}.get("x-amz-target", "")
    if target:  # JSON-protocol services (Kinesis, Glue, Athena, ECR): the operation is named
        return target.rsplit(".", 1)[-1].startswith(_READ_PREFIXES)
    return method in ("GET", "HEAD")


def compact_recording(path: Path) -> int:
    """Keep only the requests that changed state since the last reset; return how many."""
    if not path.exists():
        return 0
    kept: list[str] = []
    with path.open() as lines:
        for line in lines:
            if not line.strip():
                continue
            entry = json.loads(line)
            if "/moto-api/reset" in entry.get("url", ""):
                kept.clear()
                continue
            if _is_read(entry):
                continue
            # The port may differ on replay; moto rewrites the URL, the Host header must follow.
            entry["headers"] = {k: v for k, v in entry["headers"].items() if k.lower() != "host"}
            kept.append(json.dumps(entry))
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(f"{line}\n" for line in kept))
    tmp.replace(path)
    return len(kept)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LocalStack:
    """Runs both servers in this process (threads). `beer-platform stack up` owns one."""

    def __init__(
        self,
        state_dir: Path,
        aws_port: int = DEFAULT_AWS_PORT,
        punkapi_port: int = DEFAULT_PUNKAPI_PORT,
        names: ResourceNames = DEFAULT_NAMES,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.aws_port = aws_port or free_port()
        self.punkapi_port = punkapi_port
        self.names = names
        self._moto = None
        self._replica = None
        self._registry = registry.LocalRegistry(self.state_dir, free_port)

    @property
    def recording(self) -> Path:
        return self.state_dir / RECORDING_FILE

    def start(self) -> StackState:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        registry_host, registry_problem = None, ""
        try:
            registry_host = self._registry.start()
        except registry.RegistryUnavailable as err:
            registry_problem = str(err)
        kept = compact_recording(self.recording)
        # moto reads these once, when its recorder is created at import: set them first.
        os.environ["MOTO_ENABLE_RECORDING"] = "true"
        os.environ["MOTO_RECORDER_FILEPATH"] = str(self.recording)
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        # No Docker here: Lambda functions must be created without it (field notes).
        default_user_config["lambda"]["use_docker"] = False
        from beer_platform.local.moto_patches import keep_version_code, point_ecr_at

        keep_version_code()
        if registry_host:
            point_ecr_at(registry_host)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
        self._moto.start()
        endpoint = f"http://127.0.0.1:{self.aws_port}"
        _wait_for(lambda: aws_healthy(endpoint))
        if kept:
            httpx.post(f"{endpoint}/moto-api/recorder/replay-recording", timeout=600).raise_for_status()
        created = provision(endpoint, self.names)

        from beer_platform.local.punkapi_replica import ReplicaServer, create_app

        # The local stack is where tests inject faults into ingestion: its replica takes them.
        self._replica = ReplicaServer(create_app(fault_injection=True))
        self._replica.start(host="127.0.0.1", port=self.punkapi_port)
        return StackState(
            pid=os.getpid(),
            aws_endpoint_url=endpoint,
            punkapi_base_url=self._replica.base_url,
            aws_port=self.aws_port,
            punkapi_port=self._replica.port,
            state_dir=str(self.state_dir),
            recording=str(self.recording),
            started_at=time.time(),
            region=self.names.region,
            registry=registry_host,
            registry_problem=registry_problem,
            replayed_requests=kept,
            provisioned=tuple(created),
        )

    def stop(self) -> None:
        if self._replica is not None:
            self._replica.stop()
        if self._moto is not None:
            self._moto.stop()
        self._registry.stop()


def _wait_for(check, timeout: float = 30.0, what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as err:  # noqa: BLE001 - any failure means "not ready yet"
            last = err
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s (last error: {last})")


# --- process management used by the CLI -------------------------------------------------------


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (ours, exited, not yet reaped) is not alive.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def read_state(state_dir: Path) -> dict | None:
    state = read_stack_file(state_dir)
    return state if state is not None and pid_alive(state["pid"]) else None


def aws_healthy(endpoint: str) -> bool:
    """moto answers. Its dashboard, not `/moto-api/data.json`: once a Lambda function exists,
    dumping the state tries to reach Docker and answers 500 (see FIELD_NOTES)."""
    try:
        return httpx.get(f"{endpoint}/moto-api/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def status(state_dir: Path) -> dict:
    state = read_state(state_dir)
    if state is None:
        return {"running": False, "state_dir": str(state_dir), "aws_endpoint_url": None, "punkapi_base_url": None,
                "region": DEFAULT_NAMES.region, "registry": None}  # fmt: skip
    punkapi_ok = False
    try:
        punkapi_ok = httpx.get(
            state["punkapi_base_url"].rsplit("/v2", 1)[0] + "/__replica__/health", timeout=2
        ).is_success
    except httpx.HTTPError:
        pass
    registry_ok = bool(state.get("registry")) and registry.healthy(state["registry"])
    return state | {"aws_healthy": aws_healthy(state["aws_endpoint_url"]), "punkapi_healthy": punkapi_ok,
                    "registry_healthy": registry_ok}  # fmt: skip


def run_foreground(state_dir: Path, aws_port: int, punkapi_port: int, on_ready=None) -> None:
    """Start the stack, publish its state file, serve until SIGINT/SIGTERM, then clean up."""
    stack = LocalStack(state_dir, aws_port=aws_port, punkapi_port=punkapi_port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    state = stack.start()
    state_path = state_dir / STATE_FILE
    tmp = state_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.as_json(), indent=2))
    tmp.replace(state_path)
    if on_ready:
        on_ready(state)
    try:
        stop.wait()
    finally:
        state_path.unlink(missing_ok=True)
        stack.stop()


def start_detached(state_dir: Path, aws_port: int, punkapi_port: int, timeout: float = 120.0) -> dict:
    """Start `stack up` as a background process; return its state once both servers answer."""
    if (state := read_state(state_dir)) is not None:
        return state | {"already_running": True}
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    log = (state_dir / LOG_FILE).open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "beer_platform.cli", "stack", "up",
         "--aws-port", str(aws_port), "--punkapi-port", str(punkapi_port), "--state-dir", str(state_dir)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (state_dir / LOG_FILE).read_text()[-2000:]
            raise RuntimeError(f"the local stack exited with {proc.returncode} while starting:\n{tail}")
        state = read_state(state_dir)
        if state is not None and state["pid"] == proc.pid:
            return state
        time.sleep(0.1)
    proc.terminate()
    raise TimeoutError(f"the local stack did not start in {timeout:.0f}s; see {state_dir / LOG_FILE}")


def stop_detached(state_dir: Path, timeout: float = 30.0) -> bool:
    """Stop a running stack; return False when none was running."""
    state = read_state(state_dir)
    if state is None:
        (state_dir / STATE_FILE).unlink(missing_ok=True)
        return False
    os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(state["pid"]):
        time.sleep(0.1)
    if pid_alive(state["pid"]):
        os.kill(state["pid"], signal.SIGKILL)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return True
