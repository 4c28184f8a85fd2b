"""The ingestion client against a real replica on 127.0.0.1, with injected faults."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from beer_platform.local.punkapi_replica import ReplicaServer, create_app, load_beers
from beer_platform.punkapi_client import PunkAPIClient, PunkAPIError

FAST = {"backoff_initial": 0.001, "backoff_max": 0.05}


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer(create_app(fault_injection=True)) as replica:
        yield replica


@pytest.fixture(autouse=True)
def clean_replica(server: ReplicaServer) -> None:
    httpx.post(f"{server.root_url}/__replica__/reset").raise_for_status()


def set_faults(server: ReplicaServer, **faults: Any) -> None:
    httpx.put(f"{server.root_url}/__replica__/faults", json=faults).raise_for_status()


@pytest.fixture
def client(server: ReplicaServer) -> Iterator[PunkAPIClient]:
    with PunkAPIClient(server.base_url, **FAST) as c:
        yield c


def assert_full_catalogue(beers: list[dict]) -> None:
    assert [b["id"] for b in beers] == list(range(1, 326))


def test_fetch_all(client: PunkAPIClient) -> None:
    beers = client.fetch_all()
    assert_full_catalogue(beers)
    assert beers == load_beers()
    # 5 pages of 80 (the last with 5 beers), then the empty page that ends the loop
    assert client.stats.as_dict() == {"requests": 6, "retries": 0, "causes": {}}


def test_fetch_page_and_beer(client: PunkAPIClient) -> None:
    assert [b["id"] for b in client.fetch_page(2, per_page=10)] == list(range(11, 21))
    assert client.fetch_beer(1)["name"] == "Buzz"


def test_survives_a_flaky_server(server: ReplicaServer, client: PunkAPIClient) -> None:
    set_faults(server, error_rate=0.3, seed=7)
    assert_full_catalogue(client.fetch_all())
    assert client.stats.retries > 0
    assert client.stats.requests == 6 + client.stats.retries
    assert set(client.stats.causes) <= {"http_500", "http_502", "http_503"}


def test_honours_retry_after_on_429(server: ReplicaServer) -> None:
    set_faults(server, burst_429=3, retry_after_s=0.05)
    with PunkAPIClient(server.base_url, backoff_initial=0.001, backoff_max=1.0) as client:
        started = time.perf_counter()
        assert len(client.fetch_page(1)) == 80
        elapsed = time.perf_counter() - started
    assert elapsed >= 3 * 0.05
    assert client.stats.causes == {"http_429": 3}
    assert client.stats.retries == 3


def test_retry_after_is_capped_by_backoff_max(server: ReplicaServer, client: PunkAPIClient) -> None:
    set_faults(server, burst_429=2, retry_after_s=30)
    started = time.perf_counter()
    assert len(client.fetch_page(1)) == 80
    assert time.perf_counter() - started < 2  # backoff_max is 0.05 s, not 30 s


def test_survives_malformed_bodies(server: ReplicaServer, client: PunkAPIClient) -> None:
    set_faults(server, malformed_rate=0.4, seed=3)
    assert_full_catalogue(client.fetch_all())
    assert client.stats.causes["malformed"] > 0


def test_gives_up_with_a_useful_error(server: ReplicaServer) -> None:
    set_faults(server, error_rate=1.0, seed=1)
    with PunkAPIClient(server.base_url, max_attempts=3, **FAST) as client:
        with pytest.raises(PunkAPIError) as info:
            client.fetch_all()
    message = str(info.value)
    assert f"{server.base_url}/beers?page=1&per_page=80" in message
    assert "after 3 attempts" in message
    assert "HTTP 50" in message and "Injected server error" in message
    assert info.value.attempts == 3 and info.value.status_code in {500, 502, 503}
    assert isinstance(info.value, RuntimeError)
    assert client.stats.requests == 3 and client.stats.retries == 2


def test_does_not_retry_a_400(client: PunkAPIClient) -> None:
    with pytest.raises(PunkAPIError, match=r"HTTP 400.*per_page") as info:
        client.fetch_page(1, per_page=81)
    assert info.value.status_code == 400 and info.value.attempts == 1
    assert client.stats.requests == 1 and client.stats.retries == 0


def test_does_not_retry_a_404(client: PunkAPIClient) -> None:
    with pytest.raises(PunkAPIError, match="HTTP 404") as info:
        client.fetch_beer(999)
    assert info.value.status_code == 404
    assert client.stats.requests == 1


def test_connection_refused_retries_then_raises() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]  # closed on exit: nothing listens there any more
    with PunkAPIClient(f"http://127.0.0.1:{port}/v2", max_attempts=3, **FAST) as client:
        with pytest.raises(PunkAPIError, match="after 3 attempts.*ConnectError"):
            client.fetch_page(1)
    assert client.stats.causes == {"connection": 3}
    assert client.stats.retries == 2


def test_timeouts_are_retried(server: ReplicaServer) -> None:
    set_faults(server, latency_ms=300)
    with PunkAPIClient(server.base_url, timeout=0.05, max_attempts=2, **FAST) as client:
        with pytest.raises(PunkAPIError, match="ReadTimeout"):
            client.fetch_page(1)
    assert client.stats.causes == {"timeout": 2}


# --- with a stub transport: behaviour the replica cannot produce ---------------------------------


def stub_client(handler: Any, **kwargs: Any) -> PunkAPIClient:
    return PunkAPIClient("http://punkapi.test/v2", transport=httpx.MockTransport(handler), **FAST, **kwargs)


def test_duplicate_ids_across_pages_are_rejected() -> None:
    requests: list[httpx.Request] = []

    def same_page_forever(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=[{"id": 1}, {"id": 2}])

    with stub_client(same_page_forever) as client:
        with pytest.raises(PunkAPIError, match="duplicate beer id 1 on page 2"):
            client.fetch_all()
    assert len(requests) == 2
    assert requests[0].headers["User-Agent"].startswith("beer-platform/")


@pytest.mark.parametrize("body", [b'{"id": 1}', b'[{"id": "1"}]', b"[1, 2]", b'[{"name": "x"}]', b"\xff"])
def test_wrong_shapes_count_as_malformed(body: bytes) -> None:
    with stub_client(lambda request: httpx.Response(200, content=body), max_attempts=2) as client:
        with pytest.raises(PunkAPIError, match="after 2 attempts"):
            client.fetch_page(1)
    assert client.stats.causes == {"malformed": 2}


def test_retry_after_http_date_is_understood() -> None:
    answers = iter([httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
                    httpx.Response(200, json=[{"id": 7}])])
    with stub_client(lambda request: next(answers)) as client:
        assert client.fetch_beer(7) == {"id": 7}  # a date in the past means: retry now
    assert client.stats.causes == {"http_503": 1}
