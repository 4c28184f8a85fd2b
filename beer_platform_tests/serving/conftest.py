"""The served model, shared by the serving tests: both models trained on the shipped dataset and
saved into a temporary BENTOML_HOME (in a subprocess: BentoML fixes its home once per process),
then served by the model server on a free 127.0.0.1 port for the whole package."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from beer_platform.local import model_server as server
from beer_platform.settings import SOURCE_ROOT

METRICS = {"card": {"cv_mae": 16.1, "cv_r2": 0.49}, "recipe": {"cv_mae": 12.2, "cv_r2": 0.72}}

# Trains both models on the shipped dataset, saves them with known metrics, reports what the store says.
SAVE_MODEL = f"""
import json
from beer_platform.training.rows import training_rows
from beer_platform.serving import model_store
from beer_platform_tests.beer_frames import shipped_beers
from beer_platform_tests.shipped_model import shipped_models

rows, counts = training_rows(shipped_beers())
assert model_store.latest_model_info() is None
tag = model_store.save_model(shipped_models().compiled(), {METRICS!r}, "0" * 64, extra_metadata={{"training_rows": counts}})
print(json.dumps({{"tag": tag, "info": model_store.latest_model_info()}}))
"""


@pytest.fixture(scope="package")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bentoml_home")


@pytest.fixture(scope="package")
def saved(home: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", SAVE_MODEL], env=server.service_env(home), cwd=SOURCE_ROOT,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="package")
def service(home: Path, saved: dict[str, Any]) -> Iterator[server.RunningService]:
    with server.running_service(0, bentoml_home=home) as running:
        yield running
    assert running.process.returncode is not None


@pytest.fixture(scope="package")
def client(service: server.RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30) as http:
        yield http


