"""The PunkAPI v2 ingestion client: paginated reads with retries, and nothing else.

Pure on purpose (no Dagster, no AWS) so it can be tested against the local replica alone.
Transient failures (connection errors, timeouts, 5xx, 429, malformed bodies) are retried with
exponential backoff and jitter via tenacity; a 429's Retry-After is honoured. Any other 4xx is
a bug on our side and raises at once.
"""

from __future__ import annotations

import functools
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

__all__ = ["DEFAULT_TIMEOUT", "MAX_PER_PAGE", "ClientStats", "PunkAPIClient", "PunkAPIError"]

log = logging.getLogger(__name__)

MAX_PER_PAGE = 80
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)

Beer = dict[str, Any]


def _user_agent() -> str:
    try:
        version = metadata.version("beer-platform")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"beer-platform/{version}"


class PunkAPIError(RuntimeError):
    """The API could not be read: retries exhausted, a non-retryable answer, or bad data."""

    def __init__(self, message: str, *, url: str, attempts: int, status_code: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.attempts = attempts
        self.status_code = status_code


class _Transient(Exception):
    """A failed attempt worth retrying; `cause` is the stats key."""

    def __init__(
        self, cause: str, detail: str, retry_after: float | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(detail)
        self.cause = cause
        self.retry_after = retry_after
        self.status_code = status_code


@dataclass
class ClientStats:
    """Counters across the client's lifetime, for run metadata."""

    requests: int = 0  # HTTP attempts, including retried ones
    retries: int = 0
    causes: Counter[str] = field(default_factory=Counter)  # failed attempts by cause

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "retries": self.retries, "causes": dict(self.causes)}


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is delta-seconds (possibly fractional) or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _describe(response: httpx.Response) -> str:
    """`HTTP 400: Invalid query params (per_page: ...)` from a Boom-shaped body, or raw text."""
    try:
        body = response.json()
        detail = str(body["message"])
        params = [f"{d['param']}: {d['msg']}" for d in body.get("data") or []]
        if params:
            detail += f" ({'; '.join(params)})"
    except (ValueError, KeyError, TypeError):
        detail = response.text[:200]
    return f"HTTP {response.status_code}: {detail}".rstrip(": ")


def _parse_beers(content: bytes) -> list[Beer]:
    try:
        data = json.loads(content)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise _Transient("malformed", f"invalid JSON body ({exc})") from None
    if not isinstance(data, list):
        raise _Transient("malformed", f"expected a JSON array, got {type(data).__name__}")
    for item in data:
        if not isinstance(item, dict) or type(item.get("id")) is not int:
            raise _Transient("malformed", "array item without an integer id")
    return data


class PunkAPIClient:
    """Read beers from a PunkAPI v2 server, e.g. `PunkAPIClient("http://127.0.0.1:8081/v2")`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_attempts: int = 6,
        backoff_initial: float = 0.5,
        backoff_max: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.base_url = base_url
        self.max_attempts = max_attempts
        self.backoff_max = backoff_max
        # initial * 2^n plus up to `initial` of jitter, so concurrent clients spread out
        self._backoff = wait_exponential(multiplier=backoff_initial, max=backoff_max) + wait_random(
            0, backoff_initial
        )
        self._client = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": _user_agent(), "Accept": "application/json"},
        )
        self.stats = ClientStats()

    def __enter__(self) -> PunkAPIClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # --- public reads ---------------------------------------------------------------------------

    def fetch_page(self, page: int, per_page: int = MAX_PER_PAGE) -> list[Beer]:
        return self._get("/beers", {"page": page, "per_page": per_page})

    def fetch_beer(self, beer_id: int) -> Beer:
        return self._get(f"/beers/{beer_id}", expect_id=beer_id)[0]

    def fetch_all(self, per_page: int = MAX_PER_PAGE) -> list[Beer]:
        """Every beer, page by page until an empty page."""
        beers: list[Beer] = []
        seen: set[int] = set()
        page = 0
        while True:
            page += 1
            batch = self.fetch_page(page, per_page)
            if not batch:
                return beers
            for beer in batch:
                # a repeated id means the catalogue shifted under pagination (or the server
                # ignores `page`): the snapshot would be inconsistent, so refuse it
                if beer["id"] in seen:
                    raise PunkAPIError(
                        f"duplicate beer id {beer['id']} on page {page} of {self.base_url}/beers "
                        f"(per_page={per_page}): the catalogue changed during pagination",
                        url=f"{self.base_url}/beers?page={page}&per_page={per_page}",
                        attempts=1,
                    )
                seen.add(beer["id"])
            beers.extend(batch)

    # --- one GET with retries -------------------------------------------------------------------

    def _get(
        self, path: str, params: dict[str, Any] | None = None, expect_id: int | None = None
    ) -> list[Beer]:
        url = str(self._client.build_request("GET", path, params=params).url)
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            before_sleep=functools.partial(self._before_sleep, url),
        )
        try:
            for attempt in retrying:
                with attempt:
                    beers = self._attempt(path, params, attempt.retry_state.attempt_number)
                    if expect_id is not None and [b["id"] for b in beers] != [expect_id]:
                        raise self._transient("malformed", f"expected exactly beer {expect_id}")
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise PunkAPIError(
                f"GET {url} failed after {exc.last_attempt.attempt_number} attempts; last cause: {last}",
                url=url,
                attempts=exc.last_attempt.attempt_number,
                status_code=getattr(last, "status_code", None),
            ) from last
        return beers

    def _attempt(self, path: str, params: dict[str, Any] | None, attempt_number: int) -> list[Beer]:
        self.stats.requests += 1
        try:
            response = self._client.get(path, params=params)
        except httpx.UnsupportedProtocol:
            raise  # a misconfigured base_url, not a transient failure
        except httpx.TimeoutException as exc:
            raise self._transient("timeout", f"{type(exc).__name__}: {exc}") from None
        except httpx.TransportError as exc:
            raise self._transient("connection", f"{type(exc).__name__}: {exc}") from None

        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            raise self._transient(f"http_{status}", _describe(response), retry_after, status)
        if not response.is_success:
            raise PunkAPIError(
                f"GET {response.request.url} returned {_describe(response)} (not retried)",
                url=str(response.request.url),
                attempts=attempt_number,
                status_code=status,
            )
        try:
            return _parse_beers(response.content)
        except _Transient as exc:
            self.stats.causes[exc.cause] += 1
            raise

    def _transient(
        self, cause: str, detail: str, retry_after: float | None = None, status_code: int | None = None
    ) -> _Transient:
        self.stats.causes[cause] += 1
        return _Transient(cause, detail, retry_after, status_code)

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, but at least Retry-After; never above backoff_max."""
        delay = self._backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return min(delay, self.backoff_max)

    def _before_sleep(self, url: str, state: RetryCallState) -> None:
        self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        sleep = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "GET %s attempt %d/%d failed (%s); retrying in %.2fs",
            url,
            state.attempt_number,
            self.max_attempts,
            exc,
            sleep,
        )
