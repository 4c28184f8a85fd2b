"""The IBU model in the BentoML model store: save a trained pipeline, read what is current.

The store is `$BENTOML_HOME/models` (default `~/bentoml`; the Makefile sets `.bentoml/` in the
checkout). BentoML reads BENTOML_HOME lazily, the first time anything touches the store in a
process, and keeps it for the life of the process: set it before that (importing bentoml alone
does not fix it). `python -m beer_platform.serving.model_store` trains on the shipped dataset and
saves a model when the store has none, so that `bentoml serve` has something to serve.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import bentoml
from bentoml.exceptions import NotFound
from sklearn.pipeline import Pipeline

MODEL_NAME = "ibu_model"


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


def train_shipped_model(evaluate_model: bool = True) -> str:
    """Train on the dataset shipped with the package and save it; returns the tag."""
    import polars as pl

    from beer_platform.core import training
    from beer_platform.core.cleaning import CLEANED_SCHEMA
    from beer_platform.core.features import FEATURES, training_rows
    from beer_platform.local.punkapi_replica import load_beers

    beers = pl.DataFrame([{field: beer.get(field) for field in CLEANED_SCHEMA} for beer in load_beers()],
                         schema=CLEANED_SCHEMA)  # fmt: skip
    rows, counts = training_rows(beers)
    metrics = training.evaluate(rows) if evaluate_model else {"rows": float(rows.height)}
    pipeline = training.fit(rows)
    return save_model(pipeline, metrics, training.content_hash(rows), FEATURES,
                      extra_metadata={"training_rows": counts, "source": "shipped dataset"})  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Save an IBU model trained on the shipped dataset.")
    parser.add_argument("--force", action="store_true", help="train and save even if a model exists")
    parser.add_argument("--no-evaluate", action="store_true", help="skip the repeated CV (faster)")
    args = parser.parse_args(argv)
    current = latest_model_info()
    if current is None or args.force:
        print(train_shipped_model(evaluate_model=not args.no_evaluate))
    else:
        print(json.dumps({"tag": current["tag"], "note": "a model exists; --force to train anew"}))


if __name__ == "__main__":
    main()
