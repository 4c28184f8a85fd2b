"""The IBU model in the BentoML model store: save the trained models, load them, read what is current.

What is stored is the compiled form (`predict.predictor.IBUPredictor`) as data: arrays and a JSON
manifest (`predict.model_files`), never a pickle, so loading it runs no code from the file and
imports no scikit-learn, scipy or polars.

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
import numpy as np
from bentoml.exceptions import NotFound
from beer_platform.predict import model_files
from beer_platform.predict.inputs import FEATURES, INPUT_COLUMNS
from beer_platform.predict.predictor import CARD, MODELS, RECIPE, IBUPredictor
from beer_platform.serving import MODEL_NAME


def save_model(
    predictor: IBUPredictor,
    metrics: dict[str, dict[str, float]],
    data_version: str,
    extra_metadata: dict[str, Any] | None = None,
) -> str:
    """Save both models as a new version of `ibu_model`; returns its tag ("ibu_model:<version>").

    The metadata carries each model's evaluation metrics (`{"card": {...}, "recipe": {...}}`),
    the training data's version (content hash) and each model's input columns, so the current
    models can be compared with candidates without loading them.
    """
    metadata: dict[str, Any] = {
        "metrics": {model: {name: float(value) for name, value in values.items()} for model, values in metrics.items()},
        "data_version": data_version,
        "inputs": {CARD: list(FEATURES), RECIPE: list(INPUT_COLUMNS)},
        **(extra_metadata or {}),
    }
    labels = {"task": "regression", "target": "ibu", "models": "+".join(MODELS), "data_version": data_version[:12]}
    context = bentoml.models.ModelContext(framework_name="numpy", framework_versions={"numpy": np.__version__})
    with bentoml.models.create(MODEL_NAME, labels=labels, metadata=metadata, context=context) as saved:
        model_files.save(predictor, saved.path)
    return str(saved.tag)


def load_models(model: Any) -> IBUPredictor:
    """The stored models of `model` (a `bentoml.models.BentoModel`, a stored `Model`, or a tag);
    `model_files.ModelFileError` if its files are not a model this code can load."""
    stored = bentoml.models.get(model) if isinstance(model, str) else model
    return model_files.load(stored.path)


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
    not exceed by more than 5% in CV MAE (`training.gate.judge_models`).
    """
    return model_info(f"{MODEL_NAME}:latest")


def model_info(tag: str) -> dict[str, Any] | None:
    """`latest_model_info` of the stored model `tag`, or None if the store does not hold it."""
    try:
        model = bentoml.models.get(tag)
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
