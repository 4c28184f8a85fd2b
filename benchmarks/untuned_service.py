"""BentoML as it comes, for bench_serving's "untuned" row: the request parsing, model and answer of
`beer_platform.serving`, through BentoML's own API layer (`@bentoml.api` with IO models) and its
default configuration, with none of the service's tuning (no micro-batching, no gc.freeze, a
sync-style predict in a worker thread).

    python -m beer_platform.local.model_server benchmarks.untuned_service:UntunedIBUModelService
"""

from __future__ import annotations

from typing import Any, ClassVar

import anyio
import bentoml
from _bentoml_sdk.io_models import IORootModel
from starlette.requests import Request
from starlette.responses import Response

from beer_platform.serving import MODEL_NAME
from beer_platform.serving.model_store import load_models
from beer_platform.serving.schemas import PredictResponse, Prediction, parse_predict, predict_now


class PredictInput(IORootModel[Any]):  # a PredictBatch (numpy rows: no pydantic type)
    __root_input__ = True  # what BentoML sets for an api with one positional-only parameter

    @classmethod
    async def from_http_request(cls, request: Request, serde: Any) -> PredictInput:
        return cls.model_construct(root=parse_predict(await request.body()))


class PredictOutput(IORootModel[list[Prediction]]):
    model_tag: ClassVar[str] = "unknown"  # set when the service loads its model

    @classmethod
    async def to_http_response(cls, obj: Any, serde: Any) -> Response:
        answer = PredictResponse.model_construct(predictions=obj, model=cls.model_tag)
        return Response(answer.model_dump_json(), media_type="application/json")


# The same service name, so that BENTOML_CONFIG_OVERRIDES for "ibu_model_service" applies alike.
@bentoml.service(name="ibu_model_service")
class UntunedIBUModelService:
    model_ref = bentoml.models.BentoModel(f"{MODEL_NAME}:latest")

    def __init__(self) -> None:
        stored = self.model_ref
        PredictOutput.model_tag = str(stored.tag)
        self.models = load_models(stored)

    @bentoml.api(route="/predict", input_spec=PredictInput, output_spec=PredictOutput)
    async def predict(self, batch: Any, /) -> list[Prediction]:
        return await anyio.to_thread.run_sync(predict_now, self.models, batch)
