"""BentoML service: the IBU models over HTTP.

    bentoml serve beer_platform.serving.service:IBUModelService   (or local.model_server)

- `POST /predict`, a JSON list of beers -> one predicted IBU per beer: `{"predictions": [{"ibu":
  41.2, "model": "card", "tinseth_ibu": null}, {"ibu": 57.8, "model": "recipe", "tinseth_ibu":
  66.3}], "model": "ibu_model:<version>"}`; a beer with `ingredients.hops` is answered by the
  recipe model (and carries the Tinseth estimate), one without by the card model;
- `POST /tinseth`, a JSON list of recipes -> the Tinseth estimate of each, per addition too;
- `GET /hops`: every hop name a recipe may use, with its kind and alpha acids.

Requests and errors: see `schemas`; the OpenAPI document at `/docs.json` is `openapi`'s. BentoML
adds `/healthz`, `/livez`, `/readyz`, `/metrics` and Swagger UI at `/`. The newest `ibu_model`
in the model store ($BENTOML_HOME) when the process starts is served (both of its models);
restart to pick up a newer one. The models are served compiled (`predict.predictor`: numpy
arrays, the same answers as the scikit-learn pipelines): nothing here imports scikit-learn,
scipy or polars, which were most of the Lambda's cold start.
"""

from __future__ import annotations

import gc
import json
import logging
from http import HTTPStatus
from typing import Any, ClassVar

import bentoml
from _bentoml_sdk.io_models import IORootModel  # not re-exported publicly; bentoml is pinned
from bentoml.exceptions import BentoMLException
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from starlette.applications import Starlette
from starlette.routing import Route

from beer_platform.predict.predictor import CARD, RECIPE, IBUPredictor
from beer_platform.serving import MODEL_NAME
from beer_platform.serving.model_store import load_models
from beer_platform.serving.microbatch import MicroBatcher
from beer_platform.serving.openapi import DocumentedService
from beer_platform.serving.schemas import (
    BEERS, EXAMPLE_REQUEST, MAX_BATCH, MAX_BODY_BYTES, TINSETH_RECIPES, BodyTooLarge, PredictBatch, Prediction,
    PredictResponse, TinsethEstimate, TinsethResponse, known_hops, parse_predict, parse_tinseth, predictions,
)  # fmt: skip

# What each setting is worth, in figures: docs/benchmarks.md ("Serving"); BentoML's defaults, none of
# them, are benchmarks/untuned_service.py.
SERVICE_CONFIG: dict[str, Any] = {
    # one process; a second fights the first for two cores here. On a dedicated host:
    # BENTOML_CONFIG_OVERRIDES='{"services": {"ibu_model_service": {"workers": 2}}}'
    "workers": 1,
    "traffic": {"timeout": 10},  # bounds a request: a body that stops half-way is a 504 after 10 s
    "logging": {"access": {"enabled": False}},  # a formatted line per request; /metrics counts them anyway
    "tracing": {"excluded_urls": ["/predict"]},  # the middleware costs CPU on every request, with no exporter
    "metrics": {"enabled": True},  # costs less than the noise
}

# After gc.freeze(), requests leave few objects behind: collect every few thousand requests, not ~50 times a second.
GC_THRESHOLDS = (50_000, 20, 100)
INLINE_ROWS = 32  # batches up to this size are predicted on the event loop (~0.6 ms at most)


class PredictInput(IORootModel[Any]):  # a PredictBatch (numpy rows: no pydantic type)
    """The request body as a root-level list, parsed by `schemas.parse_predict` into each model's rows.

    Overriding `from_http_request` keeps every failure a 4xx: BentoML's own JSON path would
    answer 500 to a body that is not JSON, and accepts NaN.
    """

    __root_input__ = True  # what BentoML sets for an api with one positional-only parameter

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # the generic root field drops the description and example of `Beers`: use its own schema
        return {**BEERS.json_schema(*args, **kwargs), "root_input": True}

    @classmethod
    async def from_http_request(cls, request: Request, serde: Any) -> PredictInput:
        return cls.model_construct(root=parse_predict(await _read_body(request)))


class TinsethInput(IORootModel[list[TinsethEstimate]]):
    """The /tinseth body, estimated while parsing (`schemas.parse_tinseth`): the formula is cheap."""

    __root_input__ = True

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**TINSETH_RECIPES.json_schema(*args, **kwargs), "root_input": True}

    @classmethod
    async def from_http_request(cls, request: Request, serde: Any) -> TinsethInput:
        return cls.model_construct(root=parse_tinseth(await _read_body(request)))


async def _read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> BentoMLException:
    return BentoMLException(str(BodyTooLarge(limit)), error_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


class _ClientErrorsAsInfo(logging.Filter):
    """BentoML logs every 4xx it raises as an ERROR with a traceback; a bad request is not a
    server fault, so those become one INFO line (and bad input cannot flood the log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        status = getattr(getattr(error, "error_code", None), "value", 500)
        if isinstance(error, ValidationError) or (isinstance(error, BentoMLException) and status < 500):
            path = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg, record.args = "client error on %s: %s", (path, str(error).splitlines()[0][:200])
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class PredictOutput(IORootModel[list[Prediction]]):
    """The predictions, answered as a `PredictResponse` with the model's tag."""

    model_tag: ClassVar[str] = "unknown"  # set when the service loads its model (one per process)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return PredictResponse.model_json_schema(*args, **kwargs)

    @classmethod
    async def to_http_response(cls, obj: Any, serde: Any) -> Response:
        answer = PredictResponse.model_construct(predictions=obj, model=cls.model_tag)
        return Response(answer.model_dump_json(), media_type="application/json")


class TinsethOutput(IORootModel[list[TinsethEstimate]]):
    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return TinsethResponse.model_json_schema(*args, **kwargs)

    @classmethod
    async def to_http_response(cls, obj: Any, serde: Any) -> Response:
        return Response(TinsethResponse.model_construct(estimates=obj).model_dump_json(), media_type="application/json")


_HOPS_BODY = known_hops().model_dump_json().encode()


async def _hops(request: Request) -> Response:
    return Response(_HOPS_BODY, media_type="application/json")


# GET /hops: BentoML's apis are POST only; a mounted app at the root answers the paths it routes.
HOPS_APP = Starlette(routes=[Route("/hops", _hops, methods=["GET"])])


@bentoml.service(name="ibu_model_service", service_class=DocumentedService, **SERVICE_CONFIG)
@bentoml.asgi_app(HOPS_APP, path="/")
class IBUModelService:
    """Predicts a beer's bitterness (IBU) from its card (strength, gravities, colour, pH, name) and,
    when it comes with one, its recipe (hop additions, batch volume)."""

    model_ref = bentoml.models.BentoModel(f"{MODEL_NAME}:latest")

    def __init__(self) -> None:
        stored = self.model_ref  # on an instance: the stored model "latest" resolved to, at start
        self.model_tag = PredictOutput.model_tag = str(stored.tag)
        logging.getLogger("bentoml._internal.server.http_app").addFilter(_ClientErrorsAsInfo())
        self.models: IBUPredictor = load_models(stored)  # numpy only: no scikit-learn to import
        example = parse_predict(json.dumps(EXAMPLE_REQUEST))
        self.models.predict_card(example.card)  # first calls are slower
        self.models.predict_recipe(example.recipe)
        self.batchers = {
            CARD: MicroBatcher(self.models.predict_card, inline_rows=INLINE_ROWS, max_rows=MAX_BATCH),
            RECIPE: MicroBatcher(self.models.predict_recipe, inline_rows=INLINE_ROWS, max_rows=MAX_BATCH),
        }
        if gc.isenabled():  # a host that turned the collector off for its start-up (the Lambda handler) skips it
            gc.collect()
        gc.freeze()  # what is loaded now lives as long as the process: keep it out of GC passes
        gc.set_threshold(*GC_THRESHOLDS)

    @bentoml.api(route="/predict", input_spec=PredictInput, output_spec=PredictOutput)
    async def predict(self, batch: PredictBatch, /) -> list[Prediction]:
        """Predict the IBU of each beer in a JSON list (1 to 1000 beers; null = unknown): with a
        recipe (`ingredients.hops`) by the recipe model, without by the card model."""
        rows = {CARD: batch.card, RECIPE: batch.recipe}
        # both queued before either is awaited; no task per request (asyncio.gather would make one)
        queued = {kind: self.batchers[kind].submit(rows[kind]) for kind in (CARD, RECIPE) if len(rows[kind])}
        answers = {kind: await future for kind, future in queued.items()}
        return predictions(batch, answers.get(CARD, batch.card), answers.get(RECIPE, batch.recipe))

    @bentoml.api(route="/tinseth", input_spec=TinsethInput, output_spec=TinsethOutput)
    async def tinseth(self, estimates: list[TinsethEstimate], /) -> list[TinsethEstimate]:
        """The Tinseth estimate of each recipe in a JSON list (target_og, volume, ingredients.hops):
        the physics alone, no model."""
        return estimates
