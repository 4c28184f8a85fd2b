"""Lambda Function URL events (HTTP API payload format 2.0), as Lambda hands them to a handler."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

URL_ID = "ibumodel0000000000000000000000"  # what a Function URL's host starts with (32 chars in AWS)


def function_url_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    region: str = "eu-west-1",
) -> dict[str, Any]:
    """An event for `method path` (a query string may follow `?`).

    `body`: str/bytes are sent as they are; anything else is sent as JSON with a JSON content type.
    """
    raw_path, _, query = path.partition("?")
    all_headers = {"host": f"{URL_ID}.lambda-url.{region}.on.aws", "user-agent": "beer-platform",
                   "x-forwarded-proto": "https", "x-forwarded-port": "443"}  # fmt: skip
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
        all_headers["content-type"] = "application/json"
    if isinstance(body, bytes):
        body = body.decode()
    all_headers.update({key.lower(): value for key, value in (headers or {}).items()})
    if body is not None:
        all_headers["content-length"] = str(len(body.encode()))
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": URL_ID,
            "domainName": all_headers["host"],
            "domainPrefix": URL_ID,
            "http": {"method": method.upper(), "path": raw_path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": all_headers["user-agent"]},  # fmt: skip
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(part.partition("=")[::2] for part in query.split("&") if part)
    if body is not None:
        event["body"] = body
    return event
