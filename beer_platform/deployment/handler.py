"""AWS Lambda entry point for the IBU service; shipped into the image as `lambda_handler.py`.

Self-contained on purpose: nothing here imports `beer_platform` except through the bento's
`src/` (put on sys.path below), so the image needs only the bento, the model and its packages.
Never import this module from the platform: importing it IS the container's start-up.

Everything slow happens once per container, at import (Lambda's init phase), and the init is
the cold start beyond the container and the runtime client:
- `PROMETHEUS_MULTIPROC_DIR` must name a writable dir before `bentoml` is imported (its metrics
  client reads it then); the code dir is read-only, so it lives under /tmp.
- BENTOML_HOME is the shipped `bentoml_home/`, used in place: it holds the model, a `latest`
  file (BentoML rewrites a missing one) and the empty `bentos/ envs/ tmp/` dirs; serving never
  writes there (the image runs with a read-only root, in `verify` as in AWS).
- The service is imported from the bento's src as bento.yaml names it, not through
  `bentoml.load`, which would import BentoML's bento-building machinery for nothing.
- The ASGI lifespan (BentoML's start-up: the service instance, i.e. the model load) is entered
  once on a persistent event loop set as current, and Mangum runs with `lifespan="off"`: its
  default would run start-up and shutdown around every invocation.
- YAML is parsed with libyaml's `CSafeLoader` while the service starts (BentoML's
  `yaml.safe_load` is pure Python; the same objects, an order of magnitude faster).
- The garbage collector is off during the init: the modules and classes made then live as long
  as the process, so collecting finds little to free. The service freezes what it loaded
  (`gc.freeze`, see `service`) without the full collection it runs first elsewhere.
"""

from __future__ import annotations

import gc

gc.disable()  # until the init is done (see above)

import asyncio  # noqa: E402 - after gc.disable(), on purpose
import atexit  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

INIT_STARTED = time.perf_counter()
HERE = Path(__file__).resolve().parent
BENTO_DIR = HERE / "bento"
SHIPPED_HOME = HERE / "bentoml_home"
SCRATCH = Path("/tmp/ibu-lambda")  # Lambda's only writable place


def _prepare_environment() -> str:
    """Set up what BentoML reads from the environment; return the service bento.yaml names."""
    metrics = SCRATCH / "prometheus"
    shutil.rmtree(metrics, ignore_errors=True)  # a restarted runtime must not inherit old pids' files
    metrics.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    home = SHIPPED_HOME
    os.environ["BENTOML_HOME"] = str(home)
    info = _bento_info(home)
    os.environ["BENTOML_DO_NOT_TRACK"] = "True"  # no usage-stats calls from a function
    os.environ["BEER_PLATFORM_LARGE_REQUEST_WORKERS"] = "0"  # one request at a time, and no process pools
    os.environ["BEER_PLATFORM_SERVING_HOST"] = "lambda"  # in the prediction records
    src = str(BENTO_DIR / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    return info["service"]


def _bento_info(home: Path) -> dict[str, Any]:
    """bento.yaml, after checking that the model it names is what `latest` gives: otherwise
    BentoML goes looking for it in BentoCloud, and on a read-only home the error is a
    PermissionError on its cloud config file."""
    import yaml  # a BentoML dependency

    info = yaml.load((BENTO_DIR / "bento.yaml").read_text(), Loader=_safe_loader())
    for service in info.get("services", []):
        for model in service.get("models", []):
            name, version = model["tag"].split(":", 1)
            latest = home / "models" / name / "latest"
            if not (home / "models" / name / version).is_dir():
                raise RuntimeError(f"model {model['tag']} (named in bento.yaml) is missing from {home / 'models'}")
            if not latest.is_file() or latest.read_text().strip() != version:
                raise RuntimeError(f"{latest} must name {version}: the service serves {name}:latest")
    return info


def _safe_loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # SafeLoader if PyYAML was built without libyaml


@contextlib.contextmanager
def _libyaml_safe_load() -> Iterator[None]:
    """`yaml.safe_load` on libyaml (`CSafeLoader`) for the duration: the same objects, ~15x faster."""
    import yaml

    original, loader = yaml.safe_load, _safe_loader()
    yaml.safe_load = lambda stream: yaml.load(stream, Loader=loader)
    try:
        yield
    finally:
        yaml.safe_load = original


def _start_service(service: str) -> tuple[Any, Any]:  # (Mangum, LifespanCycle)
    """The service bento.yaml names (`module:attribute`), imported from the bento's src: not
    through `bentoml.load`, whose bento-building machinery the service never uses."""
    with _libyaml_safe_load():
        from mangum import Mangum
        from mangum.protocols import LifespanCycle

        from beer_platform.serving import prediction_log  # the bento's copy

        prediction_log.install(prediction_log.StdoutSink())  # to CloudWatch Logs; a subscription takes them on
        module, _, attribute = service.partition(":")
        app = getattr(importlib.import_module(module), attribute).to_asgi()
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


try:
    handler, _lifespan = _start_service(_prepare_environment())
finally:
    gc.enable()
INIT_SECONDS = time.perf_counter() - INIT_STARTED
