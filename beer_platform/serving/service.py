"""The BentoML service: the IBU models behind the API of `api`.

    beer-platform serve (make serve), or `bentoml serve` of the bento

The API (`POST /predict`, `POST /tinseth`, `GET /hops`) is the ASGI app of `api`, mounted at `/`;
BentoML adds `/healthz`, `/livez`, `/readyz`, `/metrics`, the OpenAPI document at `/docs.json`
(`openapi`) and Swagger UI at `/`, and packages the service with its model as a bento. The newest
`ibu_model` in the model store ($BENTOML_HOME) when the process starts is served (both of its
models, compiled: numpy only); restart to pick up a newer one.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import bentoml

from beer_platform.serving import MODEL_NAME, api
from beer_platform.serving.openapi import DocumentedService

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
# Worker processes for large bodies (`api.LARGE_BODY_BYTES`); 0 handles them in the serving process.
LARGE_WORKERS_ENV = "BEER_PLATFORM_LARGE_REQUEST_WORKERS"


@bentoml.service(name="ibu_model_service", service_class=DocumentedService, **SERVICE_CONFIG)
@bentoml.asgi_app(api.API, path="/")
class IBUModelService:
    """Predicts a beer's bitterness (IBU) from its card (strength, gravities, colour, pH, name) and,
    when it comes with one, its recipe (hop additions, batch volume)."""

    model_ref = bentoml.models.BentoModel(f"{MODEL_NAME}:latest")

    def __init__(self) -> None:
        stored = self.model_ref  # on an instance: the stored model "latest" resolved to, at start
        workers = int(os.environ.get(LARGE_WORKERS_ENV, "1"))
        api.serve(str(stored.path), str(stored.tag), workers, host="server")
        logging.getLogger(__name__).info("serving %s", stored.tag)

    @bentoml.on_shutdown
    def stop_workers(self) -> None:
        api.shut_down()
