"""Large request bodies, parsed and predicted in a worker process.

A body of hundreds of recipes takes a good part of a second of pure Python to validate and turn
into features. On the serving process's event loop that would hold every other request behind
it (and the GIL with it); in a worker process it runs on the other core while the event loop
goes on answering small requests. The worker loads the same stored models (arrays: a few ms),
answers with the response's JSON and the request's prediction records as JSON lines (or the
400's error body): the parsed batch never comes back to the serving process. It is replaced every
`MAX_TASKS_PER_WORKER` bodies, so what large bodies leave behind in memory is returned to the
system instead of growing the serving process. A worker exits with the server, even one killed
outright (`lifetime`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from pydantic import ValidationError

from beer_platform.predict import model_files
from beer_platform.predict.predictor import IBUPredictor
from beer_platform.serving.lifetime import exit_with_parent
from beer_platform.serving.prediction_log import Lines, answered, lines, records
from beer_platform.serving.schemas import error_body, parse_predict, predict_now, response_json

MAX_TASKS_PER_WORKER = 50
_models: IBUPredictor | None = None  # the worker process's own


class LargeBodyInvalid(ValueError):
    """A large body did not validate; `body` is the 400's body (`schemas.error_body`)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["error"])
        self.body = body


class LargeRequests:
    def __init__(self, model_dir: str, workers: int = 1) -> None:
        # spawn, not fork: the serving process has threads (the event loop's executor, BentoML's)
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_load,
                                        initargs=(model_dir,), max_tasks_per_child=MAX_TASKS_PER_WORKER)  # fmt: skip

    async def predict(self, body: bytes, tag: str, log_as: tuple[str, str, float] | None) -> tuple[str, Lines | None]:
        """A /predict body's response (JSON) answered by the model `tag` and, given `log_as` (the
        request's id, the host, time.perf_counter() as it came in), its records' lines;
        LargeBodyInvalid when it does not validate."""
        outcome, value = await asyncio.get_running_loop().run_in_executor(self.pool, _predict, body, tag, log_as)
        if outcome == "invalid":
            raise LargeBodyInvalid(value)
        return value

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _load(model_dir: str) -> None:
    global _models
    exit_with_parent()
    _models = model_files.load(model_dir)


def _predict(body: bytes, tag: str, log_as: tuple[str, str, float] | None) -> tuple[str, Any]:
    try:
        batch = parse_predict(body)
    except ValidationError as error:  # sent back as the 400's body: a ValidationError does not pickle
        return "invalid", error_body(error)
    assert _models is not None, "the worker's initializer loads the models"
    answer = predict_now(_models, batch)
    response = response_json(answer, tag)
    if log_as is None:
        return "ok", (response, None)
    request_id, host, started = log_as
    return "ok", (response, lines(records(answered(request_id, host, started, len(answer), body, response), batch)))
