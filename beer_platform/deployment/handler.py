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

What the init costs (the cold start's share beyond the container and runtime, measured with
`python -X importtime` in the image): importing BentoML, its server app and our service, then
the model load. The models are served compiled (numpy only: no scikit-learn, scipy or polars,
which were ~2 s of it). Two more things are cut here, for the init only:
- YAML: BentoML reads bento.yaml (~48 KB: the APIs' schemas) with `yaml.safe_load`, pure Python,
  ~0.1 s a parse here, and so did the model check below; libyaml's `CSafeLoader` (in PyYAML's
  wheel) builds the same objects with the same constructor in ~7 ms. It stands in for
  `yaml.safe_load` while the service starts, and is put back after;
- the garbage collector: ~1,000 modules and their classes are created at init and all live as
  long as the process, so collecting while they are made finds little to free. It is off during
  the init and back on after. The service freezes what it loaded (`gc.freeze`, see `service`)
  without the full collection it runs first elsewhere (0.5-1.0 s in this container on a loaded
  machine; it would free ~8,000 objects of start-up garbage, which stay frozen instead).
"""

from __future__ import annotations

import gc

gc.disable()  # until the init is done (see above)

import asyncio  # noqa: E402 - after gc.disable(), on purpose
import atexit  # noqa: E402
import contextlib  # noqa: E402
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

    info = yaml.load((BENTO_DIR / "bento.yaml").read_text(), Loader=_safe_loader())
    for service in info.get("services", []):
        for model in service.get("models", []):
            name, version = model["tag"].split(":", 1)
            latest = home / "models" / name / "latest"
            if not (home / "models" / name / version).is_dir():
                raise RuntimeError(f"model {model['tag']} (named in bento.yaml) is missing from {home / 'models'}")
            if not latest.is_file() or latest.read_text().strip() != version:
                raise RuntimeError(f"{latest} must name {version}: the service serves {name}:latest")


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


def _start_service() -> tuple[Any, Any]:  # (Mangum, LifespanCycle)
    with _libyaml_safe_load():
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


try:
    _prepare_environment()
    handler, _lifespan = _start_service()
finally:
    gc.enable()
INIT_SECONDS = time.perf_counter() - INIT_STARTED
