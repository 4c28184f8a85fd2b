"""`bentoml build` of the IBU service, offline, pinned to one model version.

The service asks for `ibu_model:latest`, and a bento records the model that name resolves to at
build time (bento.yaml, services[].models) but does not contain it. To build for a model other
than the newest, the build runs against a one-model staging store, so bento.yaml always names
exactly the model that `build_context` ships beside it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from beer_platform.serving import MODEL_NAME, SERVICE
from beer_platform.settings import SOURCE_ROOT

BENTO_NAME = "ibu_model_service"
# Only what the service imports: the Dagster assets, AWS clients and local stack stay out.
INCLUDE = ["beer_platform/__init__.py", "beer_platform/brewing/*.py", "beer_platform/brewing/data/*", "beer_platform/predict/*.py", "beer_platform/serving/*.py", "beer_platform/stream/*.py"]


@dataclass(frozen=True)
class BuiltBento:
    tag: str  # "ibu_model_service:<version>"
    path: Path  # the bento directory in $BENTOML_HOME/bentos
    model_tag: str  # "ibu_model:<version>", the one bento.yaml names
    model_path: Path  # that model's directory in $BENTOML_HOME/models


def lambda_group(project_root: Path = SOURCE_ROOT) -> list[str]:
    """The `lambda` dependency group of pyproject.toml: what the service needs at run time."""
    with (project_root / "pyproject.toml").open("rb") as file:
        return list(tomllib.load(file)["dependency-groups"]["lambda"])


def copy_model_into(home: Path, model_tag: str, model_path: Path) -> Path:
    """Copy one model version into the BentoML home `home`, with `latest` pointing at it.

    `latest` is written here because BentoML rewrites a missing one on first lookup, which
    fails on a read-only home.
    """
    name, version = model_tag.split(":", 1)
    target = home / "models" / name / version
    shutil.copytree(model_path, target, ignore=shutil.ignore_patterns("__pycache__"))
    (home / "models" / name / "latest").write_text(version)
    return target


@contextmanager
def _model_store_with_only(model_tag: str, model_path: Path) -> Iterator[None]:
    """Point BentoML's model store at a temporary store holding just `model_tag`."""
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml._internal.models import ModelStore

    previous = BentoMLContainer.model_store.get()
    with tempfile.TemporaryDirectory(prefix="ibu-model-staging-") as staging:
        copy_model_into(Path(staging), model_tag, model_path)
        BentoMLContainer.model_store.set(ModelStore(str(Path(staging) / "models")))
        try:
            yield
        finally:
            BentoMLContainer.model_store.set(previous)


def build_bento(model_tag: str | None = None, project_root: Path = SOURCE_ROOT) -> BuiltBento:
    """Build the service into $BENTOML_HOME/bentos for `model_tag` (default: the newest model).

    In a fresh interpreter: the service resolves `ibu_model:latest` when its module is imported,
    so a long-lived process (a test session, a Dagster code server) that imported it before a
    newer model was saved would build against a model that is no longer the one asked for.
    """
    done = subprocess.run(
        [sys.executable, "-m", "beer_platform.deployment.bento", model_tag or ""],
        cwd=project_root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"bentoml build failed ({done.returncode}):\n{done.stderr[-4000:]}")
    built = json.loads(done.stdout.strip().splitlines()[-1])
    return BuiltBento(tag=built["tag"], path=Path(built["path"]), model_tag=built["model_tag"],
                      model_path=Path(built["model_path"]))  # fmt: skip


def _build_here(model_tag: str | None, project_root: Path = SOURCE_ROOT) -> BuiltBento:
    """Offline: no package locking (that needs PyPI); the image pins its packages from uv.lock."""
    import bentoml

    model = bentoml.models.get(model_tag or f"{MODEL_NAME}:latest")
    resolved = str(model.tag)
    with _model_store_with_only(resolved, Path(model.path)):
        bento = bentoml.bentos.build(
            service=SERVICE,
            name=BENTO_NAME,
            include=INCLUDE,
            labels={"model": resolved.replace(":", "-")},
            python={"lock_packages": False, "packages": lambda_group(project_root)},
            build_ctx=str(project_root),
        )
    named = [str(m.tag) for service in bento.info.services for m in service.models]
    if named != [resolved]:  # the staging store makes this impossible; say so loudly if not
        raise RuntimeError(f"bento {bento.tag} names models {named}, expected [{resolved}]")
    return BuiltBento(tag=str(bento.tag), path=Path(bento.path), model_tag=resolved, model_path=Path(model.path))


if __name__ == "__main__":
    built = _build_here(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None)
    print(json.dumps({"tag": built.tag, "path": str(built.path), "model_tag": built.model_tag,
                      "model_path": str(built.model_path)}))  # fmt: skip
