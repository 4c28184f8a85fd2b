"""The model server: the IBU service's ASGI app (`IBUModelService.to_asgi()`) in one process,
served by uvicorn with the project's limits (`http_server.SERVER_LIMITS`), on 127.0.0.1.

One process listens on the service's port and nothing else: no process manager with a control
port of its own (`bentoml serve`'s arbiter is one), its Prometheus files in a directory only its
user can read. Large bodies go to worker processes it starts itself (see `serving.large`), over
pipes. `beer-platform serve` runs it in the foreground; `start`/`running_service` run it as a
subprocess (tests, benchmarks) and wait for /readyz.
"""

from __future__ import annotations

import argparse
import os
import shutil
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

from beer_platform.local.http_server import SERVER_LIMITS, bind
from beer_platform.serving import SERVICE, prediction_log
from beer_platform.settings import DEFAULT_SERVE_PORT, SOURCE_ROOT, Settings, load_settings


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


def command(port: int, host: str = "127.0.0.1", service: str = SERVICE, log_predictions: bool = True) -> list[str]:
    return [sys.executable, "-m", "beer_platform.local.model_server", service, "--host", host, "--port", str(port),
            *([] if log_predictions else ["--no-prediction-log"])]


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
    log_predictions: bool = True,
) -> RunningService:
    """Start the service (port 0 = a free one) and return once /readyz answers 200."""
    if not port:
        with bind(host, 0) as sock:
            port = sock.getsockname()[1]
    owns_log = log_path is None
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="ibu-service-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            command(port, host, service, log_predictions), env=service_env(bentoml_home, env), cwd=SOURCE_ROOT,
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


def _wait_ready(service: RunningService, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise RuntimeError(f"the model server exited with {service.process.returncode}:\n{service.log_tail()}")
            try:
                if client.get(f"{service.url}/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"the model server not ready after {timeout} s:\n{service.log_tail()}")


def stop(service: RunningService, timeout: float = 15.0) -> int | None:
    """SIGINT (a graceful stop), then SIGTERM, then SIGKILL to its process group, each with a
    bounded wait: the large-body workers go with it."""
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
    try:
        os.killpg(service.process.pid, signal.SIGKILL)  # any worker left behind
    except ProcessLookupError:
        pass
    if service.owns_log and service.process.returncode in (0, -signal.SIGINT, -signal.SIGTERM):
        service.log_path.unlink(missing_ok=True)
    return service.process.returncode


@contextmanager
def running_service(
    port: int = 0,
    bentoml_home: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
    service: str = SERVICE,
    log_predictions: bool = True,
) -> Iterator[RunningService]:
    """`service` on 127.0.0.1:`port` (0 = a free port) for the duration of the block."""
    running = start(port, bentoml_home=bentoml_home, env=env, timeout=timeout, service=service,
                    log_predictions=log_predictions)  # fmt: skip
    try:
        yield running
    finally:
        stop(running)


def serve(service: str = SERVICE, host: str = "127.0.0.1", port: int = DEFAULT_SERVE_PORT,
          log_predictions: bool = True) -> None:  # fmt: skip
    """Serve `service` ("module:attribute" of a BentoML service) in this process until SIGINT/SIGTERM,
    its predictions logged to the environment's predictions stream (`log_predictions`)."""
    import uvicorn

    sock = bind(host, port)  # a taken port: PortTaken, one line, before anything is loaded
    private = tempfile.mkdtemp(prefix="ibu-service-")  # mode 0700: no other user reads its files
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", private)  # read by BentoML's metrics at import
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")  # no usage-analytics calls out
    if log_predictions:
        prediction_log.install(stream_sink(load_settings()))
    if str(SOURCE_ROOT) not in sys.path:
        sys.path.insert(0, str(SOURCE_ROOT))
    module, _, attribute = service.partition(":")
    app = getattr(__import__(module, fromlist=[attribute]), attribute).to_asgi()
    config = uvicorn.Config(app, lifespan="on", access_log=False, log_level="info", timeout_graceful_shutdown=10,
                            **SERVER_LIMITS)  # fmt: skip
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        shutil.rmtree(private, ignore_errors=True)


def stream_sink(settings: Settings) -> prediction_log.BackgroundSink:
    """Records to the predictions stream of `settings`, in batches, off the request path and sent
    from a child process (`prediction_shipper`); what is dropped (the stream unreachable) is
    counted in /metrics."""
    from prometheus_client import Counter  # BentoML's /metrics serves every metric of this process

    from beer_platform.local.prediction_shipper import Shipper

    dropped = Counter("beer_platform_prediction_records_dropped", "Prediction records the stream never received")
    shipper = Shipper(settings)
    return prediction_log.BackgroundSink(shipper, on_drop=dropped.inc, on_close=shipper.close)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the IBU service on 127.0.0.1 (one process).")
    parser.add_argument("service", nargs="?", default=SERVICE)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_SERVE_PORT)
    parser.add_argument("--no-prediction-log", action="store_true", help="log no prediction")
    args = parser.parse_args(argv)
    serve(args.service, args.host, args.port, log_predictions=not args.no_prediction_log)


if __name__ == "__main__":
    main()
