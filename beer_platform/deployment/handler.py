"""AWS Lambda entry point for the IBU service; shipped into the image as `lambda_handler.py`.

Self-contained on purpose: nothing here imports `beer_platform` except through the bento's
`src/` (put on sys.path below), so the image needs only the bento, the model and its packages.
Never import this module from the platform: importing it IS the container's start-up.

Everything slow happens once per container, at import (Lambda's init phase):
- `PROMETHEUS_MULTIPROC_DIR` must name a writable dir before `bentoml` is imported (its metrics
  client reads it then); the code dir is read-only, so it lives under /tmp.
- BENTOML_HOME is the shipped `bentoml_home/`, used in place: it holds the model, a `latest`
  file (BentoML rewrites a missing one) and the empty `bentos/ envs/ tmp/` dirs; serving never
  writes there (the image runs with a read-only root, in `verify` as in AWS).
- The ASGI lifespan (BentoML's start-up: the service instance, i.e. the model load) is entered
  once on a persistent event loop set as current, and Mangum runs with `lifespan="off"`: its
  default would run start-up and shutdown around every invocation.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

INIT_STARTED = time.perf_counter()
HERE = Path(__file__).resolve().parent
BENTO_DIR = HERE / "bento"
SHIPPED_HOME = HERE / "bentoml_home"
SCRATCH = Path("/tmp/ibu-lambda")  # Lambda's only writable place


def _prepare_environment() -> None:
    metrics = SCRATCH / "prometheus"
    shutil.rmtree(metrics, ignore_errors=True)  # a restarted runtime must not inherit old pids' files
    metrics.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    home = SHIPPED_HOME
    os.environ["BENTOML_HOME"] = str(home)
    _check_models(home)
    os.environ["BENTOML_DO_NOT_TRACK"] = "True"  # no usage-stats calls from a function
    src = str(BENTO_DIR / "src")
    if src not in sys.path:  # resolved, as BentoML compares it, so load() leaves it in place
        sys.path.insert(0, src)


def _check_models(home: Path) -> None:
    """Fail with a clear message when the model bento.yaml names is not what `latest` gives.

    Otherwise BentoML goes looking for it in BentoCloud, and on a read-only home the error is
    a PermissionError on its cloud config file.
    """
    import yaml  # a BentoML dependency

    info = yaml.safe_load((BENTO_DIR / "bento.yaml").read_text())
    for service in info.get("services", []):
        for model in service.get("models", []):
            name, version = model["tag"].split(":", 1)
            latest = home / "models" / name / "latest"
            if not (home / "models" / name / version).is_dir():
                raise RuntimeError(f"model {model['tag']} (named in bento.yaml) is missing from {home / 'models'}")
            if not latest.is_file() or latest.read_text().strip() != version:
                raise RuntimeError(f"{latest} must name {version}: the service serves {name}:latest")


def _start_service() -> tuple[Any, Any]:  # (Mangum, LifespanCycle)
    import bentoml
    from mangum import Mangum
    from mangum.protocols import LifespanCycle

    app = bentoml.load(str(BENTO_DIR)).to_asgi()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # Mangum and LifespanCycle both run on the current loop
    lifespan = LifespanCycle(app, "on")  # "on": a failed start-up raises here, at init
    lifespan.__enter__()  # exited only when the process ends: the container's lifetime is the app's
    atexit.register(_shut_down, lifespan)
    return Mangum(app, lifespan="off"), lifespan


def _shut_down(lifespan: Any) -> None:
    # A runtime that exits normally runs BentoML's shutdown (a killed one never gets here).
    try:
        lifespan.__exit__(None, None, None)
    except Exception:  # noqa: BLE001 - nothing is left to report to at exit
        pass


_prepare_environment()
handler, _lifespan = _start_service()
INIT_SECONDS = time.perf_counter() - INIT_STARTED
