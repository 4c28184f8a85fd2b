"""BentoML service: POST /predict with a JSON list of beers -> one predicted IBU per beer.

    bentoml serve beer_platform.serving.service:IBUModelService   (or serving.server.serve())

Request and errors: see `schemas`. Answer: `{"predictions": [{"ibu": 41.2}, ...], "model":
"ibu_model:<version>"}`. BentoML adds `/healthz`, `/livez`, `/readyz`, `/metrics`, Swagger UI at
`/` and the OpenAPI document at `/docs.json`. The newest `ibu_model` in the model store
($BENTOML_HOME) when the process starts is served; restart to pick up a newer one.
"""

from __future__ import annotations

import gc
import logging
from http import HTTPStatus
from typing import Any, ClassVar

import bentoml
import numpy as np
from _bentoml_sdk.io_models import IORootModel  # not re-exported publicly; bentoml is pinned
from bentoml.exceptions import BentoMLException
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from beer_platform.core.features import FEATURES
from beer_platform.serving.microbatch import MicroBatcher
from beer_platform.serving import MODEL_NAME
from beer_platform.serving.schemas import (
    BEERS,
    EXAMPLE_REQUEST,
    MAX_BATCH,
    MAX_BODY_BYTES,
    Beer,
    Beers,
    BodyTooLarge,
    Prediction,
    PredictResponse,
    parse_beers,
)

# What each setting costs, measured with benchmarks/bench_serving.py (wrk, 16 clients, one-beer
# requests, this shared 2-core machine; "CPU" = server CPU time per request):
# - batching: a forest call costs about the same for 1 beer or 16, so predicting concurrent
#   requests together is the big lever: CPU 1.0 -> 0.45 ms, 800 -> 1,800-2,700 requests/s.
#   BentoML's adaptive batching (batchable=True) got as much under load, but after a
#   64-client burst it held a lone client's requests ~15 ms each (63 requests/s): it learns how
#   long to wait once, at start-up. `microbatch.MicroBatcher` never waits;
# - gc.freeze() after start-up: full collections walked the whole heap (BentoML, scikit-learn,
#   the model), 110-200 ms pauses every second or so under load: p99 140-210 -> 20-35 ms;
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

INLINE_ROWS = 32  # batches up to this size are predicted on the event loop (~0.6 ms at most)


class PredictInput(IORootModel[Beers]):
    """The request body as a root-level list, parsed by `schemas.parse_beers`.

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
        return cls.model_construct(root=parse_beers(await _read_body(request)))


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


def as_rows(beers: list[Beer]) -> np.ndarray:
    """The pipeline's input matrix (see `training.as_matrix`), built straight from the models."""
    return np.array([[getattr(beer, field) for field in FEATURES] for beer in beers], dtype=object).reshape(
        len(beers), len(FEATURES)
    )


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


@bentoml.service(name="ibu_model_service", **SERVICE_CONFIG)
class IBUModelService:
    """Predicts a beer's bitterness (IBU) from its name, strength, gravities, colour and pH."""

    model_ref = bentoml.models.BentoModel(f"{MODEL_NAME}:latest")

    def __init__(self) -> None:
        stored = self.model_ref  # on an instance: the stored model "latest" resolved to, at start
        self.model_tag = PredictOutput.model_tag = str(stored.tag)
        logging.getLogger("bentoml._internal.server.http_app").addFilter(_ClientErrorsAsInfo())
        self.pipeline = bentoml.sklearn.load_model(stored)
        self.pipeline.predict(as_rows([Beer.model_validate(EXAMPLE_REQUEST[0])]))  # first call is slower
        self.batcher = MicroBatcher(self.pipeline.predict, inline_rows=INLINE_ROWS, max_rows=MAX_BATCH)
        gc.collect()
        gc.freeze()  # what is loaded now lives as long as the process: keep it out of GC passes

    @bentoml.api(route="/predict", input_spec=PredictInput, output_spec=PredictOutput)
    async def predict(self, beers: list[Beer], /) -> list[Prediction]:
        """Predict the IBU of each beer in a JSON list (1 to 1000 beers; null = unknown)."""
        ibus = await self.batcher.predict(as_rows(beers))
        return [Prediction(ibu=round(float(ibu), 2)) for ibu in ibus]
