"""The replica's v2 contract, fault injection and control endpoints, in-process."""

from __future__ import annotations

import json
import time
import warnings
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from beer_platform.local.punkapi_replica import Faults, create_app, load_beers

with warnings.catch_warnings():
    # starlette 1.x warns at import that it would rather use `httpx2`; plain httpx works fine
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

BEERS = load_beers()
Beer = dict[str, Any]


def make_client(**kwargs: Any) -> TestClient:
    return TestClient(create_app(beers=BEERS, fault_injection=True, **kwargs))


@pytest.fixture(scope="module")
def client() -> TestClient:
    return make_client()


def get_all(client: TestClient, **params: Any) -> list[Beer]:
    """Every beer matching `params`, following pagination."""
    beers: list[Beer] = []
    for page in range(1, 10):
        response = client.get("/v2/beers", params={**params, "page": page, "per_page": 80})
        assert response.status_code == 200, response.text
        if not response.json():
            return beers
        beers += response.json()
    raise AssertionError("pagination never ended")


def bad_params(response: Any) -> list[str]:
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400 and body["error"] == "Bad Request"
    return [d["param"] for d in body["data"]]


# --- dataset and pagination -------------------------------------------------------------------


def test_shipped_dataset() -> None:
    assert len(BEERS) == 325
    assert [b["id"] for b in BEERS] == list(range(1, 326))


def test_defaults_are_page_1_of_25(client: TestClient) -> None:
    response = client.get("/v2/beers")
    assert response.status_code == 200
    assert [b["id"] for b in response.json()] == list(range(1, 26))


def test_pagination(client: TestClient) -> None:
    page2 = client.get("/v2/beers", params={"page": 2, "per_page": 80}).json()
    assert [b["id"] for b in page2] == list(range(81, 161))
    last = client.get("/v2/beers", params={"page": 5, "per_page": 80}).json()
    assert [b["id"] for b in last] == list(range(321, 326))
    assert client.get("/v2/beers", params={"page": 6, "per_page": 80}).json() == []
    assert client.get("/v2/beers", params={"page": 1000}).json() == []
    assert [b["id"] for b in get_all(client)] == list(range(1, 326))


@pytest.mark.parametrize(
    "params, bad",
    [
        ({"per_page": 81}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"ids": "1|x"}, "ids"),
    ],
)
def test_invalid_values_name_the_parameter(client: TestClient, params: dict, bad: str) -> None:
    response = client.get("/v2/beers", params=params)
    assert bad_params(response) == [bad]
    entry = response.json()["data"][0]
    assert entry["location"] == "query" and entry["value"] == str(params[bad]) and entry["msg"]


@pytest.mark.parametrize(
    "param",
    ["page", "per_page", "ids"],
)
def test_empty_value_is_400(client: TestClient, param: str) -> None:
    assert bad_params(client.get(f"/v2/beers?{param}=")) == [param]


def test_every_bad_parameter_is_reported(client: TestClient) -> None:
    assert bad_params(client.get("/v2/beers?page=0&per_page=100&ids=")) == ["page", "per_page", "ids"]


def test_unknown_parameters_are_ignored(client: TestClient) -> None:
    assert client.get("/v2/beers?colour=red").json() == client.get("/v2/beers").json()


# --- ids ------------------------------------------------------------------------------------------


def test_ids_select_and_then_paginate(client: TestClient) -> None:
    response = client.get("/v2/beers", params={"ids": "5|1|300|999", "per_page": 2, "page": 2})
    assert response.status_code == 200 and [b["id"] for b in response.json()] == [300]


def test_search_filters_are_not_served(client: TestClient) -> None:
    # abv_gt, beer_name, food, ... are ignored like any unknown parameter: the whole catalogue
    assert [b["id"] for b in client.get("/v2/beers", params={"abv_gt": 50, "food": "x"}).json()] == list(range(1, 26))


@pytest.mark.parametrize("path", ["/v2/beers?page=" + "9" * 5000, "/v2/beers?per_page=" + "1" * 4301,
                                  "/v2/beers?ids=" + "7" * 5000, "/v2/beers/" + "3" * 5000])
def test_an_integer_too_long_for_the_catalogue_is_a_400_naming_it(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400 and response.json()["message"].startswith("Invalid")
    assert len(response.text) < 1000  # the value is quoted, not echoed whole


def test_beer_by_id(client: TestClient) -> None:
    response = client.get("/v2/beers/1")
    assert response.status_code == 200
    assert response.json() == [BEERS[0]]


def test_unknown_beer_is_404(client: TestClient) -> None:
    response = client.get("/v2/beers/326")
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "No beer found that matches the ID 326",
    }


@pytest.mark.parametrize("beer_id", ["abc", "0", "-1", "1.5"])
def test_bad_beer_id_is_400(client: TestClient, beer_id: str) -> None:
    response = client.get(f"/v2/beers/{beer_id}")
    assert bad_params(response) == ["beerId"]
    assert response.json()["data"][0]["location"] == "params"


def test_random_beer(client: TestClient) -> None:
    seen = set()
    for _ in range(10):
        response = client.get("/v2/beers/random")
        assert response.status_code == 200
        (beer,) = response.json()
        assert beer == BEERS[beer["id"] - 1]
        seen.add(beer["id"])
    assert len(seen) > 1


def test_unknown_path_is_json_404(client: TestClient) -> None:
    response = client.get("/v3/beers?x=1")
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "No endpoint found that matches '/v3/beers?x=1'",
    }


def test_wrong_method_is_json_405(client: TestClient) -> None:
    response = client.post("/v2/beers")
    assert response.status_code == 405
    assert response.json()["statusCode"] == 405


# --- rate limit ---------------------------------------------------------------------------------


def test_rate_limit_headers_and_429() -> None:
    client = make_client(rate_limit_per_hour=3)
    for remaining in (2, 1, 0):
        response = client.get("/v2/beers/1")
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
        assert 0 < int(response.headers["X-RateLimit-Reset"]) - time.time() <= 3601  # ceil of the epoch

    limited = client.get("/v2/beers")
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 3600
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.json()["statusCode"] == 429 and limited.json()["error"] == "Too Many Requests"

    # control endpoints are never limited, and reset clears the counters
    assert client.get("/__replica__/health").status_code == 200
    assert "X-RateLimit-Limit" not in client.get("/__replica__/health").headers
    assert client.post("/__replica__/reset").status_code == 200
    assert client.get("/v2/beers/1").headers["X-RateLimit-Remaining"] == "2"


# --- faults -------------------------------------------------------------------------------------


def test_error_rate_one_fails_every_api_request() -> None:
    client = make_client(faults=Faults(error_rate=1.0, seed=1))
    statuses = {client.get("/v2/beers").status_code for _ in range(20)}
    assert statuses <= {500, 502, 503} and len(statuses) > 1
    body = client.get("/v2/beers/1").json()
    assert set(body) == {"statusCode", "error", "message"} and body["statusCode"] >= 500
    assert client.get("/__replica__/health").status_code == 200  # control endpoints unaffected


def test_error_rate_is_reproducible_with_a_seed() -> None:
    def statuses() -> list[int]:
        client = make_client(faults=Faults(error_rate=0.5, seed=42))
        return [client.get("/v2/beers/1").status_code for _ in range(20)]

    first = statuses()
    assert first == statuses()
    assert 200 in first and any(s >= 500 for s in first)


def test_burst_429_then_recovers() -> None:
    client = make_client(faults=Faults(burst_429=2, retry_after_s=0.05))
    for _ in range(2):
        response = client.get("/v2/beers")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "0.05"
        assert response.json()["statusCode"] == 429
    assert client.get("/v2/beers").status_code == 200
    assert client.get("/__replica__/faults").json()["burst_429"] == 0


def test_malformed_bodies_are_invalid_json() -> None:
    client = make_client(faults=Faults(malformed_rate=1.0))
    for path in ("/v2/beers", "/v2/beers/1", "/v2/beers/random", "/v2/beers?page=99"):
        response = client.get(path)
        assert response.status_code == 200
        with pytest.raises(ValueError):
            json.loads(response.content)
    assert client.get("/v2/beers/999").status_code == 404  # only 200s are mangled


def test_latency() -> None:
    client = make_client(faults=Faults(latency_ms=60))
    started = time.perf_counter()
    client.get("/v2/beers/1")
    assert time.perf_counter() - started >= 0.06


# --- control endpoints --------------------------------------------------------------------------


def test_control_endpoints() -> None:
    client = make_client()
    assert client.get("/__replica__/health").json() == {"status": "ok", "beers": 325}
    assert client.get("/__replica__/faults").json() == Faults().to_dict()

    put = client.put("/__replica__/faults", json={"error_rate": 1.0, "seed": 3})
    assert put.status_code == 200
    assert put.json() == Faults(error_rate=1.0, seed=3).to_dict()
    assert client.get("/__replica__/faults").json()["error_rate"] == 1.0
    assert client.get("/v2/beers").status_code >= 500

    # PUT replaces: fields left out go back to their defaults
    client.put("/__replica__/faults", json={"latency_ms": 1})
    assert client.get("/__replica__/faults").json() == Faults(latency_ms=1).to_dict()

    client.put("/__replica__/faults", json={"burst_429": 5})
    assert client.post("/__replica__/reset").status_code == 200
    assert client.get("/__replica__/faults").json() == Faults().to_dict()
    assert client.get("/v2/beers").status_code == 200


@pytest.mark.parametrize("body", [{"error_rate": 2}, {"nope": 1}, {"latency_ms": "slow"}, [1]])
def test_invalid_faults_are_400(body: Any) -> None:
    client = make_client()
    response = client.put("/__replica__/faults", json=body)
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400
    assert client.get("/__replica__/faults").json() == Faults().to_dict()


def test_a_served_replica_takes_no_faults() -> None:
    """Off unless asked for: whoever can reach a served replica cannot make ingestion fail."""
    client = TestClient(create_app(beers=BEERS))
    for method, path in (("PUT", "/__replica__/faults"), ("GET", "/__replica__/faults"), ("POST", "/__replica__/reset")):
        response = client.request(method, path, json={"error_rate": 1.0})
        assert response.status_code == 404 and response.json()["statusCode"] == 404
    assert client.get("/v2/beers/1").status_code == 200
    assert client.get("/__replica__/health").json() == {"status": "ok", "beers": 325}


def test_the_command_serves_no_faults_unless_told(monkeypatch) -> None:
    import uvicorn

    from beer_platform.local import punkapi_replica

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.append(app))
    punkapi_replica.main(["--port", "0"])
    punkapi_replica.main(["--port", "0", "--fault-injection"])
    plain, faulty = (TestClient(app) for app in served)
    assert plain.put("/__replica__/faults", json={}).status_code == 404
    assert faulty.put("/__replica__/faults", json={}).status_code == 200


def test_custom_dataset() -> None:
    client = TestClient(create_app(beers=[BEERS[2], BEERS[0]]))
    assert [b["id"] for b in client.get("/v2/beers").json()] == [1, 3]
    assert client.get("/__replica__/health").json()["beers"] == 2
    assert client.get("/v2/beers/2").status_code == 404
