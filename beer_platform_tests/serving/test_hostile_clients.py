"""What a broken or hostile client does at the connection level, against the real model server and
the PunkAPI replica on 127.0.0.1: headers too large or too many, headers or a body sent too slowly,
bodies too large, and what the server's process tree offers other local users. Every wait bounded."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest

from beer_platform.local.http_server import BODY_TIMEOUT_S, HEADER_TIMEOUT_S, MAX_HEADER_BYTES, MAX_HEADERS
from beer_platform.local.punkapi_replica import ReplicaServer, create_app, load_beers
from beer_platform.serving.api import LARGE_BODY_BYTES
from beer_platform.serving.schemas import MAX_BODY_BYTES

BUZZ = {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4}
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024  # a synchronous invocation's request
WAIT = HEADER_TIMEOUT_S + BODY_TIMEOUT_S + 10  # the longest any test waits for the server


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(create_app()) as server:
        yield server


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def exchange(url: str, head: bytes, then: bytes = b"") -> tuple[bytes, bool]:
    """Send `head` (and `then`), read the answer: (its status line, whether the server answered
    before taking everything sent: sending failed on a connection it had closed)."""
    with socket.create_connection(address(url), timeout=WAIT) as sock:
        cut_short = False
        try:
            sock.sendall(head + then)
        except (BrokenPipeError, ConnectionResetError):
            cut_short = True
        try:
            answer = sock.recv(4096)
        except ConnectionResetError:
            answer = b""
    return answer.split(b"\r\n", 1)[0], cut_short


def drip(url: str, data: bytes, every_s: float) -> tuple[bytes, float]:
    """Send `data` a byte every `every_s` until the server answers or closes: (status line, seconds)."""
    started = time.monotonic()
    with socket.create_connection(address(url), timeout=WAIT) as sock:
        sock.settimeout(every_s)
        for byte in data:
            try:
                sock.sendall(bytes([byte]))
                answer = sock.recv(4096)
                return answer.split(b"\r\n", 1)[0], time.monotonic() - started
            except TimeoutError:
                continue  # nothing yet: keep dripping
            except (BrokenPipeError, ConnectionResetError):
                return b"", time.monotonic() - started
    return b"(still open after all of it)", time.monotonic() - started


@pytest.mark.parametrize("server", ["model", "replica"])
def test_a_header_too_large_is_a_431_before_it_is_read_whole(server, service, replica) -> None:
    url = service.url if server == "model" else replica.url
    status, cut_short = exchange(url, b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Big: ", b"a" * (50 * 2**20) + b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 431") and cut_short  # refused with 50 MB still to send


@pytest.mark.parametrize("count", [MAX_HEADERS + 1, 10_000])
def test_too_many_headers_are_a_431(service, count: int) -> None:
    fields = b"".join(b"X-Field-%d: v\r\n" % i for i in range(count))
    status, _ = exchange(service.url, b"GET /readyz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert status.startswith(b"HTTP/1.1 431")
    assert MAX_HEADER_BYTES < 32 * 1024  # the size cap is what stops 10,000 before they are counted


def test_a_request_within_the_header_limits_is_answered(service) -> None:
    fields = b"".join(b"X-Field-%d: v\r\n" % i for i in range(MAX_HEADERS - 2))
    status, _ = exchange(service.url, b"GET /readyz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert status.startswith(b"HTTP/1.1 200")


def test_slow_clients_are_dropped_and_a_stalled_body_is_a_408_while_others_are_served(service, replica) -> None:
    """Slow headers on both servers, a body that stops half-way, and 50 idle connections, at once;
    meanwhile a well-behaved client is answered."""
    idle = [socket.create_connection(address(service.url), timeout=WAIT) for _ in range(50)]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            slow_model = pool.submit(drip, service.url, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", 1.0)
            slow_replica = pool.submit(drip, replica.url, b"GET /v2/beers HTTP/1.1\r\nHost: x\r\n\r\n", 1.0)
            stalled = pool.submit(exchange, service.url,
                                  b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789")
            answered = httpx.post(f"{service.url}/predict", json=[BUZZ], timeout=30)
            assert answered.status_code == 200
            for drip_result in (slow_model.result(), slow_replica.result()):
                status, seconds = drip_result
                assert status.startswith(b"HTTP/1.1 408") and seconds < HEADER_TIMEOUT_S + 5
            assert stalled.result()[0].startswith(b"HTTP/1.1 408")  # the client's stall, not a 5xx
        for sock in idle:  # nothing sent at all: closed too
            sock.settimeout(WAIT)
            assert sock.recv(4096).split(b"\r\n", 1)[0] in (b"", b"HTTP/1.1 408 Request Timeout")
    finally:
        for sock in idle:
            sock.close()


def test_the_body_limit_is_what_lambda_accepts(service) -> None:
    assert MAX_BODY_BYTES == LAMBDA_PAYLOAD_LIMIT
    too_large = httpx.post(f"{service.url}/predict", content=b"[" + b" " * LAMBDA_PAYLOAD_LIMIT + b"]", timeout=60)
    assert too_large.status_code == 413


def test_a_large_body_is_answered_as_its_parts_are(service) -> None:
    valid = [beer for beer in load_beers() if beer["ph"] is None or beer["ph"] <= 14]  # beer 317's ph is 79
    records = [{**beer, "name": f"{beer['name']} {i}"} for i, beer in enumerate(valid * 3)][:900]
    body = json.dumps(records).encode()
    assert LARGE_BODY_BYTES < len(body) < MAX_BODY_BYTES  # handled by the worker process
    whole = httpx.post(f"{service.url}/predict", content=body, timeout=120)
    assert whole.status_code == 200, whole.text[:500]
    parts = [httpx.post(f"{service.url}/predict", json=records[i : i + 30], timeout=60).json()["predictions"]
             for i in range(0, len(records), 30)]  # fmt: skip
    assert whole.json()["predictions"] == [p for part in parts for p in part]
    invalid = httpx.post(f"{service.url}/predict", content=body.replace(b'"abv": ', b'"abv": "x", "_": ', 1),
                         timeout=120)  # fmt: skip
    assert invalid.status_code == 400 and invalid.json()["detail"][0]["msg"].startswith("[0].abv")


def test_the_server_listens_on_its_port_and_nothing_else(service) -> None:
    tree = [psutil.Process(service.process.pid), *psutil.Process(service.process.pid).children(recursive=True)]
    listening = {(conn.laddr.ip, conn.laddr.port) for process in tree
                 for conn in process.net_connections(kind="all") if conn.status == psutil.CONN_LISTEN}  # fmt: skip
    assert listening == {address(service.url)}
    httpx.post(f"{service.url}/predict", json=[BUZZ], timeout=30)  # metrics written: their files are open
    metrics = {os.path.dirname(f.path) for f in psutil.Process(service.process.pid).open_files() if f.path.endswith(".db")}
    assert metrics and all(stat.S_IMODE(os.stat(d).st_mode) == 0o700 for d in metrics)  # nobody else reads them
    assert not any("circus" in " ".join(process.cmdline()) for process in tree)  # no process manager
