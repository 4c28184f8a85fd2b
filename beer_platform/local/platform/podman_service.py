"""The engine's Docker-compatible API on a socket the platform owns: `podman system service`.

dagster-docker's run launcher (docker-py) talks to it as to a Docker daemon (DOCKER_HOST), and
`ibu_model_lambda` inside a run container drives podman's remote client through it
(CONTAINER_HOST). Containers started through the API take the engine's settings from
containers.conf, not from command-line flags: the runc runtime and the explicit rlimits these
machines need (see deployment/engine.py) go there, named by CONTAINERS_CONF in the service's
environment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from beer_platform.deployment.engine import Engine
from beer_platform.local.stack import pid_alive as alive

CONTAINERS_CONF = """\
# Written by beer_platform.local.platform: what containers started through the API need here.
[engine]
runtime = "runc"

[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
"""


class ServiceError(RuntimeError):
    pass


def answers(socket: Path) -> bool:
    """The API answers `/_ping` on `socket`."""
    if not socket.exists():
        return False
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket)), timeout=5) as client:
            return client.get("http://podman/_ping").text == "OK"
    except httpx.HTTPError:
        return False


def start(engine: Engine, socket: Path, conf: Path, log: Path, timeout: float = 60) -> int:
    """Start the service on `socket` (no idle timeout); returns its pid once the API answers."""
    if engine.kind != "podman":
        raise ServiceError(f"the platform's run launcher needs podman's API service; the engine here is {engine.kind}")
    conf.write_text(CONTAINERS_CONF)
    socket.unlink(missing_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(engine.command("system", "service", "--time=0", f"unix://{socket}"),
                                env={**os.environ, "CONTAINERS_CONF": str(conf)}, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"podman system service exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        if answers(socket):
            return proc.pid
        time.sleep(0.2)
    proc.terminate()
    raise ServiceError(f"podman system service did not answer on {socket} in {timeout:.0f}s; see {log}")


def stop(pid: int | None, socket: Path, timeout: float = 30) -> bool:
    """Stop the service (SIGTERM, then SIGKILL); False when it was not running."""
    if pid is None or not alive(pid):
        socket.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    socket.unlink(missing_ok=True)
    return True
