"""`python -m beer_platform_tests.shipped_model`: save an IBU model trained on the shipped dataset
into $BENTOML_HOME, for tests and benchmarks that need a model without materializing the graph
(in a subprocess of its own: BentoML fixes its home once per process). Prints the tag."""

from __future__ import annotations

import argparse

from beer_platform.core import training
from beer_platform.core.features import FEATURES, training_rows
from beer_platform.serving import model_store
from beer_platform_tests.beer_frames import shipped_beers


def save_shipped_model(evaluate: bool) -> str:
    rows, counts = training_rows(shipped_beers())
    if evaluate:
        trained = training.train(rows)
        pipeline, metrics = trained.pipeline, trained.metrics
    else:
        pipeline, metrics = training.fit(rows), {"rows": float(rows.height)}
    return model_store.save_model(pipeline, metrics, training.content_hash(rows), FEATURES,
                                  extra_metadata={"training_rows": counts, "source": "shipped dataset"})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-evaluate", action="store_true", help="skip the repeated CV (faster)")
    parser.add_argument("--force", action="store_true", help="save a new model even if the store has one")
    args = parser.parse_args()
    current = model_store.latest_model_info()
    print(current["tag"] if current and not args.force else save_shipped_model(evaluate=not args.no_evaluate))


if __name__ == "__main__":
    main()
