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

# What each setting costs, measured with benchmarks/bench_serving.py (wrk, 16 clients, one-beer
# requests, this shared 2-core machine; "CPU" = server CPU time per request):
# - batching: a forest call costs about the same for 1 beer or 16, so predicting concurrent
#   requests together is the big lever: CPU 1.0 -> 0.45 ms, 800 -> 1,800-2,700 requests/s.
#   BentoML's adaptive batching (batchable=True) got as much under load, but after a
#   64-client burst it held a lone client's requests ~15 ms each (63 requests/s): it learns how
#   long to wait once, at start-up. `microbatch.MicroBatcher` never waits;
# - gc.freeze() after start-up: full collections walked the whole heap (BentoML, scikit-learn,
#   the model), 110-200 ms pauses every second or so under load: p99 140-210 -> 20-35 ms. A full
#   collection first frees start-up garbage (~8,000 objects of ~190,000) but costs 0.15-0.35 s
#   here, 0.5-1.0 s in the Lambda container on a loaded machine: the Lambda handler, which turns
#   the collector off for its init, skips it (see deployment/handler.py) and freezes that garbage;
# - GC_THRESHOLDS after the freeze: requests leave few objects behind (~8 tracked ones each), but
#   at Python's default (700, 10, 10) the collector still ran ~50 times a second at 16 clients:
#   ~0.57 s of GC per 10 s of load (gen0 0.38, gen1 0.10, two full passes 0.09), pauses up to 14 ms
#   in gen0 and ~45 ms in the full passes (measured with gc.callbacks on this machine under a load
#   of ~4 from other work). At 50,000 young objects a collection runs every few thousand requests
#   instead: none at all in the same 10 s;
# - tracing: BentoML's OpenTelemetry middleware runs on every request even with no exporter
#   configured, +0.3-0.4 ms CPU: /predict is excluded from it;
# - the access log, a formatted line per request: +0.1-0.3 ms CPU: off (/metrics counts the
#   requests, by status, anyway);
# - metrics: their cost was below the run-to-run noise: on;
# - workers: 2 gave anywhere from no gain to 2x the requests/s at 16-64 clients here (the
#   load generator and other work share the two cores); 1 is the default so that the
#   benchmark compares one process with one. On a dedicated host override it:
#   BENTOML_CONFIG_OVERRIDES='{"services": {"ibu_model_service": {"workers": 2}}}'.
SERVICE_CONFIG: dict[str, Any] = {
    "workers": 1,
    "traffic": {"timeout": 10},
    "logging": {"access": {"enabled": False}},
    "tracing": {"excluded_urls": ["/predict"]},
    "metrics": {"enabled": True},
}
# The benchmark's "untuned" row (BentoML's defaults, none of the above) is benchmarks/untuned_service.py.

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
