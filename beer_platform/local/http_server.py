"""The project's HTTP servers: uvicorn with h11, and the limits real servers set against clients
that are broken or hostile (`GuardedH11Protocol`, `SERVER_LIMITS`); `ThreadedServer` serves an
ASGI app so from a daemon thread (the replica, the local Function URL).

The limits, each decided by the protocol before the request reaches the app:
- headers: at most `MAX_HEADER_BYTES` (h11 refuses to buffer more: answered 431 at once, however
  long the header the client meant to send) and `MAX_HEADERS` of them (431);
- a client that sends its headers slower than `HEADER_TIMEOUT_S` from its first byte (a new
  request's, on a kept-alive connection too) is answered 408 and closed;
- a body that stalls for `BODY_TIMEOUT_S` between two of its bytes is answered 408 (the app gets
  a disconnect), never left to time out inside the app as a 5xx;
- a kept-alive connection idle for `KEEP_ALIVE_S` is closed (uvicorn's own timer);
- at most `MAX_CONNECTIONS` at once: uvicorn answers 503 beyond (what a server owes nobody).

The socket is bound before uvicorn starts, so a taken port is a one-line `PortTaken` naming it,
and `port=0` takes a free port with no window in which another process could take it.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from http import HTTPStatus
import threading
import time
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEADER_BYTES = 16 * 1024  # the request line and headers together; nginx's default buffers are 8-32 KiB
MAX_HEADERS = 100  # Apache's LimitRequestFields
HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 10.0
KEEP_ALIVE_S = 5
MAX_CONNECTIONS = 1000


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


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the limits of the module docstring (uvicorn's parser, h11's
    buffer cap; the status codes and timers added here)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._timer: asyncio.TimerHandle | None = None
        self._arm(HEADER_TIMEOUT_S, self._headers_too_slow)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return self._disarm()
        state = self.conn.their_state
        if state is h11.IDLE and self.conn.trailing_data[0]:  # a request's first bytes: its headers follow
            if self._timer is None:
                self._arm(HEADER_TIMEOUT_S, self._headers_too_slow)
        elif state is h11.SEND_BODY:
            self._arm(BODY_TIMEOUT_S, self._body_stalled)
        else:
            self._disarm()
        if self.headers is not None and len(self.headers) > MAX_HEADERS and self.cycle and not self.cycle.response_started:
            self._refuse(431, f"more than {MAX_HEADERS} request headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # h11 stops buffering a request line and headers at its limit and raises: that is a 431
        if len(self.conn.trailing_data[0]) > MAX_HEADER_BYTES:
            return self._refuse(431, f"request headers over {MAX_HEADER_BYTES} bytes")
        super().send_400_response(msg)

    def _headers_too_slow(self) -> None:
        self._timer = None
        if self.conn.their_state is h11.IDLE:
            self._refuse(408, f"request headers not received within {HEADER_TIMEOUT_S:g} s")

    def _body_stalled(self) -> None:
        self._timer = None
        if self.flow.read_paused:  # the app is not reading: the client is not the one waiting
            return self._arm(BODY_TIMEOUT_S, self._body_stalled)
        if self.conn.their_state is h11.SEND_BODY:
            self._refuse(408, f"request body stalled for {BODY_TIMEOUT_S:g} s")

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` (when no response has begun) and close the connection."""
        self._disarm()
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE) and not (self.cycle and self.cycle.response_started):
            try:
                headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
                reason = HTTPStatus(status).phrase.encode()
                self.transport.write(self.conn.send(h11.Response(status_code=status, headers=headers, reason=reason)))
                self.transport.write(self.conn.send(h11.Data(data=message.encode())))
                self.transport.write(self.conn.send(h11.EndOfMessage()))
            except h11.LocalProtocolError:
                pass  # the connection is past answering: closing it is all that is left
        if self.cycle is not None:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()

    def _arm(self, seconds: float, then: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, then)

    def _disarm(self) -> None:
        if getattr(self, "_timer", None) is not None:
            self._timer.cancel()
            self._timer = None


# uvicorn's settings with the limits: what every server of the project runs with
SERVER_LIMITS: dict[str, Any] = {
    "http": GuardedH11Protocol, "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    "timeout_keep_alive": KEEP_ALIVE_S, "limit_concurrency": MAX_CONNECTIONS,
}  # fmt: skip


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
                                timeout_graceful_shutdown=2, **(SERVER_LIMITS | self.config))  # fmt: skip
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
