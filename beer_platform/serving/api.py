"""The IBU API as an ASGI app: `POST /predict`, `POST /tinseth`, `GET /hops`.

The BentoML service mounts it at `/` (beside BentoML's /docs.json, /healthz, /livez, /readyz and
/metrics) for `make serve`; the Lambda function serves it without BentoML (`function_app`). Either
host starts it with `serve` (the model loaded, warmed up and installed) and stops it with
`shut_down`.

- Bodies: at most `MAX_BODY_BYTES` (what Lambda accepts), refused with 413 from the declared
  length or as soon as the stream passes it, before anything is parsed.
- Small batches are parsed on the event loop and predicted by each model's micro-batcher, so
  concurrent requests share a model call. A large body (over `LARGE_BODY_BYTES`: hundreds of
  recipes) is parsed and predicted whole in a worker process (`large.LargeRequests`), so it holds
  neither the event loop nor the GIL that small requests need, and its garbage lives and dies
  there, not in the serving process.
- Errors: 400 with every problem, each message starting with the field's path; 413 as a list
  holding one `{error}`; the shapes the OpenAPI document (`openapi`) describes.
- Every answer carries its request's id in `X-Request-ID`: the client's own (a sane one), else a
  new one; each prediction is logged with it (`prediction_log`), off the request path.
"""

from __future__ import annotations

import gc
import json
import re
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beer_platform.predict import model_files
from beer_platform.predict.predictor import CARD, RECIPE, IBUPredictor
from beer_platform.serving import prediction_log
from beer_platform.serving.large import LargeBodyInvalid, LargeRequests
from beer_platform.serving.microbatch import MicroBatcher
from beer_platform.serving.prediction_log import answered
from beer_platform.serving.schemas import (
    EXAMPLE_REQUEST, MAX_BATCH, MAX_BODY_BYTES, BodyTooLarge, PredictBatch, Prediction, TinsethResponse, error_body,
    known_hops, parse_predict, parse_tinseth, predictions, response_json,
)  # fmt: skip

INLINE_ROWS = 32  # batches up to this size are predicted on the event loop (~0.6 ms at most)
LARGE_BODY_BYTES = 256 * 1024  # above this a body is parsed and predicted in a worker process
# After start-up the collector runs rarely: requests leave few objects behind, and at Python's
# default thresholds it ran dozens of times a second under load.
GC_THRESHOLDS = (50_000, 20, 100)


@dataclass
class Runtime:
    """What a running API holds: the models, their tag, their batchers, the worker for large bodies."""

    models: IBUPredictor
    tag: str
    batchers: dict[str, MicroBatcher]
    large: LargeRequests | None  # None: every body is handled here (the Lambda: one request at a time)
    host: str  # what serves it, in the prediction records: "server" or "lambda"

    @classmethod
    def start(cls, models: IBUPredictor, tag: str, model_dir: str, large_workers: int, host: str) -> Runtime:
        batchers = {CARD: MicroBatcher(models.predict_card, inline_rows=INLINE_ROWS, max_rows=MAX_BATCH),
                    RECIPE: MicroBatcher(models.predict_recipe, inline_rows=INLINE_ROWS, max_rows=MAX_BATCH)}  # fmt: skip
        large = LargeRequests(model_dir, large_workers) if large_workers else None
        return cls(models, tag, batchers, large, host)

    async def predict(self, batch: PredictBatch) -> list[Prediction]:
        rows = {CARD: batch.card, RECIPE: batch.recipe}
        # both queued before either is awaited; no task per request (asyncio.gather would make one)
        queued = {kind: self.batchers[kind].submit(rows[kind]) for kind in (CARD, RECIPE) if len(rows[kind])}
        answers = {kind: await future for kind, future in queued.items()}
        return predictions(batch, answers.get(CARD, batch.card), answers.get(RECIPE, batch.recipe))

    def close(self) -> None:
        if self.large is not None:
            self.large.close()


def install(runtime: Runtime) -> None:
    """Make `runtime` what the API answers with."""
    API.state.runtime = runtime


def serve(model_dir: str, tag: str, large_workers: int, host: str) -> Runtime:
    """Load the stored model at `model_dir` (arrays and a manifest: no pickle, no scikit-learn),
    warm it up and make it what the API answers with: the start-up of every host of the API."""
    models = model_files.load(model_dir)
    example = parse_predict(json.dumps(EXAMPLE_REQUEST))
    models.predict_card(example.card)  # first calls are slower
    models.predict_recipe(example.recipe)
    runtime = Runtime.start(models, tag, model_dir, large_workers, host)
    install(runtime)
    if gc.isenabled():  # a host that turned the collector off for its start-up (the Lambda handler) skips it
        gc.collect()
    gc.freeze()  # what is loaded now lives as long as the process: keep it out of GC passes
    gc.set_threshold(*GC_THRESHOLDS)
    return runtime


def shut_down() -> None:
    """Stop the installed runtime's workers and send what the prediction log holds (a clean
    shutdown loses no record): the shutdown of every host of the API."""
    API.state.runtime.close()
    prediction_log.installed().close()


async def predict(request: Request) -> Response:
    started = time.perf_counter()
    runtime: Runtime = request.app.state.runtime
    request_id, sink = request.scope["state"][REQUEST_ID], prediction_log.installed()
    try:
        body = await read_body(request)
        if runtime.large is not None and len(body) > LARGE_BODY_BYTES:
            log_as = (request_id, runtime.host, started) if sink.enabled else None
            response, logged = await runtime.large.predict(body, runtime.tag, log_as)
        else:
            answer = await runtime.predict(parse_predict(body))
            response = response_json(answer, runtime.tag)
            # what its records are made of: they are made off the request path, where they are sent
            logged = answered(request_id, runtime.host, started, len(answer), body, response) if sink.enabled else None
    except BodyTooLarge as error:
        return JSONResponse([{"error": str(error)}], status_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    except ValidationError as error:
        return JSONResponse(error_body(error), status_code=HTTPStatus.BAD_REQUEST)
    except LargeBodyInvalid as invalid:
        return JSONResponse(invalid.body, status_code=HTTPStatus.BAD_REQUEST)
    except ClientDisconnect:
        return Response(status_code=HTTPStatus.BAD_REQUEST)  # nobody is left to read it
    if logged is not None:
        sink.put(logged)
    return Response(response, media_type="application/json")


async def tinseth(request: Request) -> Response:
    try:
        estimates = parse_tinseth(await read_body(request))
    except BodyTooLarge as error:
        return JSONResponse([{"error": str(error)}], status_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    except ValidationError as error:
        return JSONResponse(error_body(error), status_code=HTTPStatus.BAD_REQUEST)
    except ClientDisconnect:
        return Response(status_code=HTTPStatus.BAD_REQUEST)
    return Response(TinsethResponse.model_construct(estimates=estimates).model_dump_json(),
                    media_type="application/json")  # fmt: skip


_HOPS_BODY = known_hops().model_dump_json().encode()


async def hops(request: Request) -> Response:
    return Response(_HOPS_BODY, media_type="application/json")


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body; BodyTooLarge as soon as it is known to pass `limit` (unread beyond it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


REQUEST_ID = "request_id"
_SANE_ID = re.compile(r"[A-Za-z0-9._:/=+-]{1,128}")


class RequestIds:
    """Gives every request an id (the client's `X-Request-ID` if sane, else a new one), in
    `scope["state"]["request_id"]` and in the answer's `X-Request-ID` header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sent = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"").decode("latin-1")
        request_id = sent if _SANE_ID.fullmatch(sent) else uuid.uuid4().hex
        scope.setdefault("state", {})[REQUEST_ID] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


API = Starlette(
    routes=[
        Route("/predict", predict, methods=["POST"]),
        Route("/tinseth", tinseth, methods=["POST"]),
        Route("/hops", hops, methods=["GET"]),
    ],
    middleware=[Middleware(RequestIds)],
)
