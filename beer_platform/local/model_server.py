"""Start and stop `bentoml serve` for the IBU service as a subprocess (tests, benchmark, `make serve`).

`bentoml serve` takes 5-12 s to answer /readyz here; `running_service` waits for that, and
stops the whole process group (the arbiter and its workers) on exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil  # a BentoML dependency

from beer_platform.local.stack import free_port
from beer_platform.serving import SERVICE
from beer_platform.settings import DEFAULT_SERVE_PORT, SOURCE_ROOT



@dataclass
class RunningService:
    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path
    owns_log: bool = False  # a temporary log, removed after a clean stop

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def command(port: int, host: str = "127.0.0.1", service: str = SERVICE) -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", service, "--host", host, "--port", str(port),
            "--working-dir", str(SOURCE_ROOT)]  # fmt: skip


def service_env(bentoml_home: str | os.PathLike[str] | None = None,
                extra: Mapping[str, str] | None = None) -> dict[str, str]:  # fmt: skip
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "True"}  # no usage-analytics calls out
    if bentoml_home is not None:
        env["BENTOML_HOME"] = str(bentoml_home)
    return {**env, **(extra or {})}


def start(
    port: int = DEFAULT_SERVE_PORT,
    host: str = "127.0.0.1",
    bentoml_home: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
    log_path: Path | None = None,
    service: str = SERVICE,
) -> RunningService:
    """Start the service (port 0 = a free one) and return once /readyz answers 200."""
    port = port or free_port(host)
    owns_log = log_path is None
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="ibu-service-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            command(port, host, service), env=service_env(bentoml_home, env), cwd=SOURCE_ROOT,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the caller's terminal is not also sent to it
        )  # fmt: skip
    service = RunningService(process, host, port, log_path, owns_log)
    try:
        _wait_ready(service, timeout)
    except BaseException:
        stop(service)
        raise
    return service


# The arbiter restarts a worker whose start-up failed (e.g. no model in the store) forever
# instead of exiting: watch the log for it rather than waiting out the timeout.
_STARTUP_FAILED = "Application startup failed"


def _wait_ready(service: RunningService, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise RuntimeError(f"bentoml serve exited with {service.process.returncode}:\n{service.log_tail()}")
            if _STARTUP_FAILED in service.log_tail(20000):
                raise RuntimeError(f"bentoml serve failed to start:\n{service.log_tail()}")
            try:
                if client.get(f"{service.url}/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"bentoml serve not ready after {timeout} s:\n{service.log_tail()}")


def stop(service: RunningService, timeout: float = 15.0) -> int | None:
    """SIGINT (BentoML's graceful stop), then SIGTERM, then SIGKILL, each with a bounded wait.

    The workers run in process groups of their own: they are collected up front and any left
    after the arbiter has exited are killed by pid.
    """
    workers = _descendants(service.process.pid)
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if service.process.poll() is not None:
            break
        try:
            os.killpg(service.process.pid, sig)
        except ProcessLookupError:
            break
        try:
            service.process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    for worker in workers:
        _kill_if_alive(worker)
    if service.owns_log and service.process.returncode in (0, -signal.SIGINT, -signal.SIGTERM):
        service.log_path.unlink(missing_ok=True)
    return service.process.returncode


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill_if_alive(process: psutil.Process, wait: float = 5.0) -> None:
    try:
        process.wait(wait)  # normally the arbiter has stopped it already
    except psutil.TimeoutExpired:
        try:
            process.kill()  # psutil checks the pid still belongs to the same process
        except psutil.NoSuchProcess:
            pass


@contextmanager
def running_service(
    port: int = 0,
    bentoml_home: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
    service: str = SERVICE,
) -> Iterator[RunningService]:
    """`service` on 127.0.0.1:`port` (0 = a free port) for the duration of the block."""
    running = start(port, bentoml_home=bentoml_home, env=env, timeout=timeout, service=service)
    try:
        yield running
    finally:
        stop(running)


def serve(port: int = DEFAULT_SERVE_PORT, blocking: bool = True, host: str = "127.0.0.1") -> RunningService | None:
    """`make serve`: with blocking=True, run in the foreground until Ctrl-C; otherwise start it
    and return the running service (stop it with `stop`)."""
    if not blocking:
        return start(port, host)
    process = subprocess.Popen(command(port, host), env=service_env(), cwd=SOURCE_ROOT)
    try:
        return_code = process.wait()
    except KeyboardInterrupt:  # the terminal sent SIGINT to bentoml too; give it time to stop
        try:
            return_code = process.wait(15)
        except subprocess.TimeoutExpired:
            process.terminate()
            return_code = process.wait(5)
    if return_code:
        raise SystemExit(return_code)
    return None
