"""AWS Lambda entry point for the IBU service; shipped into the image as `lambda_handler.py`.

Self-contained on purpose: nothing here imports `beer_platform` except through the bento's
`src/` (put on sys.path below), so the image needs only the bento, the model and its packages.
Never import this module from the platform: importing it IS the container's start-up.

Everything slow happens once per container, at import (Lambda's init phase), and the init is
the cold start beyond the container and the runtime client:
- The function serves the bento's API app and its rendered documents (`serving.function_app`)
  through Mangum, not BentoML's server: importing that is most of a cold start, for code the
  function never runs.
- The model is the one the image's context.json names, shipped in `bentoml_home/` (the bento's
  model store layout), read in place: serving never writes there (the image runs with a
  read-only root, in `verify` as in AWS).
- Mangum runs with `lifespan="off"`: its default would run start-up and shutdown around every
  invocation; the app starts once, here.
- The garbage collector is off during the init: the modules and classes made then live as long
  as the process, so collecting finds little to free. The API freezes what it loaded
  (`api.serve`) without the full collection it runs first elsewhere.
"""

from __future__ import annotations

import gc

gc.disable()  # until the init is done (see above)

import asyncio  # noqa: E402 - after gc.disable(), on purpose
import atexit  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

INIT_STARTED = time.perf_counter()
HERE = Path(__file__).resolve().parent
BENTO_DIR = HERE / "bento"
SHIPPED_HOME = HERE / "bentoml_home"


def _start_function() -> Any:  # Mangum
    """The function's app for the model context.json names, behind Mangum; the API's prediction
    records go to stdout, i.e. CloudWatch Logs, where a subscription takes them on."""
    tag = json.loads((HERE / "context.json").read_text())["model"]
    name, version = tag.split(":", 1)
    model_dir = SHIPPED_HOME / "models" / name / version
    if not model_dir.is_dir():
        raise RuntimeError(f"model {tag} (named in context.json) is missing from {SHIPPED_HOME / 'models'}")
    src = str(BENTO_DIR / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    from mangum import Mangum

    from beer_platform.serving import function_app, prediction_log  # the bento's copy

    prediction_log.install(prediction_log.StdoutSink())
    app = function_app.create(BENTO_DIR, model_dir, tag)
    asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum runs each invocation on the current loop
    atexit.register(_shut_down)
    return Mangum(app, lifespan="off")


def _shut_down() -> None:
    # A runtime that exits normally sends what the log holds (a killed one never gets here).
    from beer_platform.serving import api

    try:
        api.shut_down()
    except Exception:  # noqa: BLE001 - nothing is left to report to at exit
        pass


try:
    handler = _start_function()
finally:
    gc.enable()
INIT_SECONDS = time.perf_counter() - INIT_STARTED
