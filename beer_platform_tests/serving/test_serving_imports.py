"""The serving path imports no training library: scikit-learn, scipy and polars were most of the
Lambda's cold start, and the service runs the compiled models (`predict.predictor`) instead
(`make lint-imports` forbids the imports; this checks what a running service really loads).

In fresh interpreters: a model is trained and saved into a temporary BENTOML_HOME, then the
service's modules are imported, the stored model is loaded as the service loads it and answers
a card beer and a recipe, and nothing of scikit-learn, scipy or polars is in `sys.modules`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from beer_platform.local import model_server as server
from beer_platform.settings import SOURCE_ROOT

TRAINING_LIBRARIES = {"sklearn", "scipy", "polars"}

SERVE_WITHOUT_TRAINING_LIBRARIES = f"""
import json, sys
import beer_platform.serving.service, beer_platform.serving.schemas, beer_platform.serving.model_store
import beer_platform.serving.openapi, beer_platform.serving.microbatch
from beer_platform.serving import MODEL_NAME
from beer_platform.serving.model_store import load_models
from beer_platform.serving.schemas import BUZZ_RECIPE, known_hops, parse_predict, parse_tinseth, predict_now

imported_by_import = sorted({{name.split(".")[0] for name in sys.modules}} & {TRAINING_LIBRARIES!r})
models = load_models(f"{{MODEL_NAME}}:latest")
buzz = {{"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4}}
answered = predict_now(models, parse_predict(json.dumps([buzz, {{**buzz, **BUZZ_RECIPE}}])))
parse_tinseth(json.dumps([{{**buzz, **BUZZ_RECIPE}}]))
known_hops()
print(json.dumps({{"imported_by_import": imported_by_import,
                  "imported": sorted({{name.split(".")[0] for name in sys.modules}} & {TRAINING_LIBRARIES!r}),
                  "answered": [prediction.model for prediction in answered]}}))
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("bentoml_home")
    saved = subprocess.run([sys.executable, "-m", "beer_platform_tests.shipped_model", "--no-evaluate"],
                           env=server.service_env(home), cwd=SOURCE_ROOT, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert saved.returncode == 0, saved.stderr[-3000:]
    return home


def test_the_service_loads_and_answers_without_scikit_learn_scipy_or_polars(home: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SERVE_WITHOUT_TRAINING_LIBRARIES], env=server.service_env(home),
                          cwd=SOURCE_ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"imported_by_import": [], "imported": [], "answered": ["card", "recipe"]}


FUNCTION_APP_WITHOUT_BENTOML = """
import json, os, sys, tempfile
from pathlib import Path
store = Path(os.environ["BENTOML_HOME"]) / "models" / "ibu_model"  # the layout the image ships
version = (store / "latest").read_text().strip()
model_dir, tag = store / version, f"ibu_model:{version}"
from starlette.testclient import TestClient
from beer_platform.serving import function_app
client = TestClient(function_app.create(Path(tempfile.mkdtemp()), model_dir, tag))
buzz = {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4}
answer = client.post("/predict", json=[buzz]).json()
print(json.dumps({"model": answer["model"], "ready": client.get("/readyz").status_code,
                  "bentoml": sorted(name for name in sys.modules if "bentoml" in name)}))
"""


def test_the_lambdas_app_answers_without_importing_bentoml(home: Path) -> None:
    """BentoML's SDK and server app are most of a cold start; the function serves without them."""
    done = subprocess.run([sys.executable, "-c", FUNCTION_APP_WITHOUT_BENTOML], env=server.service_env(home),
                          cwd=SOURCE_ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["model"].startswith("ibu_model:") and seen["ready"] == 200
    assert seen["bentoml"] == []
