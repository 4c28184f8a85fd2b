"""`beer-platform platform up | down | status | restart`: the whole shape, started and stopped in order.

`up` starts what is not running and keeps what is: the local stack (unless one runs already),
Postgres, the engine's API service, then the images (built once, found by their tags), the
configuration and the three containers. Ports are kept across `down`/`up` while they are free;
the database (run history, schedule state, sensor cursors) is kept in the state dir.
`platform.json` records what runs, without the password.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from beer_platform.deployment import engine as engines
from beer_platform.local import stack
from beer_platform.local.platform import images, instance, podman_service, services
from beer_platform.local.platform.graphql import PlatformClient
from beer_platform.local.platform.layout import Layout
from beer_platform.local.platform.postgres import HostPostgres, ensure_database, ensure_secret, url
from beer_platform.settings import DEFAULT_PLATFORM_PORT, cache_dir, ensure_bentoml_home

POSTGRES, PODMAN_SERVICE = "postgres", "podman-service"
READY_TIMEOUT_S = 180.0  # a code server imports the definitions; a busy 2-core machine is slow


class PlatformError(RuntimeError):
    """What went wrong, for a person (the CLI prints it without a traceback)."""


def read_state(layout: Layout) -> dict:
    try:
        return json.loads(layout.state_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _write_state(layout: Layout, state: dict) -> None:
    tmp = layout.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(layout.state_file)


def _port(wanted: int | None) -> int:
    """`wanted` while it is free, else any free port."""
    if wanted:
        try:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", wanted))
            return wanted
        except OSError:
            pass
    return stack.free_port()


def wiring(layout: Layout, state: dict) -> instance.Wiring:
    return instance.Wiring(layout=layout, postgres_port=state["postgres_port"], code_port=state["code_port"],
                           code_image=state["code_image"], stack_dir=Path(state["stack_dir"]),
                           bentoml_home=Path(state["bentoml_home"]), cache_dir=Path(state["cache_dir"]))  # fmt: skip


def up(layout: Layout, stack_dir: Path, webserver_port: int | None = None, aws_port: int = 0, punkapi_port: int = 0,
       echo: Callable[[str], None] = print) -> dict:  # fmt: skip
    """Start the platform; returns its status."""
    engine = engines.detect()
    if engine.kind != "podman":
        raise PlatformError(f"the platform runs its runs through podman's Docker API; the engine here is {engine.kind}")
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o755)  # the postgres account (as root) reaches its data dir through it
    state = read_state(layout) | {"platform_id": layout.platform_id, "state_dir": str(layout.root)}
    state |= _ensure_stack(stack_dir, aws_port, punkapi_port, state, echo)
    _write_state(layout, state | {"running": True})  # from here on, `down` stops whatever `up` got to start
    password = ensure_secret(layout.secret_file)
    state["postgres_port"] = _ensure_postgres(layout, password, state.get("postgres_port"), echo)
    state["podman_service_pid"] = _ensure_podman_service(engine, layout, state.get("podman_service_pid"), echo)
    _write_state(layout, state | {"running": True})
    state |= _ensure_images(engine, layout, echo)
    state |= {"bentoml_home": str(ensure_bentoml_home()), "cache_dir": str(cache_dir())}
    _start_or_keep_services(engine, layout, state, webserver_port, password, echo)
    state |= {"running": True, "started_at": state.get("started_at") or time.time()}
    _write_state(layout, state)
    return status(layout)


def _start_or_keep_services(engine: engines.Engine, layout: Layout, state: dict, webserver_port: int | None,
                            password: str, echo) -> None:  # fmt: skip
    """Keep the three containers when they run what `state` says; otherwise start them afresh."""
    port = webserver_port or state.get("webserver_port") or DEFAULT_PLATFORM_PORT
    running = all(services.state(engine, layout, name).get("running") for name in services.SERVICES)
    same = running and port == state.get("webserver_port") and state.get("code_image") == state.get("serving_image")
    state["webserver_port"] = port
    state["code_port"] = state["code_port"] if running and state.get("code_port") else _port(state.get("code_port"))
    if instance.write(wiring(layout, state)) or not same:
        for name in reversed(services.SERVICES):
            services.stop(engine, layout, name)
        layout.compute_logs.mkdir(exist_ok=True)
        _start_services(engine, layout, state, password, echo)
        state["serving_image"] = state["code_image"]


def _ensure_stack(stack_dir: Path, aws_port: int, punkapi_port: int, state: dict, echo) -> dict:
    if stack.read_state(stack_dir) is not None:
        return {"stack_dir": str(stack_dir), "started_stack": state.get("started_stack", False)
                if state.get("stack_dir") == str(stack_dir) else False}  # fmt: skip
    echo(f"starting the local stack ({stack_dir})...")
    stack.start_detached(stack_dir, aws_port, punkapi_port)
    return {"stack_dir": str(stack_dir), "started_stack": True}


def _ensure_postgres(layout: Layout, password: str, port: int | None, echo) -> int:
    server = HostPostgres(layout.postgres_dir)
    if server.running():
        return server.port()
    port = _port(port)
    if server.init(password):
        echo(f"Postgres: a new cluster in {server.data}")
    server.start(port)
    ensure_database(port, password)
    echo(f"Postgres: 127.0.0.1:{port}")
    return port


def _ensure_podman_service(engine: engines.Engine, layout: Layout, pid: int | None, echo) -> int:
    if pid and podman_service.alive(pid) and podman_service.answers(layout.socket):
        return pid
    pid = podman_service.start(engine, layout.socket, layout.containers_conf, layout.log("podman-service"))
    echo(f"engine API: unix://{layout.socket}")
    return pid


def _ensure_images(engine: engines.Engine, layout: Layout, echo) -> dict:
    found = {}
    for key, recipe in (("code_image", images.CODE_IMAGE), ("dagster_image", images.DAGSTER_IMAGE)):
        started = time.perf_counter()
        found[key] = images.ensure_image(engine, recipe, cache_dir(), layout.build_dir)
        echo(f"image {found[key]} ({time.perf_counter() - started:.0f}s)")
    images.prepare_lambda_packages(cache_dir())
    return found


def _start_services(engine: engines.Engine, layout: Layout, state: dict, password: str, echo,
                    code_image: str | None = None, only: tuple[str, ...] = services.SERVICES) -> None:  # fmt: skip
    specs = services.specs(wiring(layout, state), state["dagster_image"], state["webserver_port"], code_image)
    for name in services.SERVICES:
        if name not in only:
            continue
        services.start(engine, layout, specs[name], password)
        services.wait_running(engine, layout, name, seconds=2)
        if name == services.CODE_SERVER:
            _wait_code_server(state["code_port"])
    if services.WEBSERVER in only:
        _wait_webserver(state["webserver_port"], expect_loaded=code_image is None)
    echo(f"Dagster UI: http://127.0.0.1:{state['webserver_port']}")


def _wait_code_server(port: int, timeout: float = READY_TIMEOUT_S) -> None:
    """The code server answers gRPC (it answers with its load error too: `dagster code-server start`)."""
    deadline = time.monotonic() + timeout
    check = [sys.executable, "-m", "dagster", "api", "grpc-health-check", "-h", "127.0.0.1", "-p", str(port)]
    while time.monotonic() < deadline:
        if subprocess.run(check, capture_output=True, timeout=60).returncode == 0:
            return
        time.sleep(1)
    raise PlatformError(f"the code server did not answer on 127.0.0.1:{port} in {timeout:.0f}s")


def _wait_webserver(port: int, expect_loaded: bool, timeout: float = READY_TIMEOUT_S) -> None:
    client = PlatformClient(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + timeout
    while not client.healthy():
        if time.monotonic() > deadline:
            raise PlatformError(f"the webserver did not answer on 127.0.0.1:{port} in {timeout:.0f}s")
        time.sleep(0.5)
    if expect_loaded:
        location = client.locations().get(instance.LOCATION, {})
        if not location.get("loaded"):
            loaded, error = client.reload()
            if not loaded:
                raise PlatformError(f"the code location {instance.LOCATION} failed to load:\n{error}")


def restart(layout: Layout, service: str, code_image: str | None = None, echo: Callable[[str], None] = print) -> None:
    """Stop and start one part, keeping the rest running; the code server may serve `code_image`."""
    state, engine = read_state(layout), engines.detect()
    if not state.get("running"):
        raise PlatformError("the platform is not running: beer-platform platform up")
    password = ensure_secret(layout.secret_file)
    if service == POSTGRES:
        HostPostgres(layout.postgres_dir).stop()
        HostPostgres(layout.postgres_dir).start(state["postgres_port"])
    elif service == PODMAN_SERVICE:
        podman_service.stop(state["podman_service_pid"], layout.socket)
        state["podman_service_pid"] = _ensure_podman_service(engine, layout, None, echo)
    elif service in services.SERVICES:
        services.stop(engine, layout, service)
        _start_services(engine, layout, state, password, echo, code_image=code_image, only=(service,))
        if service == services.CODE_SERVER:
            PlatformClient(f"http://127.0.0.1:{state['webserver_port']}").reload()  # the webserver reconnects
        state["serving_image"] = code_image or state["code_image"]
    else:
        parts = ", ".join((POSTGRES, PODMAN_SERVICE, *services.SERVICES))
        raise PlatformError(f"no such part: {service} (one of {parts})")
    _write_state(layout, state)


def down(layout: Layout, echo: Callable[[str], None] = print) -> bool:
    """Stop everything `up` started (the data stays); False when nothing was running."""
    state = read_state(layout)
    if not state.get("running"):
        return False
    engine = engines.detect()
    for name in reversed(services.SERVICES):
        services.stop(engine, layout, name)
    for container in services.run_containers(engine, layout):  # a run cut short here fails at the next up
        engine.remove_container(container["id"])
    podman_service.stop(state.get("podman_service_pid"), layout.socket)
    HostPostgres(layout.postgres_dir).stop()
    if state.get("started_stack"):
        stack.stop_detached(Path(state["stack_dir"]))
        echo("local stack stopped")
    _write_state(layout, state | {"running": False, "podman_service_pid": None})
    return True


def status(layout: Layout) -> dict:
    """What runs where: the UI's URL, the code location, the run launcher, the image, the database."""
    state = read_state(layout)
    if not state:
        return {"running": False, "state_dir": str(layout.root), "webserver_url": None}
    engine = engines.detect()
    server = HostPostgres(layout.postgres_dir)
    parts = {name: services.state(engine, layout, name) or {"running": False} for name in services.SERVICES}
    parts[POSTGRES] = {"running": server.running(), "pid": server.pid()}
    pid = state.get("podman_service_pid")
    parts[PODMAN_SERVICE] = {"running": bool(pid) and podman_service.answers(layout.socket), "pid": pid}
    for part in parts.values():
        part["rss_bytes"] = services.resident_bytes(part.get("pid")) if part.get("running") else None
    return _described(layout, state, parts)


def _described(layout: Layout, state: dict, parts: dict) -> dict:
    web_url = f"http://127.0.0.1:{state['webserver_port']}"
    running = all(part.get("running") for part in parts.values())
    location, daemons = {}, {}
    if parts[services.WEBSERVER].get("running"):
        client = PlatformClient(web_url, timeout=10)
        try:
            location, daemons = client.locations().get(instance.LOCATION, {}), client.daemons()
        except Exception as err:  # noqa: BLE001 - a webserver still starting: say so, do not fail status
            location = {"error": f"the webserver did not answer: {err}"}
    config = instance.dagster_yaml(wiring(layout, state))
    launcher = config["run_launcher"]["config"]["container_kwargs"]
    return {
        "running": running and bool(state.get("running")),
        "state_dir": str(layout.root),
        "webserver_url": web_url,
        "code_location": {"name": instance.LOCATION, "grpc_server": f"127.0.0.1:{state['code_port']}",
                          "image": state.get("serving_image"), **location},
        "run_launcher": {"class": "dagster_docker.DockerRunLauncher", "engine_api": f"unix://{layout.socket}",
                         "image": state["code_image"], "memory_limit": launcher["mem_limit"],
                         "network_mode": launcher["network_mode"]},
        "run_coordinator": {"class": "QueuedRunCoordinator", **config["run_coordinator"]["config"]},
        "image": state["code_image"],
        "dagster_image": state["dagster_image"],
        "database": {"url": url(state["postgres_port"]), "password_file": str(layout.secret_file)},
        "daemons": daemons,
        "services": parts,
        "stack_dir": state["stack_dir"],
        "dagster_home": str(layout.dagster_home),
    }
