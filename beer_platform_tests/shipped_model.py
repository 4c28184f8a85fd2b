"""`python -m beer_platform_tests.shipped_model`: save an IBU model trained on the shipped dataset
into $BENTOML_HOME, for tests and benchmarks that need a model without materializing the graph
(in a subprocess of its own: BentoML fixes its home once per process). Prints the tag."""

from __future__ import annotations

import argparse

from beer_platform.lake.recipe_tables import recipe_tables
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.serving import model_store
from beer_platform.training import card_model, ibu_models, recipe_model
from beer_platform.training.rows import data_version, target, training_rows
from beer_platform_tests.beer_frames import shipped_beers


def shipped_models() -> ibu_models.IBUModels:
    """Both models fit on the shipped dataset, unevaluated."""
    rows, _ = training_rows(shipped_beers())
    tables = recipe_tables(load_beers())
    X = recipe_model.lake_matrix(rows, tables.beer_hops, tables.recipes)
    return ibu_models.IBUModels(card_model.fit(rows), recipe_model.fit(X, target(rows)))


def save_shipped_model(evaluate: bool) -> str:
    beers = shipped_beers()
    rows, counts = training_rows(beers)
    tables = recipe_tables(load_beers())
    if evaluate:
        trained = ibu_models.train(rows, tables.beer_hops, tables.recipes)
        models, metrics = trained.models, trained.metrics
    else:
        models, metrics = shipped_models(), {name: {"rows": float(rows.height)} for name in ibu_models.MODELS}
    return model_store.save_model(models.compiled(), metrics, data_version(beers, tables.beer_hops, tables.recipes),
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
