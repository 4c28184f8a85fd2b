"""A Lambda Runtime API server (the documented `2018-06-01` endpoints), bound to 127.0.0.1.

What Lambda's service side does for one execution environment: the runtime inside the image
(awslambdaric) long-polls `GET /runtime/invocation/next`, answers with `POST
/runtime/invocation/{id}/response` or `/error`, and reports a failed init with `POST
/runtime/init/error`. `invoke` hands one event over and waits for its outcome; one invocation
at a time, as in Lambda. Every wait is bounded, and `close` releases a runtime still polling.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
import sys
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
MAX_PAYLOAD = 6 * 1024 * 1024  # Lambda's limit for a synchronous response


@dataclass
class Outcome:
    """How one invocation ended: `response` (the handler's JSON result) or `error` (Lambda's
    {errorMessage, errorType, stackTrace})."""

    request_id: str
    response: Any = None
    error: dict[str, Any] | None = None
    arrived_at: float = field(default_factory=time.monotonic)


class InitError(RuntimeError):
    """The runtime reported a failed init through `/runtime/init/error`."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.error = error
        trace = "".join(error.get("stackTrace") or [])[-2000:] if isinstance(error.get("stackTrace"), list) else ""
        super().__init__(f"init failed: {error.get('errorType')}: {error.get('errorMessage')}\n{trace}".strip())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        # a runtime removed mid-poll leaves a closed socket behind: nothing to report
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RuntimeAPI:
    """One execution environment's Runtime API on 127.0.0.1:<free port>; `address` is what
    `AWS_LAMBDA_RUNTIME_API` names."""

    def __init__(self, function_arn: str, timeout_s: float = 30.0) -> None:
        self.function_arn = function_arn
        self.timeout_s = timeout_s
        self._pending: queue.Queue[tuple[str, bytes]] = queue.Queue(maxsize=1)
        self._outcomes: dict[str, queue.Queue[Outcome]] = {}
        self._lock = threading.Lock()  # one invocation at a time
        self._closed = threading.Event()
        self.init_error: dict[str, Any] | None = None
        self.init_failed = threading.Event()
        self.polled = threading.Event()  # the runtime asked for its first event: its init is done
        self.first_poll_at: float | None = None
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="runtime-api", daemon=True)  # fmt: skip
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def invoke(self, event: Any, wait_s: float | None = None, alive=lambda: True) -> Outcome:
        """Hand `event` to the runtime and wait for its outcome: at most `wait_s` (default the
        function timeout). Raises InitError if init fails, TimeoutError when it takes too long,
        RuntimeError when `alive()` turns false (the container exited) before an answer."""
        with self._lock:
            request_id = str(uuid.uuid4())
            answer: queue.Queue[Outcome] = queue.Queue(maxsize=1)
            self._outcomes[request_id] = answer
            try:
                deadline = time.monotonic() + (self.timeout_s if wait_s is None else wait_s)
                self._pending.put((request_id, json.dumps(event).encode()), timeout=1)
                while True:
                    if self.init_failed.is_set():
                        raise InitError(self.init_error or {})
                    remaining = deadline - time.monotonic()
                    try:
                        outcome = answer.get(timeout=max(0.0, min(0.05, remaining)))
                    except queue.Empty:
                        outcome = None
                    # an answer after the deadline is dropped, as Lambda drops it: judged by when it
                    # arrived, not by when this thread got to look
                    if outcome is not None and outcome.arrived_at <= deadline:
                        return outcome
                    if outcome is not None or remaining <= 0:
                        raise TimeoutError(f"no answer to invocation {request_id} in {wait_s or self.timeout_s:g}s")
                    if not alive():
                        # its last words may still be on their way
                        if self.init_failed.wait(0.5):
                            raise InitError(self.init_error or {})
                        raise RuntimeError("the runtime exited without answering")
            finally:
                self._outcomes.pop(request_id, None)
                try:  # an event nobody took must not go to the next runtime
                    self._pending.get_nowait()
                except queue.Empty:
                    pass

    def close(self) -> None:
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RuntimeAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the HTTP side ------------------------------------------------------------------------

    def _next(self, timeout_s: float = 0.2) -> tuple[str, bytes] | None:
        """The next event, or None once closed (the runtime then polls again or is stopped)."""
        while not self._closed.is_set():
            try:
                return self._pending.get(timeout=timeout_s)
            except queue.Empty:
                continue
        return None

    def _deliver(self, request_id: str, outcome: Outcome) -> bool:
        answer = self._outcomes.get(request_id)
        if answer is None:
            return False
        answer.put_nowait(outcome)
        return True

    def next_invocation(self, path: str) -> tuple[int, Any, dict[str, str]]:
        """GET: the next event and its headers, when the runtime asks (a long poll)."""
        if path != f"{PREFIX}/invocation/next":
            return 404, {"errorType": "InvalidRequest", "errorMessage": path}, {}
        if self.first_poll_at is None:
            self.first_poll_at = time.monotonic()
        self.polled.set()
        item = self._next()
        if item is None:
            return 500, {"errorType": "Closed", "errorMessage": "the environment is shutting down"}, {}
        request_id, event = item
        return 200, event, {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int((time.time() + self.timeout_s) * 1000)),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        }  # fmt: skip

    def report(self, path: str, body: bytes) -> tuple[int, Any]:
        """POST: an init error, or an invocation's response or error."""
        parts = path.removeprefix(PREFIX).strip("/").split("/")
        if parts == ["init", "error"]:
            self.init_error = _json_or_text(body)
            self.init_failed.set()
            return 202, {"status": "OK"}
        if not (len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error")):
            return 404, {"errorType": "InvalidRequest", "errorMessage": path}
        request_id, kind = parts[1], parts[2]
        if len(body) > MAX_PAYLOAD:
            self._deliver(request_id, Outcome(request_id, error={
                "errorType": "Function.ResponseSizeTooLarge", "errorMessage": f"response of {len(body)} bytes is over {MAX_PAYLOAD}"}))  # fmt: skip
            return 413, {"errorType": "RequestEntityTooLarge", "errorMessage": "too large"}
        answer = _json_or_text(body)
        outcome = Outcome(request_id, response=answer) if kind == "response" else Outcome(request_id, error=answer)
        if not self._deliver(request_id, outcome):
            return 400, {"errorType": "InvalidRequestID", "errorMessage": request_id}
        return 202, {"status": "OK"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: awslambdaric reuses its connection
            disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

            def log_message(self, *args: object) -> None:  # quiet: the container's output is the log
                pass

            def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._reply(*api.next_invocation(self.path))

            def do_POST(self) -> None:
                self._reply(*api.report(self.path, self.rfile.read(int(self.headers.get("Content-Length") or 0))))

        return Handler


def _json_or_text(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except json.JSONDecodeError:
        return {"errorType": "InvalidJSON", "errorMessage": body.decode(errors="replace")[:2000]}
