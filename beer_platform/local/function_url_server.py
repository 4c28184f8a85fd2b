"""A Function URL look-alike on 127.0.0.1: each HTTP request becomes a Function URL event
(payload 2.0) for the `live` version's warm container, and its result becomes the HTTP answer,
so `curl` talks to the deployed function as it would in AWS (without the AWS_IAM signature).
Starlette and uvicorn serve it; the container takes one invocation at a time, as Lambda's does.

A function that fails answers 502 with Lambda's error body, as a Function URL does.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from beer_platform.deployment.function_url import function_url_event, http_response
from beer_platform.deployment.sandbox import InvocationError
from beer_platform.local.http_server import ThreadedServer
from beer_platform.local.live_function import LiveFunction

DEFAULT_PORT = 9000
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_NOT_FORWARDED = ("content-length", "connection", "transfer-encoding")  # the server sets its own


def function_url_app(function: LiveFunction) -> Starlette:
    region = function.names.region

    async def invoke(request: Request) -> Response:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = {key: value for key, value in request.headers.items() if key != "host"}  # the URL's host
        event = function_url_event(request.method, path, await request.body() or None, headers=headers, region=region)
        try:
            status, reply_headers, data = http_response(await run_in_threadpool(function.invoke, event))
        except InvocationError as err:
            status, reply_headers = 502, {"content-type": "application/json"}
            data = json.dumps({"Message": f"{err.kind}: {err.message}"}).encode()
        except Exception as err:  # noqa: BLE001 - e.g. the alias is gone: say so, keep serving
            status, reply_headers = 500, {"content-type": "application/json"}
            data = json.dumps({"Message": f"{type(err).__name__}: {err}"}).encode()
        kept = {key: value for key, value in reply_headers.items() if key not in _NOT_FORWARDED}
        return Response(data, status_code=status, headers=kept)

    return Starlette(routes=[Route("/{path:path}", invoke, methods=METHODS)])


class FunctionURLServer(ThreadedServer):
    def __init__(self, function: LiveFunction, port: int = DEFAULT_PORT) -> None:
        super().__init__(function_url_app(function), "function-url")
        self.function, self.wanted_port = function, port

    def start(self, host: str = "127.0.0.1", port: int | None = None, timeout: float = 10.0) -> FunctionURLServer:
        super().start(host, self.wanted_port if port is None else port, timeout)
        return self
