"""The platform's long-running containers: the code server, the webserver and the daemon.

Each runs detached on the host's network (so it binds 127.0.0.1 like every server here), named
and labelled after the platform (see `layout`). The database password reaches them by
environment only: `-e NAME` without a value takes it from the engine command's environment,
so it is on no command line.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field

import psutil

from beer_platform.deployment.engine import Engine, EngineError
from beer_platform.deployment.image import IMAGE_PYTHON
from beer_platform.local.platform.instance import LOCATION, Wiring
from beer_platform.local.platform.layout import DAGSTER_HOME, LABEL, PASSWORD_ENV, Layout

CODE_SERVER, WEBSERVER, DAEMON = "code-server", "webserver", "daemon"
SERVICES = (CODE_SERVER, WEBSERVER, DAEMON)  # the order they start in
WORKSPACE = f"{DAGSTER_HOME}/workspace.yaml"


@dataclass(frozen=True)
class ServiceSpec:
    service: str
    image: str
    command: tuple[str, ...]
    mounts: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)


def specs(wiring: Wiring, dagster_image: str, webserver_port: int, code_image: str | None = None
          ) -> dict[str, ServiceSpec]:  # fmt: skip
    """What each service runs; `code_image`: serve another image's code (a test's broken one)."""
    code = code_image or wiring.code_image
    return {
        CODE_SERVER: ServiceSpec(
            CODE_SERVER, code,
            (IMAGE_PYTHON, "-m", "dagster", "code-server", "start", "-h", "127.0.0.1", "-p", str(wiring.code_port),
             "-m", "beer_platform.definitions", "--location-name", LOCATION, "--container-image", code,
             "--use-python-environment-entry-point"),  # runs start `python3.11 -m dagster`: no console scripts
            wiring.code_mounts(), wiring.code_environment(),
        ),
        WEBSERVER: ServiceSpec(
            WEBSERVER, dagster_image,
            (IMAGE_PYTHON, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(webserver_port), "-w", WORKSPACE),
            wiring.services_mounts(), wiring.services_environment(),
        ),
        DAEMON: ServiceSpec(
            DAEMON, dagster_image, (IMAGE_PYTHON, "-m", "dagster._daemon", "run", "-w", WORKSPACE),
            wiring.services_mounts(), wiring.services_environment(),
        ),
    }  # fmt: skip


def start(engine: Engine, layout: Layout, spec: ServiceSpec, password: str) -> str:
    """Start `spec` (replacing a stopped container of the same name); returns the container id."""
    name = layout.container(spec.service)
    engine.remove_container(name)
    args = ["run", "-d", "--name", name, "--network", "host", "--label", f"{LABEL}={layout.platform_id}",
            "--label", f"{LABEL}.service={spec.service}", *engine.run_flags()]  # fmt: skip
    for mount in spec.mounts:
        args += ["-v", mount]
    for key, value in spec.environment.items():
        args += ["-e", f"{key}={value}"]
    args += ["-e", PASSWORD_ENV, spec.image, *spec.command]
    return engine.run(*args, env={PASSWORD_ENV: password}, timeout=120).strip()


def stop(engine: Engine, layout: Layout, service: str, timeout: int = 15) -> None:
    """Stop (SIGTERM, then SIGKILL after `timeout` s) and remove the service's container."""
    name = layout.container(service)
    subprocess.run(engine.command("stop", "-t", str(timeout), name), capture_output=True, timeout=timeout + 60)
    engine.remove_container(name)


def state(engine: Engine, layout: Layout, service: str) -> dict:
    """`running`, `pid`, `started_at`, `image`, `exit_code` of the service's container ({} if none)."""
    try:
        [found] = json.loads(engine.run("container", "inspect", layout.container(service), timeout=60))
    except (EngineError, ValueError):
        return {}
    status = found["State"]
    return {"container": found["Name"], "running": status["Running"], "pid": status["Pid"] or None,
            "started_at": status["StartedAt"], "image": found["ImageName"],
            "exit_code": status["ExitCode"]}  # fmt: skip


def resident_bytes(pid: int | None) -> int | None:
    """Resident memory of a process and its children (a code server forks its gRPC server)."""
    if not pid:
        return None
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return None


def run_containers(engine: Engine, layout: Layout) -> list[dict]:
    """The platform's run containers, finished or not: id, run id, status."""
    listed = engine.run("ps", "-a", "--filter", f"label={LABEL}={layout.platform_id}", "--filter",
                        "label=dagster/run_id", "--format", "json", timeout=60)  # fmt: skip
    return [{"id": c["Id"], "run_id": c["Labels"].get("dagster/run_id"), "state": c["State"]}
            for c in json.loads(listed or "[]")]  # fmt: skip


def remove_finished_runs(engine: Engine, layout: Layout) -> int:
    """Remove the exited run containers (their logs are in the compute logs); returns how many."""
    finished = [c["id"] for c in run_containers(engine, layout) if c["state"] in ("exited", "created", "stopped")]
    for container in finished:
        engine.remove_container(container)
    return len(finished)


def wait_running(engine: Engine, layout: Layout, service: str, seconds: float = 5) -> dict:
    """The service's state after `seconds`: a container that exits at once (bad command, bad image)
    is reported with its log instead of being waited for."""
    time.sleep(seconds)
    current = state(engine, layout, service)
    if not current.get("running"):
        logs = subprocess.run(engine.command("logs", "--tail", "40", layout.container(service)), capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        raise RuntimeError(f"the {service} container stopped (exit {current.get('exit_code')}):\n"
                           f"{logs.stdout[-3000:]}{logs.stderr[-3000:]}")  # fmt: skip
    return current
