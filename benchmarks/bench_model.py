"""The recipe model's candidates side by side: accuracy, physics, and the compiled model's predict time.

    python -m benchmarks.bench_model [--only name,name]

Each candidate is a learner on the recipe model's own features (`recipe_model.RecipeFeatures`),
evaluated with the project's protocol on the shipped dataset (`evaluation.Protocol`, seed 42,
the 317 training rows in id order): repeated 5x5-fold CV MAE, and grouped CV MAE (recipes
sharing a hop schedule in one fold). Then fit on every row, and its physics measured on every
recipe of the catalogue with boiled hops (`physics.figures`, as the gate does): the share whose
IBU rises with every boil addition x1.5, x2, x3, and falls with no hops at all. Differences
under about 0.2 MAE are noise (the mean moves 0.15-0.3 between CV seeds).

Last, the single-row `predict_recipe` of the compiled `IBUPredictor` (what the service runs) for
the model shipped before the physics (extra-trees, 100 trees), the one shipped now (a line and
2 x 50 trees) and the same with 2 x 100 trees, interleaved, median and p99 of many calls, with
the ratios to the first.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import Pipeline

from benchmarks.machine import describe_machine
from beer_platform.lake.recipe_tables import recipe_tables
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.predict.features import CARD_DERIVED, RECIPE_FEATURE_NAMES
from beer_platform.predict.inputs import NUMERIC_FEATURES
from beer_platform.predict.predictor import IBUPredictor
from beer_platform.training import card_model, physics, recipe_model
from beer_platform.training.compile import forest_of
from beer_platform.training.evaluation import SEED, Protocol, cross_validated
from beer_platform.training.ibu_models import IBUModels
from beer_platform.training.line_forests import LineAndForests, monotonic_constraints
from beer_platform.training.rows import target, training_rows
from beer_platform_tests.beer_frames import shipped_beers

N_FEATURES = len(NUMERIC_FEATURES) + len(CARD_DERIVED) + len(RECIPE_FEATURE_NAMES)
PREDICT_CALLS = 3000


class Doubled(RegressorMixin, BaseEstimator):
    """A pipeline fit on the rows plus a copy of each with twice the boil hops and twice the IBU."""

    def __init__(self, pipeline: Any = None) -> None:
        self.pipeline = pipeline

    def fit(self, X: np.ndarray, y: np.ndarray) -> Doubled:
        self.pipeline_ = self.pipeline.fit(np.vstack([X, physics.with_boil_scaled(X, 2.0)]), np.concatenate([y, 2 * y]))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.pipeline_.predict(X)


def _recipe(learner: Any) -> Pipeline:
    return Pipeline([("features", recipe_model.RecipeFeatures()), ("model", learner)])


def _monotonic_forest(seed: int) -> TransformedTargetRegressor:
    forest = RandomForestRegressor(n_estimators=card_model.N_TREES, min_samples_leaf=2, random_state=seed, n_jobs=1,
                                   monotonic_cst=monotonic_constraints(N_FEATURES))  # fmt: skip
    return TransformedTargetRegressor(regressor=forest, func=np.log1p, inverse_func=np.expm1, check_inverse=False)


def _line(**options: Any) -> Callable[[int], Pipeline]:
    """A `LineAndForests` variant (one forest alone: 100 trees, as the others)."""
    alone = options.get("free_weight") in (0.0, 1.0)
    return lambda seed: _recipe(LineAndForests(seed, **({"n_trees": 100} if alone else {}), **options))


BEFORE, BIGGER = "extra-trees on log1p(ibu) (shipped before)", "line 0.4 + free (copies) / monotonic, 2 x 100 trees"
CANDIDATES: dict[str, Callable[[int], Any]] = {
    BEFORE: lambda seed: _recipe(card_model.log1p_forest(seed)),
    "that, fit with a copy at x2 hops and x2 IBU": lambda seed: Doubled(_recipe(card_model.log1p_forest(seed))),
    "random forest on log1p(ibu), monotonic on the boil features": lambda seed: _recipe(_monotonic_forest(seed)),
    "line (least squares) + extra-trees": _line(slope=None, free_weight=1.0, spread=None),
    "line 0.4 + monotonic extra-trees": _line(free_weight=0.0, spread=None),
    "line (least squares) + free / monotonic, 2 x 50 trees": _line(slope=None, spread=None),
    "line 0.4 + free / monotonic, 2 x 50 trees": _line(spread=None),
    BIGGER: _line(n_trees=100),
    "line 0.4 + free (copies) / monotonic, 2 x 50 trees: shipped": recipe_model.build_pipeline,
}


def measure(build: Callable[[int], Any], X: np.ndarray, y: np.ndarray, protocol: Protocol,
            every_recipe: np.ndarray) -> dict[str, float]:  # fmt: skip
    started = time.perf_counter()
    random = cross_validated(build(SEED), X, y, protocol.folds)[0]["mae"].mean()
    grouped = cross_validated(build(SEED), X, y, protocol.grouped_folds)[0]["mae"].mean()
    model = build(SEED).fit(X, y)
    figures = physics.figures(model.predict, every_recipe)
    return {"cv_mae": random, "grouped_cv_mae": grouped, **figures, "seconds": time.perf_counter() - started}


def compiled_variants(rows: Any, X: np.ndarray, y: np.ndarray) -> dict[str, IBUPredictor]:
    """The compiled model as shipped, with 2 x 100 trees, and with the recipe model shipped before
    (its forest, no line) in its place."""
    card = card_model.fit(rows)
    now = IBUModels(card, recipe_model.fit(X, y)).compiled()
    bigger = IBUModels(card, CANDIDATES[BIGGER](SEED).fit(X, y)).compiled()
    before = forest_of(CANDIDATES[BEFORE](SEED).fit(X, y).named_steps["model"])
    return {"before: 100 trees": dataclasses.replace(now, recipe_line=(0.0, 0.0), recipe_forest=before),
            "now: a line + 2 x 50 trees": now, "a line + 2 x 100 trees": bigger}  # fmt: skip


def predict_times(predictors: dict[str, IBUPredictor], row: np.ndarray) -> dict[str, tuple[float, float]]:
    """Median and p99 ms of one-row `predict_recipe` for each predictor, calls interleaved."""
    times: dict[str, list[float]] = {name: [] for name in predictors}
    for _ in range(PREDICT_CALLS):
        for name, predictor in predictors.items():
            started = time.perf_counter()
            predictor.predict_recipe(row)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: (float(np.median(ms)), float(np.percentile(ms, 99))) for name, ms in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated candidate names (default: all)")
    chosen = parser.parse_args().only
    beers = shipped_beers()
    rows, _ = training_rows(beers)
    tables = recipe_tables(load_beers())
    X, y = recipe_model.lake_matrix(rows, tables.beer_hops, tables.recipes), target(rows)
    every_recipe = recipe_model.lake_matrix(beers, tables.beer_hops, tables.recipes)
    protocol = Protocol(y, recipe_model.hop_schedule_groups(X), SEED)
    print(describe_machine())
    print("## Recipe model candidates: accuracy (seed 42) and physics (share of recipes with boiled hops)\n")
    print("| candidate | CV MAE | grouped MAE | x1.5 | x2 | x3 | no hops | s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, build in CANDIDATES.items():
        if chosen and name not in chosen.split(","):
            continue
        r = measure(build, X, y, protocol, every_recipe)
        shares = " | ".join(f"{100 * r[key]:.1f}%" for key in physics.figure_names())
        print(f"| {name} | {r['cv_mae']:.2f} | {r['grouped_cv_mae']:.2f} | {shares} | {r['seconds']:.0f} |", flush=True)
    print(f"\n(physics over {int(r['physics_recipes'])} recipes; gate: at least 98% in every column)\n")
    times = predict_times(compiled_variants(rows, X, y), X[:1])
    print(f"## Compiled single-row predict_recipe ({PREDICT_CALLS} calls each, interleaved)\n")
    first = next(iter(times.values()))[0]
    for name, (median, p99) in times.items():
        print(f"{name}: median {median:.3f} ms ({median / first:.2f}x), p99 {p99:.3f} ms")


if __name__ == "__main__":
    main()
