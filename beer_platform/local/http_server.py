"""An ASGI app served by uvicorn on 127.0.0.1 from a daemon thread: the replica's and the local
Function URL's server.

The socket is bound before uvicorn starts, so a taken port is a one-line `PortTaken` naming it,
and `port=0` takes a free port with no window in which another process could take it.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from typing import Any

import uvicorn


class PortTaken(OSError):
    """Another process listens on the port asked for."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; `PortTaken` when something else holds it."""
    try:
        return socket.create_server((host, port))  # SO_REUSEADDR is set on POSIX
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise PortTaken(f"{host}:{port} is already in use by another process: stop it or choose another port") from None
        raise


class ThreadedServer:
    """`app` served by uvicorn in a daemon thread; `config` are uvicorn's settings."""

    def __init__(self, app: Any, name: str, **config: Any) -> None:
        self.app, self.name, self.config = app, name, config
        self.host, self.port = "127.0.0.1", 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, host: str = "127.0.0.1", port: int = 0, timeout: float = 10.0) -> ThreadedServer:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} already started")
        sock = bind(host, port)
        self.host, self.port = host, sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_config=None, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2, **self.config)  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"{self.name}-{self.port}", daemon=True)  # fmt: skip
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"{self.name} failed to start on {host}:{self.port}")
            time.sleep(0.01)
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C in the caller stops it)."""
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> ThreadedServer:
        return self if self._thread is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
