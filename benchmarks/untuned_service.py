"""BentoML as it comes, for bench_serving's "untuned" row: the request parsing, model and answer of
`beer_platform.serving.service`, with BentoML's default configuration and none of the service's
tuning (no micro-batching, no gc.freeze, tracing and the access log on, a sync-style predict in a
worker thread).

    bentoml serve benchmarks.untuned_service:UntunedIBUModelService   (from the checkout)
"""

from __future__ import annotations

import anyio
import bentoml

from beer_platform.serving import MODEL_NAME
from beer_platform.serving.model_store import load_models
from beer_platform.serving.schemas import PredictBatch, Prediction, predict_now
from beer_platform.serving.service import PredictInput, PredictOutput

# The same service name, so that BENTOML_CONFIG_OVERRIDES for "ibu_model_service" applies alike.
@bentoml.service(name="ibu_model_service")
class UntunedIBUModelService:
    model_ref = bentoml.models.BentoModel(f"{MODEL_NAME}:latest")

    def __init__(self) -> None:
        stored = self.model_ref
        PredictOutput.model_tag = str(stored.tag)
        self.models = load_models(stored)

    @bentoml.api(route="/predict", input_spec=PredictInput, output_spec=PredictOutput)
    async def predict(self, batch: PredictBatch, /) -> list[Prediction]:
        return await anyio.to_thread.run_sync(predict_now, self.models, batch)
