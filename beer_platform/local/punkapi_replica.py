"""A local replica of the PunkAPI v2 server (samjbmason/punkapi-server), with fault injection.

The public PunkAPI is gone, so the platform ingests from this replica: the catalogue
(`/v2/beers` with `page`, `per_page` and `ids`), `/v2/beers/{id}` and `/v2/beers/random`, with
the original's validation, error bodies and rate limit, over the shipped 325-beer dataset (the
original's search filters are not served: nothing here uses them). `Faults` makes it misbehave
on purpose (5xx, 429 bursts, latency, truncated bodies) so the ingestion client's retry logic
can be tested against a real HTTP server.

Run it alone with `python -m beer_platform.local.punkapi_replica --port 8081`. Fault injection is
for tests only: its control endpoints (`GET|PUT /__replica__/faults`, `POST /__replica__/reset`)
exist only when asked for (`create_app(fault_injection=True)`, `--fault-injection`; the local
stack and the tests ask), so a served replica answers them 404 and nobody who can reach it can
make ingestion fail. `/__replica__/health` is always there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from http import HTTPStatus
from importlib import resources
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from beer_platform.local.http_server import ThreadedServer
from beer_platform.settings import DEFAULT_PUNKAPI_PORT

__all__ = ["Faults", "ReplicaServer", "create_app", "load_beers", "main"]

MAX_PER_PAGE = 80
DEFAULT_PER_PAGE = 25
RATE_LIMIT_WINDOW_S = 3600
CONTROL_PREFIX = "/__replica__/"
FAULTED_PREFIX = "/v2"

Beer = dict[str, Any]


def load_beers() -> list[Beer]:
    """The shipped v2 dataset, sorted by id."""
    text = resources.files("beer_platform.local").joinpath("data/beers.json").read_text("utf-8")
    return sorted(json.loads(text), key=lambda b: b["id"])


# --- faults -----------------------------------------------------------------------------------


@dataclass
class Faults:
    """What the replica should get wrong, for tests. The defaults are a well-behaved server."""

    error_rate: float = 0.0  # fraction of /v2 requests answered 500/502/503
    latency_ms: float = 0.0  # added before every /v2 request
    burst_429: int = 0  # the next N /v2 requests answer 429 (counts down)
    retry_after_s: float = 1.0  # Retry-After sent with burst 429s; may be fractional
    malformed_rate: float = 0.0  # fraction of 200 responses with a truncated body
    seed: int | None = None  # makes error_rate/malformed_rate draws reproducible

    def __post_init__(self) -> None:
        # coerce, so values decoded from JSON ("0.5", 2.0) behave; junk raises ValueError/TypeError
        for name in ("error_rate", "latency_ms", "retry_after_s", "malformed_rate"):
            setattr(self, name, float(getattr(self, name)))
        self.burst_429 = int(self.burst_429)
        self.seed = None if self.seed is None else int(self.seed)
        for name in ("error_rate", "malformed_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("latency_ms", "burst_429", "retry_after_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    @classmethod
    def from_dict(cls, data: Any) -> Faults:
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:  # e.g. a string where a number belongs
            raise ValueError(str(exc)) from exc

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- errors (Boom-shaped, like the original) ---------------------------------------------------


def _error(status: int, message: str, data: list[dict] | None = None, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}
    if data is not None:
        body["data"] = data
    return JSONResponse(body, status_code=status, headers=headers or None)


def _invalid(location: str, errors: list[dict]) -> JSONResponse:
    """400 naming each bad parameter, in express-validator's shape; location is query or params."""
    message = "Invalid query params" if location == "query" else "Invalid path params"
    return _error(400, message, [{"location": location, **e} for e in errors])


# --- query validation ---------------------------------------------------------------------------

# Up to 18 digits: a longer number is no page or id of this catalogue, and Python's int() refuses
# text of over 4,300 digits, which must be the contract's 400, not a 500.
_INT = re.compile(r"\d{1,18}", re.ASCII)
_IDS = re.compile(r"\d{1,18}(\|\d{1,18})*", re.ASCII)

_Parser = Callable[[str], Any]  # returns None when the value is invalid


def _positive_int(limit: int | None = None) -> _Parser:
    def parse(value: str) -> int | None:
        if not _INT.fullmatch(value) or int(value) < 1 or (limit and int(value) > limit):
            return None
        return int(value)

    return parse


def _ids(value: str) -> set[int] | None:
    return {int(part) for part in value.split("|")} if _IDS.fullmatch(value) else None


# the query parameters served: name -> (error message, parser); the original's filters
# (abv_gt, beer_name, food, ...) are not: nothing here asks for them
_PARAMS: dict[str, tuple[str, _Parser]] = {
    "page": ("Must be a number greater than 0", _positive_int()),
    "per_page": (f"Must be a number greater than 0 and at most {MAX_PER_PAGE}", _positive_int(MAX_PER_PAGE)),
    "ids": ("Must be integers separated by |", _ids),
}


def _parse_query(request: Request) -> tuple[dict[str, Any], list[dict]]:
    """Known parameters parsed; unknown ones are ignored, as the original did."""
    parsed: dict[str, Any] = {}
    errors: list[dict] = []
    for name, raw in request.query_params.items():
        if name not in _PARAMS:
            continue
        message, parser = _PARAMS[name]
        value = parser(raw) if raw else None  # an empty value is always invalid
        if value is None:
            errors.append({"param": name, "msg": message, "value": raw[:100]})
        else:
            parsed[name] = value
    return parsed, errors


# --- runtime state ------------------------------------------------------------------------------


class _RateLimiter:
    """Fixed one-hour window per client IP, like express-rate-limit's memory store."""

    def __init__(self, limit: int, window_s: float = RATE_LIMIT_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._windows: dict[str, tuple[float, int]] = {}  # ip -> (window start, hits)

    def hit(self, key: str) -> tuple[bool, int, float]:
        """Count a request: (allowed, remaining, window reset as epoch seconds)."""
        now = time.time()
        start, hits = self._windows.get(key, (now, 0))
        if now - start >= self.window_s:
            start, hits = now, 0
        hits += 1
        self._windows[key] = (start, hits)
        return hits <= self.limit, max(0, self.limit - hits), start + self.window_s

    def clear(self) -> None:
        self._windows.clear()


class _Replica:
    def __init__(self, beers: list[Beer], faults: Faults, rate_limit_per_hour: int) -> None:
        self.beers = sorted(beers, key=lambda b: b["id"])
        self.by_id = {b["id"]: b for b in self.beers}
        self.limiter = _RateLimiter(rate_limit_per_hour)
        self.picker = random.Random()  # for /beers/random; separate so faults stay reproducible
        self.set_faults(faults)

    def set_faults(self, faults: Faults) -> None:
        self.faults = replace(faults)  # a copy: burst_429 counts down in place
        self.rng = random.Random(faults.seed)


def _replica(request: Request) -> _Replica:
    return request.app.state.replica


def _ok(request: Request, payload: list[Beer]) -> Response:
    """A 200 JSON array, truncated mid-body when the malformed fault fires."""
    body = JSONResponse(payload).body
    state = _replica(request)
    if state.faults.malformed_rate and state.rng.random() < state.faults.malformed_rate:
        body = body[: max(1, len(body) // 2)]
    return Response(body, media_type="application/json")


# --- endpoints ----------------------------------------------------------------------------------


async def list_beers(request: Request) -> Response:
    query, errors = _parse_query(request)
    if errors:
        return _invalid("query", errors)
    ids = query.get("ids")
    matching = [b for b in _replica(request).beers if ids is None or b["id"] in ids]
    per_page = query.get("per_page", DEFAULT_PER_PAGE)
    offset = (query.get("page", 1) - 1) * per_page
    return _ok(request, matching[offset : offset + per_page])


async def get_beer(request: Request) -> Response:
    raw = request.path_params["beer_id"]
    beer_id = _positive_int()(raw)
    if beer_id is None:
        error = {"param": "beerId", "msg": "beerId must be a number and greater than 0", "value": raw[:100]}
        return _invalid("params", [error])
    found = _replica(request).by_id.get(beer_id)
    if found is None:
        return _error(404, f"No beer found that matches the ID {raw}")
    return _ok(request, [found])


async def random_beer(request: Request) -> Response:
    state = _replica(request)
    return _ok(request, [state.picker.choice(state.beers)] if state.beers else [])


async def get_faults(request: Request) -> Response:
    return JSONResponse(_replica(request).faults.to_dict())


async def put_faults(request: Request) -> Response:
    """Replace the faults (fields left out take their defaults) and reseed."""
    try:
        faults = Faults.from_dict(await request.json())
    except ValueError as exc:  # includes invalid JSON
        return _error(400, f"Invalid faults: {exc}")
    _replica(request).set_faults(faults)
    return JSONResponse(faults.to_dict())


async def reset(request: Request) -> Response:
    state = _replica(request)
    state.set_faults(Faults())
    state.limiter.clear()
    return JSONResponse({"status": "reset"})


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "beers": len(_replica(request).beers)})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return _error(404, f"No endpoint found that matches '{target}'")
    return _error(exc.status_code, exc.detail, **(exc.headers or {}))


# --- rate limit and faults ----------------------------------------------------------------------


class _Gate(BaseHTTPMiddleware):
    """Rate limit every API response, then inject faults on /v2; control endpoints pass through."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if path.startswith(CONTROL_PREFIX):
            return await call_next(request)
        state = _replica(request)
        faults = state.faults
        faulted = path == FAULTED_PREFIX or path.startswith(FAULTED_PREFIX + "/")
        if faulted and faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)

        allowed, remaining, reset_at = state.limiter.hit(request.client.host if request.client else "unknown")
        if not allowed:
            wait_s = str(max(1, math.ceil(reset_at - time.time())))
            message = "You have reached your limit on this ip address please wait an hour"
            response: Response = _error(429, message, **{"Retry-After": wait_s})
        elif faulted and faults.burst_429 > 0:
            faults.burst_429 -= 1
            response = _error(429, "Injected 429 burst", **{"Retry-After": f"{faults.retry_after_s:g}"})
        elif faulted and faults.error_rate and state.rng.random() < faults.error_rate:
            response = _error(state.rng.choice((500, 502, 503)), "Injected server error")
        else:
            response = await call_next(request)
        response.headers["X-RateLimit-Limit"] = str(state.limiter.limit)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(math.ceil(reset_at))
        return response


def create_app(
    beers: list[Beer] | None = None,
    faults: Faults | None = None,
    rate_limit_per_hour: int = 3600,
    fault_injection: bool = False,
) -> Starlette:
    """The replica as an ASGI app; `beers=None` serves the shipped dataset. `fault_injection`
    adds the endpoints that set and clear faults (tests and the local stack only)."""
    control = [
        Route(CONTROL_PREFIX + "faults", get_faults, methods=["GET"]),
        Route(CONTROL_PREFIX + "faults", put_faults, methods=["PUT"]),
        Route(CONTROL_PREFIX + "reset", reset, methods=["POST"]),
    ]
    app = Starlette(
        routes=[
            # /random before /{beer_id}, or it would be taken for an id
            Route("/v2/beers", list_beers, methods=["GET"]),
            Route("/v2/beers/random", random_beer, methods=["GET"]),
            Route("/v2/beers/{beer_id}", get_beer, methods=["GET"]),
            *(control if fault_injection else []),
            Route(CONTROL_PREFIX + "health", health, methods=["GET"]),
        ],
        middleware=[Middleware(_Gate)],
        exception_handlers={HTTPException: _http_error},
    )
    dataset = load_beers() if beers is None else beers
    app.state.replica = _Replica(dataset, faults or Faults(), rate_limit_per_hour)
    return app



# --- serving in a background thread -------------------------------------------------------------


class ReplicaServer(ThreadedServer):
    """The replica served on 127.0.0.1 from a daemon thread (`start(port=0)`: a free port)."""

    def __init__(self, app: Starlette | None = None, *, limit_concurrency: int = 64) -> None:
        super().__init__(app if app is not None else create_app(), "punkapi-replica",
                         limit_concurrency=limit_concurrency)  # fmt: skip

    @property
    def root_url(self) -> str:
        return self.url

    @property
    def base_url(self) -> str:
        return f"{self.url}/v2"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the PunkAPI v2 replica.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PUNKAPI_PORT)
    parser.add_argument("--rate-limit", type=int, default=3600, help="requests per hour per client IP")
    parser.add_argument("--fault-injection", action="store_true",
                        help="serve the /__replica__/faults and /reset endpoints (for tests; off by default)")  # fmt: skip
    args = parser.parse_args(argv)
    app = create_app(rate_limit_per_hour=args.rate_limit, fault_injection=args.fault_injection)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
