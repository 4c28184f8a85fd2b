"""The BentoML service over real HTTP: the model server in a subprocess, freshly saved models.

Both models are trained on the shipped dataset and saved into a temporary BENTOML_HOME (in a
subprocess: BentoML fixes its home once per process), then served on a free 127.0.0.1 port
for the whole module. Card-only beers, recipes, whole PunkAPI records, every kind of bad input,
/tinseth, /hops, the OpenAPI document, and schemathesis with all its checks against it.
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
import numpy as np
import pytest

from beer_platform.brewing import hop_reference, tinseth
from beer_platform.local import model_server as server
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.predict import model_files
from beer_platform.predict.inputs import FEATURES, INPUT_COLUMNS, card_rows, recipe_rows
from beer_platform.serving import API_VERSION
from beer_platform.serving.schemas import MAX_BATCH
from beer_platform.settings import SOURCE_ROOT
from beer_platform_tests.serving.conftest import METRICS

BUZZ = {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4}

PUNKAPI = {beer["id"]: beer for beer in load_beers()}
BUZZ_RECIPE = {**BUZZ, "volume": PUNKAPI[1]["volume"], "ingredients": {"hops": PUNKAPI[1]["ingredients"]["hops"]}}
@pytest.fixture(scope="module")
def local_model(home: Path, saved: dict[str, Any]):
    """The saved models, loaded in this process straight from the store's files."""
    name, version = saved["tag"].split(":")
    return model_files.load(home / "models" / name / version)


def post(client: httpx.Client, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/predict", content=content, headers={"content-type": "application/json", **headers})


# --- the model store ------------------------------------------------------------------------------


def test_the_saved_model_carries_both_models_metrics_data_version_and_inputs(saved: dict[str, Any]) -> None:
    info = saved["info"]
    assert info["tag"] == saved["tag"] and saved["tag"].startswith("ibu_model:")
    meta = info["metadata"]
    assert meta["metrics"] == METRICS
    assert meta["inputs"] == {"card": FEATURES, "recipe": INPUT_COLUMNS}
    assert len(meta["data_version"]) == 64
    assert meta["training_rows"]["training_rows"] == 317
    assert info["labels"]["target"] == "ibu" and info["labels"]["models"] == "card+recipe"


def card_ibus(model, beers: list[dict]) -> np.ndarray:
    return model.predict_card(card_rows(beers))


def recipe_answers(model, beers: list[dict]) -> np.ndarray:
    return model.predict_recipe(recipe_rows(beers))


# --- good requests ----------------------------------------------------------------------------------


def test_one_beer_gets_one_prediction_and_the_model_version(client: httpx.Client, saved: dict, local_model) -> None:
    response = post(client, [BUZZ])
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] == saved["tag"]
    assert answer["predictions"] == [
        {"ibu": pytest.approx(card_ibus(local_model, [BUZZ])[0], abs=0.01), "model": "card", "tinseth_ibu": None}
    ]


def test_a_beer_with_its_recipe_is_answered_by_the_recipe_model_with_the_tinseth_estimate(client: httpx.Client,
                                                                                           local_model) -> None:  # fmt: skip
    response = post(client, [BUZZ_RECIPE])
    assert response.status_code == 200, response.text
    [prediction] = response.json()["predictions"]
    [(ibu, estimate)] = recipe_answers(local_model, [BUZZ_RECIPE])
    assert prediction == {"ibu": pytest.approx(ibu, abs=0.01), "model": "recipe",
                          "tinseth_ibu": pytest.approx(estimate, abs=0.01)}  # fmt: skip
    buzz_hops = [(4.3, 25, 60), (7.8, 25, 60), (4.3, 37.5, 30), (7.8, 37.5, 30), (7.0, 37.5, 5)]
    assert prediction["tinseth_ibu"] == pytest.approx(tinseth.recipe_ibu(buzz_hops, 20.0, 1.044), abs=0.01)


def test_the_recipe_changes_the_answer(client: httpx.Client) -> None:
    more = {**BUZZ_RECIPE, "ingredients": {"hops": [*BUZZ_RECIPE["ingredients"]["hops"],
                                                    {"name": "Columbus", "amount": {"value": 60, "unit": "grams"},
                                                     "add": "start"}]}}  # fmt: skip
    dry = {**BUZZ_RECIPE, "ingredients": {"hops": [{**hop, "add": "dry hop"} for hop in BUZZ_RECIPE["ingredients"]["hops"]]}}
    plain, bitterer, all_dry = (p["ibu"] for p in post(client, [BUZZ_RECIPE, more, dry]).json()["predictions"])
    assert bitterer > plain + 10 and all_dry < plain - 10


def test_volume_alone_or_no_hop_list_is_no_recipe(client: httpx.Client, local_model) -> None:
    beers = [{**BUZZ, "volume": {"value": 20, "unit": "litres"}}, {**BUZZ, "ingredients": {"malt": []}},
             {**BUZZ, "ingredients": {"hops": None}}, {**BUZZ, "ingredients": None, "volume": None}]  # fmt: skip
    predictions = post(client, beers).json()["predictions"]
    assert [p["model"] for p in predictions] == ["card"] * 4
    np.testing.assert_allclose([p["ibu"] for p in predictions], card_ibus(local_model, beers), atol=0.01)
    [empty] = post(client, [{**BUZZ, "ingredients": {"hops": []}}]).json()["predictions"]  # a recipe with no hops
    assert empty["model"] == "recipe" and empty["tinseth_ibu"] == 0.0


def test_many_whole_punkapi_records_are_answered_in_order_by_the_recipe_model(client: httpx.Client,
                                                                               local_model) -> None:  # fmt: skip
    # Every field of the API, not only the model's (extra keys are ignored); id 317's ph of 79
    # is refused like any out-of-range value.
    beers = [beer for beer in load_beers() if beer["id"] != 317]
    response = post(client, beers)
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == len(beers) == 324 and {p["model"] for p in predictions} == {"recipe"}
    expected = recipe_answers(local_model, beers)
    np.testing.assert_allclose([p["ibu"] for p in predictions], expected[:, 0], atol=0.01)
    np.testing.assert_allclose([p["tinseth_ibu"] for p in predictions], expected[:, 1], atol=0.01)


def test_card_only_and_recipe_beers_mixed_keep_their_order(client: httpx.Client, local_model) -> None:
    cards = [{field: beer[field] for field in FEATURES} for beer in load_beers()[10:14]]
    recipes = load_beers()[20:23]
    mixed = [cards[0], recipes[0], recipes[1], cards[1], cards[2], recipes[2], cards[3]]
    predictions = post(client, mixed).json()["predictions"]
    assert [p["model"] for p in predictions] == ["card", "recipe", "recipe", "card", "card", "recipe", "card"]
    got_cards = [p["ibu"] for p in predictions if p["model"] == "card"]
    got_recipes = [p["ibu"] for p in predictions if p["model"] == "recipe"]
    np.testing.assert_allclose(got_cards, card_ibus(local_model, cards), atol=0.01)
    np.testing.assert_allclose(got_recipes, recipe_answers(local_model, recipes)[:, 0], atol=0.01)


def test_concurrent_requests_each_get_their_own_predictions(client: httpx.Client, local_model) -> None:
    # Concurrent requests are predicted in shared batches (one per model): each must get back its own rows.
    beers = [beer if beer["id"] % 2 else {field: beer[field] for field in FEATURES} for beer in load_beers()[:48]]
    requests = [beers[i : i + 1 + i % 3] for i in range(0, 48, 3)]  # 1 to 3 beers each, card-only and recipes
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda batch: post(client, batch), requests * 3))
    for batch, response in zip(requests * 3, responses, strict=True):
        assert response.status_code == 200, response.text
        for beer, prediction in zip(batch, response.json()["predictions"], strict=True):
            if "ingredients" in beer:
                assert prediction["ibu"] == pytest.approx(recipe_answers(local_model, [beer])[0, 0], abs=0.01)
            else:
                assert prediction["ibu"] == pytest.approx(card_ibus(local_model, [beer])[0], abs=0.01)


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


def with_hop(position: int = 0, beer: dict | None = None, **changes: Any) -> dict:
    """Buzz with its recipe, the hop at `position` changed (a change to None removes the key)."""
    hops = [dict(hop) for hop in BUZZ_RECIPE["ingredients"]["hops"]]
    hops[position] = {key: value for key, value in {**hops[position], **changes}.items() if value is not None}
    return {**(beer or BUZZ_RECIPE), "ingredients": {"hops": hops}}


def recipe_body(*beers: dict) -> bytes:
    return json.dumps(list(beers)).encode()


# Every kind of bad recipe, each a 400 naming the field.
BAD_RECIPES = {
    "unknown hop name": (recipe_body(with_hop(2, name="Galxy")), "[0].ingredients.hops[2].name"),
    "hop name missing": (recipe_body(with_hop(0, name=None)), "[0].ingredients.hops[0].name"),
    "hop name empty": (recipe_body(with_hop(0, name=" ")), "[0].ingredients.hops[0].name"),
    "negative amount": (recipe_body(with_hop(1, amount={"value": -3, "unit": "grams"})),
                        "[0].ingredients.hops[1].amount.value"),
    "amount as text": (recipe_body(with_hop(1, amount={"value": "25", "unit": "grams"})),
                       "[0].ingredients.hops[1].amount.value"),
    "amount not an object": (recipe_body(with_hop(1, amount=25)), "[0].ingredients.hops[1].amount"),
    "amount over 10 tonnes": (recipe_body(with_hop(1, amount={"value": 10_001, "unit": "kilograms"})),
                              "[0].ingredients.hops[1].amount.value"),
    "unknown unit": (recipe_body(with_hop(0, amount={"value": 1, "unit": "pounds"})), "[0].ingredients.hops[0].amount.unit"),
    "a hop not weighed": (recipe_body(with_hop(4, amount={"value": 50, "unit": "ml"})),
                          "[0].ingredients.hops[4].amount.unit"),
    "unparseable add": (recipe_body(with_hop(3, add="sometime")), "[0].ingredients.hops[3].add"),
    "add over 300 minutes": (recipe_body(with_hop(3, add="400")), "[0].ingredients.hops[3].add"),
    "add missing": (recipe_body(with_hop(3, add=None)), "[0].ingredients.hops[3].add"),
    "a hop with no boil time": (recipe_body(with_hop(0, add="Additions")), "[0].ingredients.hops[0].add"),
    "attribute not a string": (recipe_body(with_hop(0, attribute=7)), "[0].ingredients.hops[0].attribute"),
    "a hop that is not an object": (recipe_body({**BUZZ, "ingredients": {"hops": ["Citra"]}}), "[0].ingredients.hops[0]"),
    "hops not a list": (recipe_body({**BUZZ, "ingredients": {"hops": "Citra"}}), "[0].ingredients.hops"),
    "ingredients not an object": (recipe_body({**BUZZ, "ingredients": ["Citra"]}), "[0].ingredients"),
    "volume in gallons": (recipe_body({**BUZZ_RECIPE, "volume": {"value": 5, "unit": "gallons"}}), "[0].volume.unit"),
    "zero volume": (recipe_body({**BUZZ_RECIPE, "volume": {"value": 0, "unit": "litres"}}), "[0].volume.value"),
    "volume a number": (recipe_body({**BUZZ, "volume": 20}), "[0].volume"),
    "the third beer's recipe": (recipe_body(BUZZ, BUZZ_RECIPE, with_hop(2, name="Galxy")), "[2].ingredients.hops[2].name"),
}  # fmt: skip


def test_the_unknown_hop_message_is_the_issues(client: httpx.Client) -> None:
    answer = post(client, BAD_RECIPES["unknown hop name"][0]).json()
    assert answer["detail"] == [{"type": "recipe", "loc": [0, "ingredients", "hops", 2, "name"],
                                 "msg": "[0].ingredients.hops[2].name: unknown hop variety 'Galxy'"}]  # fmt: skip


def test_hop_names_are_matched_ignoring_case_accents_and_punctuation(client: httpx.Client) -> None:
    same = [with_hop(4, name="CASCADE"), with_hop(4, name="cascade"), BUZZ_RECIPE]
    assert len({p["ibu"] for p in post(client, same).json()["predictions"]}) == 1


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


@pytest.mark.parametrize("name", [*BAD_BODIES, *BAD_RECIPES])
def test_bad_input_is_a_4xx_naming_the_field(client: httpx.Client, name: str) -> None:
    body, field = {**BAD_BODIES, **BAD_RECIPES}[name]
    response = post(client, body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert "validation error" in answer["error"] and answer["error"].endswith(" for request body")
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


def test_a_pickled_body_is_never_unpickled(client: httpx.Client, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."  # what unpickling would run
    response = post(client, payload, **{"content-type": "application/vnd.bentoml+pickle"})
    assert response.status_code == 400 and not marker.exists()  # read as JSON, which it is not


def test_the_service_still_answers_after_all_that(client: httpx.Client) -> None:
    assert post(client, [BUZZ]).status_code == 200


# --- /tinseth and /hops -----------------------------------------------------------------------------------


def test_tinseth_estimates_a_recipe_per_addition(client: httpx.Client) -> None:
    worked_example = {"target_og": 1050, "volume": {"value": 20, "unit": "litres"},
                      "ingredients": {"hops": [{"name": "Citra", "amount": {"value": 28, "unit": "grams"}, "add": "60"}]}}  # fmt: skip
    alpha = hop_reference.match_hop("Citra").alpha_acid_pct
    response = client.post("/tinseth", json=[worked_example, PUNKAPI[1]])
    assert response.status_code == 200, response.text
    first, buzz = response.json()["estimates"]
    assert first["ibu"] == pytest.approx(32.3 * alpha / 10, abs=0.05)  # the worked example: 32.3 at 10% alpha
    assert [a["name"] for a in buzz["additions"]] == ["Fuggles", "First Gold", "Fuggles", "First Gold", "Cascade"]
    assert buzz["ibu"] == pytest.approx(sum(a["ibu"] for a in buzz["additions"]), abs=0.05)
    predicted = post(client, [PUNKAPI[1]]).json()["predictions"][0]
    assert predicted["tinseth_ibu"] == pytest.approx(buzz["ibu"], abs=0.01)


@pytest.mark.parametrize(("body", "field"), [
    ([{"volume": {"value": 20, "unit": "litres"}, "ingredients": {"hops": []}}], "[0].target_og"),
    ([{"target_og": 1050, "volume": None, "ingredients": {"hops": []}}], "[0].volume"),
    ([{"target_og": 1050, "volume": {"value": 20, "unit": "litres"}, "ingredients": {}}], "[0].ingredients.hops"),
    ([{**PUNKAPI[1], "ingredients": {"hops": [{"name": "Galxy", "amount": {"value": 1, "unit": "g"}, "add": "5"}]}}],
     "[0].ingredients.hops[0].name"),
    ([], "body"),
])  # fmt: skip
def test_tinseth_refuses_an_incomplete_or_bad_recipe(client: httpx.Client, body: Any, field: str) -> None:
    response = client.post("/tinseth", json=body)
    assert response.status_code == 400, response.text
    assert any(d["msg"].startswith(f"{field}: ") for d in response.json()["detail"]), response.text


def test_hops_lists_every_known_name_with_its_alpha(client: httpx.Client) -> None:
    response = client.get("/hops")
    assert response.status_code == 200
    hops = response.json()["hops"]
    assert [hop["name"] for hop in hops] == hop_reference.known_names()
    by_name = {hop["name"]: hop for hop in hops}
    assert by_name["Fuggles"] == {"name": "Fuggles", "kind": "hop", "variety": "fuggle", "alpha_acid_pct": 4.3}
    assert by_name["Columbus Extract"]["alpha_acid_pct"] == tinseth.EXTRACT_ALPHA_ACID_PCT
    every_published = {hop["name"] for beer in load_beers() for hop in beer["ingredients"]["hops"]}
    assert every_published <= set(by_name)
    assert client.post("/hops").status_code == 405


# --- what BentoML provides ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz"])
def test_health_endpoints(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 200


def test_metrics_count_the_predict_requests(client: httpx.Client) -> None:
    post(client, [BUZZ])
    response = client.get("/metrics")
    assert response.status_code == 200
    assert 'endpoint="/predict"' in response.text and "bentoml_service_request_total" in response.text


def test_openapi_document_describes_the_service(client: httpx.Client) -> None:
    response = client.get("/docs.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Beer bitterness (IBU) API" and document["info"]["version"] == API_VERSION
    assert "/tinseth" in document["info"]["description"] and "BentoML" not in json.dumps(document["info"])
    post_op = document["paths"]["/predict"]["post"]
    assert post_op["requestBody"]["required"] is True
    request_schema = post_op["requestBody"]["content"]["application/json"]["schema"]
    assert request_schema["type"] == "array" and request_schema["maxItems"] == MAX_BATCH
    assert request_schema["example"][0]["name"] == "Buzz" and "ingredients" in request_schema["example"][3]
    answer_schema = post_op["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(answer_schema["required"]) == {"predictions", "model"}
    assert answer_schema["example"]["predictions"][0]["ibu"] > 0
    assert set(post_op["responses"]) == {"200", "400", "413"}
    schemas = document["components"]["schemas"]
    assert schemas["ValidationErrorBody"]["properties"]["detail"]["type"] == "array"
    assert schemas["BodyTooLargeBody"]["type"] == "array"
    beer_schema = schemas["Beer"]
    assert set(beer_schema["required"]) == set(FEATURES)
    assert beer_schema["properties"]["ph"]["anyOf"][0]["maximum"] == 14
    hop_names = beer_schema["properties"]["ingredients"]["anyOf"][0]["properties"]["hops"]["anyOf"][0]["items"]
    assert {name for variant in hop_names["anyOf"] for name in variant["properties"]["name"]["enum"]} == set(
        hop_reference.known_names())
    assert "get" in document["paths"]["/hops"] and document["paths"]["/tinseth"]["post"]["requestBody"]["required"]
    assert client.get("/").status_code == 200  # Swagger UI


def test_the_documented_400_and_413_bodies_are_what_is_answered(client: httpx.Client) -> None:
    import jsonschema_rs  # schemathesis' validator

    document = client.get("/docs.json").json()
    schemas = document["components"]["schemas"]
    bad = post(client, raw(f"[{beer(abv='x', ph=-1)}]"))
    too_large = post(client, b"[" + b" " * (9 * 1024 * 1024) + b"]")
    jsonschema_rs.validate(schemas["ValidationErrorBody"], bad.json())
    jsonschema_rs.validate(schemas["BodyTooLargeBody"], too_large.json())


def test_schemathesis_with_all_its_checks_finds_nothing(service: server.RunningService, tmp_path: Path) -> None:
    """Every request the document says is valid is answered 2xx, every invalid one 4xx, never 5xx;
    every answer matches its documented status, content type and schema (seeded: reproducible)."""
    done = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{service.url}/docs.json", "--checks", "all",
         "--max-examples", "40", "--seed", "1", "--generation-database", "none", "--no-color"],
        cwd=tmp_path, capture_output=True, text=True, timeout=580,  # its reports dir: not the checkout
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout, done.stdout[-3000:]


@pytest.mark.parametrize("sent", [None, b"", b"a" * 129, b"with space", "naïve".encode()])
def test_every_answer_carries_a_request_id_a_new_one_unless_the_client_sent_a_sane_one(client, sent):
    headers = {} if sent is None else {"X-Request-ID": sent}
    answer = client.post("/predict", json=[{"name": "x", "abv": 5}], headers=headers)
    bad = client.post("/predict", json=[{"abv": "strong"}], headers=headers)  # errors carry it too
    ids = [answer.headers["x-request-id"], bad.headers["x-request-id"]]
    assert all(len(found) == 32 and int(found, 16) >= 0 for found in ids) and ids[0] != ids[1]


def test_the_clients_request_id_comes_back_as_sent(client):
    sent = "trace-7f3a:span/01=+_.-"
    for answer in (client.post("/predict", json=[{"name": "x"}], headers={"X-Request-ID": sent}),
                   client.get("/hops", headers={"X-Request-ID": sent})):  # fmt: skip
        assert answer.headers["x-request-id"] == sent
