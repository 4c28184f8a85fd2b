"""What the Lambda function serves: the API of `api` and the routes BentoML's server adds to it,
without BentoML's server.

A function answers one request at a time, and its cold start is a user's wait. Importing
BentoML's SDK and server app is most of that start (docs/benchmarks.md#lambda), and serving
uses none of what it brings: its cloud client, its bento builder, its proxy app, its process
manager. So the function serves the bento's API app and what the bento build rendered, and
answers BentoML's own routes the way its server does:

- `/healthz`, `/livez`, `/readyz`: 200 once the function's init (the model load) is done;
- `/docs.json`: the OpenAPI document the bento holds (`apis/openapi.yaml`, rendered by
  `bentoml build` from the service), and `/schema.json`, the bento's service schema;
- `/` and `/static_content/`: BentoML's Swagger UI, its files read from the installed package;
- `/metrics`: this sandbox's process metrics (the function's own are CloudWatch's).
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from beer_platform.serving import api

HOST = "lambda"  # what serves the API, in its prediction records


def create(bento_dir: Path, model_dir: Path, tag: str) -> Starlette:
    """The function's app, serving the stored model at `model_dir` (tag `tag`) of the bento at `bento_dir`.

    Large bodies are handled in the process: the function answers one request at a time and has no
    room for a worker pool.
    """
    api.serve(str(model_dir), tag, large_workers=0, host=HOST)
    apis = bento_dir / "apis"
    swagger_ui = _package_dir("_bentoml_impl") / "server" / "main-openapi.html"

    async def alive(_: Request) -> Response:
        return PlainTextResponse("\n")

    async def openapi(_: Request) -> Response:
        return Response(_json_of_yaml(apis / "openapi.yaml"), media_type="application/json")

    async def schema(_: Request) -> Response:
        return FileResponse(apis / "schema.json", media_type="application/json")

    async def index(_: Request) -> Response:
        return FileResponse(swagger_ui)

    return Starlette(routes=[
        *(Route(path, alive) for path in ("/healthz", "/livez", "/readyz")),
        Route("/docs.json", openapi),
        Route("/schema.json", schema),
        Route("/metrics", metrics),
        Route("/", index),
        Mount("/static_content", StaticFiles(directory=_package_dir("bentoml") / "_internal" / "server" / "static_content")),
        Mount("/", api.API),
    ])  # fmt: skip


async def metrics(_: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # when asked, not in the cold start

    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@functools.cache
def _json_of_yaml(path: Path) -> bytes:
    import yaml  # when asked, not in the cold start

    return json.dumps(yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))).encode()


def _package_dir(name: str) -> Path:
    """Where an installed package's files are, without importing it (a top-level package's spec is
    found, not loaded)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{name} is not installed: the function serves its files", name=name)
    return Path(spec.submodule_search_locations[0])
