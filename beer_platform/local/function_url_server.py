"""A Function URL look-alike on 127.0.0.1: each HTTP request becomes a Function URL event
(payload 2.0) for the `live` version's warm container, and its result becomes the HTTP answer,
so `curl` talks to the deployed function as it would in AWS (without the AWS_IAM signature).

A function that fails answers 502 with Lambda's error body, as a Function URL does.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from beer_platform.deployment.function_url import function_url_event, http_response
from beer_platform.deployment.sandbox import InvocationError
from beer_platform.local.live_function import LiveFunction

DEFAULT_PORT = 9000


class FunctionURLServer:
    def __init__(self, function: LiveFunction, port: int = DEFAULT_PORT) -> None:
        self.function = function
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def start(self) -> FunctionURLServer:
        """Serve in a background thread (tests); `serve_forever` is the CLI's."""
        self._thread = threading.Thread(target=self.serve_forever, name="function-url", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        function = self.function
        region = function.names.region

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {key.lower(): value for key, value in self.headers.items()}
                headers.pop("host", None)  # the event's host is the function URL's
                event = function_url_event(self.command, self.path, body, headers=headers, region=region)
                try:
                    status, reply_headers, data = http_response(function.invoke(event))
                except InvocationError as err:
                    status, reply_headers = 502, {"content-type": "application/json"}
                    data = json.dumps({"Message": f"{err.kind}: {err.message}"}).encode()
                except Exception as err:  # noqa: BLE001 - e.g. the alias is gone: say so, keep serving
                    status, reply_headers = 500, {"content-type": "application/json"}
                    data = json.dumps({"Message": f"{type(err).__name__}: {err}"}).encode()
                self.send_response(status)
                for key, value in reply_headers.items():
                    if key not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer

        return Handler
