"""The BentoML service over real HTTP: `bentoml serve` in a subprocess, a freshly saved model.

A model is trained on the shipped dataset and saved into a temporary BENTOML_HOME (in a
subprocess: BentoML fixes its home once per process), then served on a free 127.0.0.1 port
for the whole module.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import pytest

from beer_platform.core import training
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.local import model_server as server
from beer_platform.serving.schemas import MAX_BATCH
from beer_platform.settings import SOURCE_ROOT

BUZZ = {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4}

# Trains on the shipped dataset, saves with known metrics, reports what the store says.
SAVE_MODEL = """
import json
from beer_platform.core import training
from beer_platform.core.features import FEATURES, training_rows
from beer_platform.serving import model_store
from beer_platform_tests.beer_frames import shipped_beers

rows, counts = training_rows(shipped_beers())
assert model_store.latest_model_info() is None
tag = model_store.save_model(training.fit(rows), {"cv_mae": 16.1, "cv_r2": 0.49}, training.content_hash(rows),
                             FEATURES, extra_metadata={"training_rows": counts})
print(json.dumps({"tag": tag, "info": model_store.latest_model_info()}))
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bentoml_home")


@pytest.fixture(scope="module")
def saved(home: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", SAVE_MODEL], env=server.service_env(home), cwd=SOURCE_ROOT,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def service(home: Path, saved: dict[str, Any]) -> Iterator[server.RunningService]:
    with server.running_service(0, bentoml_home=home) as running:
        workers = server._descendants(running.process.pid)
        yield running
    assert running.process.returncode is not None
    assert not [worker.pid for worker in workers if worker.is_running()], "a worker outlived the service"


@pytest.fixture(scope="module")
def client(service: server.RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def local_model(home: Path, saved: dict[str, Any]):
    """The saved pipeline, loaded in this process straight from the store's file."""
    name, version = saved["tag"].split(":")
    return joblib.load(home / "models" / name / version / "saved_model.pkl")


def post(client: httpx.Client, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/predict", content=content, headers={"content-type": "application/json", **headers})


# --- the model store ------------------------------------------------------------------------------


def test_the_saved_model_carries_its_metrics_data_version_and_features(saved: dict[str, Any]) -> None:
    info = saved["info"]
    assert info["tag"] == saved["tag"] and saved["tag"].startswith("ibu_model:")
    meta = info["metadata"]
    assert meta["metrics"] == {"cv_mae": 16.1, "cv_r2": 0.49}
    assert len(meta["data_version"]) == 64 and meta["features"] == training.FEATURES
    assert meta["training_rows"]["training_rows"] == 317
    assert info["labels"]["target"] == "ibu"


# --- good requests ----------------------------------------------------------------------------------


def test_one_beer_gets_one_prediction_and_the_model_version(client: httpx.Client, saved: dict, local_model) -> None:
    response = post(client, [BUZZ])
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] == saved["tag"]
    assert len(answer["predictions"]) == 1
    ibu = answer["predictions"][0]["ibu"]
    assert ibu == pytest.approx(local_model.predict(training.as_matrix([BUZZ]))[0], abs=0.01)


def test_many_whole_punkapi_records_are_answered_in_order(client: httpx.Client, local_model) -> None:
    # Every field of the API, not only the model's (extra keys are ignored); id 317's ph of 79
    # is refused like any out-of-range value.
    beers = [beer for beer in load_beers() if beer["id"] != 317]
    response = post(client, beers)
    assert response.status_code == 200, response.text
    predictions = [p["ibu"] for p in response.json()["predictions"]]
    assert len(predictions) == len(beers) == 324
    np.testing.assert_allclose(predictions, local_model.predict(training.as_matrix(beers)), atol=0.01)


def test_concurrent_requests_each_get_their_own_predictions(client: httpx.Client, local_model) -> None:
    # Concurrent requests are predicted in shared batches: each must get back its own rows.
    beers = load_beers()[:48]
    requests = [beers[i : i + 1 + i % 3] for i in range(0, 48, 3)]  # 1 to 3 beers each
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda batch: post(client, batch), requests * 3))
    for batch, response in zip(requests * 3, responses, strict=True):
        assert response.status_code == 200, response.text
        got = [p["ibu"] for p in response.json()["predictions"]]
        np.testing.assert_allclose(got, local_model.predict(training.as_matrix(batch)), atol=0.01)


def test_nulls_and_an_empty_name_are_allowed(client: httpx.Client) -> None:
    unknown = {"name": "", "abv": None, "target_fg": None, "target_og": None, "ebc": None, "srm": None, "ph": None}
    response = post(client, [unknown, {**BUZZ, "name": None}])
    assert response.status_code == 200, response.text
    assert all(math.isfinite(p["ibu"]) and p["ibu"] >= 0 for p in response.json()["predictions"])


def test_the_largest_batch_is_accepted(client: httpx.Client) -> None:
    response = post(client, [BUZZ] * MAX_BATCH)
    assert response.status_code == 200 and len(response.json()["predictions"]) == MAX_BATCH


@pytest.mark.parametrize("content_type", ["text/plain", "application/json; charset=utf-8", "multipart/form-data"])
def test_the_content_type_does_not_matter_for_a_json_body(client: httpx.Client, content_type: str) -> None:
    response = client.post("/predict", content=json.dumps([BUZZ]).encode(), headers={"content-type": content_type})
    assert response.status_code == 200, response.text


# --- bad requests: every one a 4xx that names the field -------------------------------------------------


def beer(**changes: Any) -> str:
    return json.dumps({**BUZZ, **changes})


def raw(text: str) -> bytes:
    return text.encode()


BAD_BODIES = {
    "abv as text": (raw(f"[{beer(abv='4.5')}]"), "[0].abv"),
    "abv as a boolean": (raw(f"[{beer(abv=True)}]"), "[0].abv"),
    "name as a number": (raw(f"[{beer(name=123)}]"), "[0].name"),
    "name as a list": (raw(f"[{beer(name=['a'])}]"), "[0].name"),
    "missing ph": (raw(json.dumps([{k: v for k, v in BUZZ.items() if k != "ph"}])), "[0].ph"),
    "NaN": (raw('[{"name": "x", "abv": NaN, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4}]'),
            "[0].abv"),
    "Infinity": (raw('[{"name": "x", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, '
                     '"ph": Infinity}]'), "[0].ph"),
    "-Infinity": (raw('[{"name": "x", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": -Infinity, '
                      '"srm": 10, "ph": 4.4}]'), "[0].ebc"),
    "1e999 overflows": (raw('[{"name": "x", "abv": 4.5, "target_fg": 1010, "target_og": 1e999, "ebc": 20, '
                            '"srm": 10, "ph": 4.4}]'), "[0].target_og"),
    "ph above 14": (raw(f"[{beer(ph=15)}]"), "[0].ph"),
    "negative abv": (raw(f"[{beer(abv=-1)}]"), "[0].abv"),
    "abv over 100": (raw(f"[{beer(abv=100.5)}]"), "[0].abv"),
    "gravity not x1000": (raw(f"[{beer(target_fg=1.01)}]"), "[0].target_fg"),
    "og over 1200": (raw(f"[{beer(target_og=1300)}]"), "[0].target_og"),
    "ebc over 2000": (raw(f"[{beer(ebc=2001)}]"), "[0].ebc"),
    "negative srm": (raw(f"[{beer(srm=-0.5)}]"), "[0].srm"),
    "name too long": (raw(f"[{beer(name='x' * 201)}]"), "[0].name"),
    "the fourth record is bad": (raw(f"[{beer()}, {beer()}, {beer()}, {beer(ph=79)}]"), "[3].ph"),
    "a record that is not an object": (raw(f"[{beer()}, 7]"), "[1]"),
    "a null record": (raw("[null]"), "[0]"),
    "empty list": (raw("[]"), "body"),
    "oversized list": (raw(json.dumps([BUZZ] * (MAX_BATCH + 1))), "body"),
    "an object, not a list": (raw(json.dumps(BUZZ)), "body"),
    "a number, not a list": (raw("42"), "body"),
    "a string, not a list": (raw('"beers"'), "body"),
    "invalid JSON": (raw('[{"name": "x",'), "body"),
    "trailing garbage": (raw(f"[{beer()}] x"), "body"),
    "empty body": (b"", "body"),
    "not UTF-8": (b"\xff\xfe[\x00", "body"),
    "deeply nested": (raw("[" * 100_000 + "]" * 100_000), "body"),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_input_is_a_4xx_naming_the_field(client: httpx.Client, name: str) -> None:
    body, field = BAD_BODIES[name]
    response = post(client, body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert "validation error" in answer["error"]
    messages = [detail["msg"] for detail in answer["detail"]]
    assert any(message.startswith(f"{field}: ") for message in messages), messages


def test_every_bad_field_of_a_record_is_reported(client: httpx.Client) -> None:
    response = post(client, raw(f"[{beer(abv='x', ph=-1, srm=None)}]"))
    assert response.status_code == 400
    assert sorted(d["msg"].split(":")[0] for d in response.json()["detail"]) == ["[0].abv", "[0].ph"]


def test_a_body_over_the_size_limit_is_refused_unread(client: httpx.Client) -> None:
    response = post(client, b"[" + b" " * (9 * 1024 * 1024) + b"]")
    assert response.status_code == 413
    assert "body" in response.text


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/predict", 405), ("POST", "/nope", 404)])
def test_wrong_method_or_path_is_a_4xx(client: httpx.Client, method: str, path: str, status: int) -> None:
    assert client.request(method, path).status_code == status


def test_the_pickle_content_type_is_refused(client: httpx.Client) -> None:
    response = post(client, json.dumps([BUZZ]).encode(), **{"content-type": "application/vnd.bentoml+pickle"})
    assert response.status_code == 415


def test_the_service_still_answers_after_all_that(client: httpx.Client) -> None:
    assert post(client, [BUZZ]).status_code == 200


# --- what BentoML provides ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz"])
def test_health_endpoints(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 200


def test_metrics_count_the_predict_requests(client: httpx.Client) -> None:
    post(client, [BUZZ])
    response = client.get("/metrics")
    assert response.status_code == 200
    assert 'endpoint="/predict"' in response.text and "bentoml_service_request_total" in response.text


def test_openapi_document_describes_predict_with_examples(client: httpx.Client) -> None:
    response = client.get("/docs.json")
    assert response.status_code == 200
    post_op = response.json()["paths"]["/predict"]["post"]
    request_schema = post_op["requestBody"]["content"]["application/json"]["schema"]
    assert request_schema["type"] == "array" and request_schema["maxItems"] == MAX_BATCH
    assert request_schema["example"][0]["name"] == "Buzz"
    answer_schema = post_op["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(answer_schema["required"]) == {"predictions", "model"}
    assert answer_schema["example"]["predictions"][0]["ibu"] > 0
    beer_schema = response.json()["components"]["schemas"]["Beer"]
    assert set(beer_schema["required"]) == set(training.FEATURES)
    assert beer_schema["properties"]["ph"]["anyOf"][0]["maximum"] == 14
    assert client.get("/").status_code == 200  # Swagger UI
