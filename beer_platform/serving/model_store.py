"""The IBU model in the BentoML model store: save a trained pipeline, read what is current.

The store is `$BENTOML_HOME/models` (default `~/bentoml`; the Makefile sets `.bentoml/` in the
checkout). BentoML reads BENTOML_HOME lazily, the first time anything touches the store in a
process, and keeps it for the life of the process: set it before that (importing bentoml alone
does not fix it).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import bentoml
from bentoml.exceptions import NotFound
from beer_platform.core import recipe_model
from beer_platform.core.features import FEATURES
from beer_platform.core.ibu_models import CARD, MODELS, RECIPE, IBUModels
from beer_platform.serving import MODEL_NAME


def save_model(
    models: IBUModels,
    metrics: dict[str, dict[str, float]],
    data_version: str,
    extra_metadata: dict[str, Any] | None = None,
) -> str:
    """Save both models (`core.ibu_models.IBUModels`) as a new version of `ibu_model`; returns its
    tag ("ibu_model:<version>").

    The metadata carries each model's evaluation metrics (`{"card": {...}, "recipe": {...}}`),
    the training data's version (content hash) and each model's input columns, so the current
    models can be compared with candidates without loading them.
    """
    metadata: dict[str, Any] = {
        "metrics": {model: {name: float(value) for name, value in values.items()} for model, values in metrics.items()},
        "data_version": data_version,
        "inputs": {CARD: list(FEATURES), RECIPE: list(recipe_model.INPUT_COLUMNS)},
        **(extra_metadata or {}),
    }
    labels = {"task": "regression", "target": "ibu", "models": "+".join(MODELS), "data_version": data_version[:12]}
    saved = bentoml.sklearn.save_model(MODEL_NAME, models, labels=labels, metadata=metadata)
    return str(saved.tag)


def stored_metrics(info: dict[str, Any] | None) -> dict[str, dict[str, float]] | None:
    """Each stored model's metrics from `latest_model_info()`, by name; None without a model.

    A model saved before the recipe model existed holds the card model's metrics, flat.
    """
    if info is None:
        return None
    metrics = info["metadata"].get("metrics", {})
    return {CARD: metrics} if "cv_mae" in metrics else metrics


def latest_model_info() -> dict[str, Any] | None:
    """{"tag", "metadata", "labels", "created"} of the newest `ibu_model`, or None if there is none.

    `stored_metrics` reads each model's metrics from it: what a candidate of the same name must
    not exceed by more than 5% in CV MAE (`core.model_gate.judge_models`).
    """
    try:
        model = bentoml.models.get(f"{MODEL_NAME}:latest")
    except NotFound:
        return None
    return {
        "tag": str(model.tag),
        "metadata": dict(model.info.metadata),
        "labels": dict(model.info.labels),
        "created": model.info.creation_time.isoformat(),
    }


def export_to_s3(tag: str, s3: Any, bucket: str) -> str:
    """Copy a saved model to `s3://bucket/models/<name>/<version>.bentomodel`, so that it outlives
    this machine's model store; returns the URI. `s3` is a boto3 S3 client."""
    name, version = tag.split(":", 1)
    key = f"models/{name}/{version}.bentomodel"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{version}.bentomodel"
        bentoml.models.export_model(tag, str(path))
        s3.upload_file(str(path), bucket, key)
    return f"s3://{bucket}/{key}"
