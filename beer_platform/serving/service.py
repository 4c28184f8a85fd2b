"""The BentoML service: the IBU models behind the API of `api`.

    beer-platform serve (make serve), or any host of `IBUModelService.to_asgi()`

The API (`POST /predict`, `POST /tinseth`, `GET /hops`) is the ASGI app of `api`, mounted at `/`;
BentoML adds `/healthz`, `/livez`, `/readyz`, `/metrics`, the OpenAPI document at `/docs.json`
(`openapi`) and Swagger UI at `/`, and packages the service with its model as a bento. The newest
`ibu_model` in the model store ($BENTOML_HOME) when the process starts is served (both of its
models, compiled: numpy only); restart to pick up a newer one.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from typing import Any

import bentoml

from beer_platform.serving import MODEL_NAME, api, prediction_log
from beer_platform.serving.model_store import load_models
from beer_platform.serving.openapi import DocumentedService
from beer_platform.serving.schemas import EXAMPLE_REQUEST, parse_predict

# Settings, each for a reason:
# - one worker: the benchmark compares one process with one; a second one fights the first for
#   two cores (override on a bigger host with BENTOML_CONFIG_OVERRIDES);
# - no access log: a formatted line per request costs more than the request (/metrics counts them);
# - /predict left out of tracing: the OpenTelemetry middleware costs on every request, exporter or not.
SERVICE_CONFIG: dict[str, Any] = {
    "workers": 1,
    "traffic": {"timeout": 60},
    "logging": {"access": {"enabled": False}},
    "tracing": {"excluded_urls": ["/predict", "/tinseth", "/hops"]},
    "metrics": {"enabled": True},
}
# After start-up the collector runs rarely: requests leave few objects behind, and at Python's
# default thresholds it ran dozens of times a second under load.
GC_THRESHOLDS = (50_000, 20, 100)
# Worker processes for large bodies (`api.LARGE_BODY_BYTES`); 0 handles them in the serving process
# (the Lambda, which answers one request at a time and cannot run a process pool).
LARGE_WORKERS_ENV = "BEER_PLATFORM_LARGE_REQUEST_WORKERS"
HOST_ENV = "BEER_PLATFORM_SERVING_HOST"  # what serves it ("server", "lambda"), in its prediction records


@bentoml.service(name="ibu_model_service", service_class=DocumentedService, **SERVICE_CONFIG)
@bentoml.asgi_app(api.API, path="/")
class IBUModelService:
    """Predicts a beer's bitterness (IBU) from its card (strength, gravities, colour, pH, name) and,
    when it comes with one, its recipe (hop additions, batch volume)."""

    model_ref = bentoml.models.BentoModel(f"{MODEL_NAME}:latest")

    def __init__(self) -> None:
        stored = self.model_ref  # on an instance: the stored model "latest" resolved to, at start
        models = load_models(stored)  # arrays and a manifest: no pickle, no scikit-learn
        example = parse_predict(json.dumps(EXAMPLE_REQUEST))
        models.predict_card(example.card)  # first calls are slower
        models.predict_recipe(example.recipe)
        workers = int(os.environ.get(LARGE_WORKERS_ENV, "1"))
        host = os.environ.get(HOST_ENV, "server")
        self.runtime = api.Runtime.start(models, str(stored.tag), str(stored.path), workers, host)
        api.install(self.runtime)
        logging.getLogger(__name__).info("serving %s", stored.tag)
        if gc.isenabled():  # a host that turned the collector off for its start-up (the Lambda handler) skips it
            gc.collect()
        gc.freeze()  # what is loaded now lives as long as the process: keep it out of GC passes
        gc.set_threshold(*GC_THRESHOLDS)

    @bentoml.on_shutdown
    def stop_workers(self) -> None:
        self.runtime.close()
        prediction_log.installed().close()  # what is queued is sent: a clean shutdown loses no record
