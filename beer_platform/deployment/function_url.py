"""Lambda Function URL payloads (format 2.0): the event a request becomes, the HTTP answer a
result becomes."""

from __future__ import annotations

import base64
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
    body, encoded, all_headers = _body_and_headers(body, headers, region)
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
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = dict(part.partition("=")[::2] for part in query.split("&") if part)
    if body is not None:
        event["body"] = body
    return event


def _body_and_headers(body: Any, headers: dict[str, str] | None, region: str) -> tuple[str | None, bool, dict[str, str]]:
    """The event's body (text, or base64 for binary), whether it is base64, and its headers."""
    all_headers = {"host": f"{URL_ID}.lambda-url.{region}.on.aws", "user-agent": "beer-platform",
                   "x-forwarded-proto": "https", "x-forwarded-port": "443"}  # fmt: skip
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
        all_headers["content-type"] = "application/json"
    encoded = False
    if isinstance(body, bytes):
        try:
            body = body.decode()
        except UnicodeDecodeError:  # binary: base64, flagged, as a Function URL sends it
            body, encoded = base64.b64encode(body).decode(), True
    all_headers.update({key.lower(): value for key, value in (headers or {}).items()})
    if body is not None:
        all_headers["content-length"] = str(len(base64.b64decode(body)) if encoded else len(body.encode()))
    return body, encoded, all_headers


def http_response(result: Any) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) that a Function URL answers for the handler's `result`.

    As Lambda does: a dict with `statusCode` is taken as the response (headers, cookies,
    base64 body); anything else is returned as a 200 JSON body.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, {"content-type": "application/json"}, json.dumps(result).encode()
    headers = {str(key).lower(): str(value) for key, value in (result.get("headers") or {}).items()}
    if result.get("cookies"):
        headers["set-cookie"] = ", ".join(result["cookies"])
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return int(result["statusCode"]), headers, data
