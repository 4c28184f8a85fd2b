"""The local stack: moto's server as the AWS endpoint, an image registry as ECR's, and the
PunkAPI replica, on 127.0.0.1, with the AWS resources that `terraform apply` of infra/ creates.

State survives restarts: moto records every request to `.stack/moto_recording.jsonl`; at start
the recording is compacted (reads dropped) and replayed, so buckets, objects, stream records and
catalog entries come back exactly as the platform left them. Terraform's workspace and state are
in `.stack/terraform/` (see `local.infrastructure`: when a start applies, and when the platform
may begin before the apply ends). The registry keeps its images and its port in
`.stack/registry/` (see `local.registry`); without `docker-registry` installed the stack runs
without one, and ECR's repository URI stays AWS's (nothing can be pushed).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qs

import httpx

from beer_platform.local import endpoint as endpoint_server
from beer_platform.local import registry
from beer_platform.local.http_server import bind
from beer_platform.local.infrastructure import (
    APPLIED,
    FAILED,
    READY,
    Infrastructure,
    TerraformInfrastructure,
    forget_apply,
)
from beer_platform.local.terraform import Workspace, terraform_binary
from beer_platform.names import DEFAULT_NAMES, ResourceNames
from beer_platform.settings import DEFAULT_AWS_PORT, DEFAULT_PUNKAPI_PORT
from beer_platform.settings import STACK_FILE as STATE_FILE
from beer_platform.settings import read_stack_file

RECORDING_FILE = "moto_recording.jsonl"
LOG_FILE = "stack.log"
TERRAFORM_DIR = "terraform"
# How long a stop lets a running apply end: a first apply is about a minute of provider waiters.
APPLY_GRACE_S = 180.0
# What `start_detached` waits for: the endpoints only, the platform's resources, or the whole apply.
UNTIL = {"endpoints": None, "ready": {READY, APPLIED}, "applied": {APPLIED}}

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
    infra: dict = field(default_factory=dict)  # see local.infrastructure: state, seconds, resources, log

    def as_json(self) -> dict:
        return asdict(self) | {"running": True}


def _is_read(entry: dict) -> bool:
    url = entry.get("url", "")
    if "/moto-api/" in url:
        return "/moto-api/config" not in url  # keep config (e.g. Lambda's use_docker)
    method = entry.get("method", "GET").upper()
    target = {k.lower(): v for k, v in entry.get("headers", {}).items()}.get("x-amz-target", "")
    if target:  # JSON-protocol services (Kinesis, Glue, Athena, ECR, KMS): the operation is named
        return target.rsplit(".", 1)[-1].startswith(_READ_PREFIXES)
    if method == "POST" and (action := _query_action(entry)):  # query protocol (IAM, STS): named in the body
        return action.startswith(_READ_PREFIXES)
    return method in ("GET", "HEAD")


def _query_action(entry: dict) -> str:
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    return parse_qs(body[:2000]).get("Action", [""])[0] if body.startswith("Action=") else ""


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
    """Runs both servers in this process (threads). `beer-platform stack up` owns one.

    `infrastructure`: where the AWS resources come from; by default infra/ applied by Terraform.
    """

    def __init__(
        self,
        state_dir: Path,
        aws_port: int = DEFAULT_AWS_PORT,
        punkapi_port: int = DEFAULT_PUNKAPI_PORT,
        names: ResourceNames = DEFAULT_NAMES,
        infrastructure: Infrastructure | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.aws_port = aws_port or free_port()
        self.punkapi_port = punkapi_port
        self.names = names
        self.infrastructure = infrastructure or TerraformInfrastructure(Workspace(self.state_dir / TERRAFORM_DIR),
                                                                        names)  # fmt: skip
        self._moto = None
        self._replica = None
        self._registry = registry.LocalRegistry(self.state_dir, free_port)

    @property
    def recording(self) -> Path:
        return self.state_dir / RECORDING_FILE

    def start(self) -> StackState:
        """Serve the endpoints and begin the infrastructure (which may still be applying on return)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        registry_host, registry_problem = None, ""
        try:
            registry_host = self._registry.start()
        except registry.RegistryUnavailable as err:
            registry_problem = str(err)
        kept = compact_recording(self.recording)
        endpoint = f"http://127.0.0.1:{self.aws_port}"
        self.infrastructure.prepare(endpoint)
        self._moto = endpoint_server.serve(self.aws_port, recording=self.recording, registry_host=registry_host)
        if kept:
            httpx.post(f"{endpoint}/moto-api/recorder/replay-recording", timeout=600).raise_for_status()
        self.infrastructure.begin(endpoint, registry_host)

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
            infra=self.infrastructure.status(),
        )

    def stop(self) -> None:
        self.infrastructure.stop(APPLY_GRACE_S)
        if self._replica is not None:
            self._replica.stop()
        if self._moto is not None:
            self._moto.stop()
        self._registry.stop()


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
    return state | {"aws_healthy": endpoint_server.healthy(state["aws_endpoint_url"]), "punkapi_healthy": punkapi_ok,
                    "registry_healthy": registry_ok}  # fmt: skip


class InfrastructureFailed(RuntimeError):
    """The stack's infrastructure (terraform apply of infra/) failed; the message says why."""


def _publish(state_dir: Path, state: StackState) -> None:
    state_path = state_dir / STATE_FILE
    tmp = state_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.as_json(), indent=2))
    tmp.replace(state_path)


def run_foreground(state_dir: Path, aws_port: int, punkapi_port: int,
                   on_ready: Callable[[StackState], None] | None = None,
                   on_infra: Callable[[dict], None] | None = None,
                   infrastructure: Infrastructure | None = None) -> None:  # fmt: skip
    """Start the stack, publish its state file (again whenever the infrastructure's state moves
    on), serve until SIGINT/SIGTERM, then clean up."""
    stack = LocalStack(state_dir, aws_port=aws_port, punkapi_port=punkapi_port, infrastructure=infrastructure)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        state = stack.start()
        _publish(state_dir, state)
        if on_ready:
            on_ready(state)
        while not stop.wait(0.5):
            infra = stack.infrastructure.status()
            if infra["state"] != state.infra.get("state"):
                state = replace(state, infra=infra)
                _publish(state_dir, state)
                if on_infra:
                    on_infra(infra)
    finally:
        (state_dir / STATE_FILE).unlink(missing_ok=True)
        stack.stop()


def launch_detached(state_dir: Path, command: list[str]) -> subprocess.Popen:
    """Start `command` (a stack process that publishes `state_dir`'s state file) in the background."""
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    log = (state_dir / LOG_FILE).open("ab")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip


def wait_until(state_dir: Path, until: str = "ready", proc: subprocess.Popen | None = None,
               timeout: float = 300.0) -> dict:  # fmt: skip
    """The running stack's state once `until` holds: "endpoints" (serving), "ready" (the platform's
    resources exist) or "applied" (the whole apply ended). Raises InfrastructureFailed when the
    apply failed, RuntimeError when the stack process `proc` exited, TimeoutError."""
    wanted = UNTIL[until]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = (state_dir / LOG_FILE).read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the local stack exited with {proc.returncode} while starting:\n{tail}")
        state = read_state(state_dir)
        if state is not None and (proc is None or state["pid"] == proc.pid):
            infra = state.get("infra", {})
            if infra.get("state") == FAILED:
                raise InfrastructureFailed(f"{infra.get('error', 'terraform apply failed')} (log: {infra.get('log')})")
            if wanted is None or infra.get("state") in wanted:
                return state
        time.sleep(0.1)
    raise TimeoutError(f"the local stack was not {until} in {timeout:.0f}s; see {state_dir / LOG_FILE}")


def stack_command(state_dir: Path, aws_port: int, punkapi_port: int) -> list[str]:
    return [sys.executable, "-m", "beer_platform.cli", "stack", "up",
            "--aws-port", str(aws_port), "--punkapi-port", str(punkapi_port), "--state-dir", str(state_dir)]  # fmt: skip


def start_detached(state_dir: Path, aws_port: int, punkapi_port: int, until: str = "ready",
                   timeout: float = 300.0) -> dict:  # fmt: skip
    """Start `stack up` as a background process; return its state once `until` holds (see
    `wait_until`). A stack whose apply failed is stopped again."""
    if read_state(state_dir) is not None:
        return wait_until(state_dir, until, timeout=timeout) | {"already_running": True}
    terraform_binary()  # said at once, before any process starts
    for port in (aws_port, punkapi_port):  # a taken port is told at once, by number, not after a timeout
        if port:
            bind("127.0.0.1", port).close()
    proc = launch_detached(state_dir, stack_command(state_dir, aws_port, punkapi_port))
    try:
        return wait_until(state_dir, until, proc, timeout)
    except (InfrastructureFailed, TimeoutError):
        stop_detached(state_dir)
        raise


def destroy_detached(state_dir: Path, aws_port: int, punkapi_port: int) -> dict:
    """`terraform destroy` of what the apply of infra/ created, against the running stack (started
    for it when down), then stop the stack. The next start applies infra/ again."""
    started = time.monotonic()
    state = start_detached(state_dir, aws_port, punkapi_port, until="applied")
    workspace = Workspace(state_dir / TERRAFORM_DIR)
    try:
        destroyed = workspace.destroy(state["aws_endpoint_url"])
        forget_apply(workspace)
    finally:
        stop_detached(state_dir)
    return {"endpoint": state["aws_endpoint_url"], "destroyed": destroyed, "seconds": time.monotonic() - started}


def stop_detached(state_dir: Path, timeout: float = APPLY_GRACE_S + 60) -> bool:
    """Stop a running stack (which first lets a running apply end); return False when none was running."""
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
