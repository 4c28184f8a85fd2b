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
from sklearn.pipeline import Pipeline

from beer_platform.serving import MODEL_NAME


def save_model(
    pipeline: Pipeline,
    metrics: dict[str, float],
    data_version: str,
    features: list[str],
    extra_metadata: dict[str, Any] | None = None,
) -> str:
    """Save `pipeline` as a new version of `ibu_model`; returns its tag ("ibu_model:<version>").

    The metadata carries the evaluation metrics, the training data's version (content hash) and
    the input fields, so the current model can be compared with a candidate without loading it.
    """
    metadata: dict[str, Any] = {
        "metrics": {name: float(value) for name, value in metrics.items()},
        "data_version": data_version,
        "features": list(features),
        **(extra_metadata or {}),
    }
    labels = {"task": "regression", "target": "ibu", "data_version": data_version[:12]}
    saved = bentoml.sklearn.save_model(
        MODEL_NAME, pipeline, labels=labels, metadata=metadata, signatures={"predict": {"batchable": True}}
    )
    return str(saved.tag)


def latest_model_info() -> dict[str, Any] | None:
    """{"tag", "metadata", "labels", "created"} of the newest `ibu_model`, or None if there is none.

    `metadata["metrics"]["cv_mae"]` is what a candidate must not exceed by more than 5%
    (`core.model_gate.judge`).
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
