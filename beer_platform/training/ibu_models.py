"""The two IBU models served together, trained and compared on one protocol.

Pure: no Dagster, BentoML or AWS. `card` is `card_model`'s pipeline, for clients that send no
recipe; `recipe` is `recipe_model`'s, for records that carry `ingredients.hops`. `train`
evaluates both on the same folds (`evaluation.Protocol`: repeated 5x5-fold CV, grouped by hop
schedule, the mean predictor; the card model's 70/30 split; the Tinseth estimate alone,
calibrated, beside the recipe model), fits both on every row, measures whether the compiled
recipe model follows the physics on every recipe with boiled hops (`physics.figures`, among the
recipe model's metrics), and compiles them into the one `IBUPredictor` the model store holds, so
both are gated, saved and deployed together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from beer_platform.predict.features import TINSETH_COLUMN
from beer_platform.predict.predictor import CARD, MODELS, RECIPE, IBUPredictor
from beer_platform.training import card_model, physics, recipe_model
from beer_platform.training.compile import predictor_of
from beer_platform.training.evaluation import SEED, Protocol, TrainedModel
from beer_platform.training.rows import card_matrix, target

__all__ = ["CARD", "MODELS", "RECIPE", "IBUModels", "TrainedModels", "train"]


@dataclass(frozen=True)
class IBUModels:
    """Both fitted pipelines, answering as `IBUPredictor` does, through scikit-learn."""

    card: Any
    recipe: Any

    def predict_card(self, X: np.ndarray) -> np.ndarray:
        return self.card.predict(X)

    def predict_recipe(self, X: np.ndarray) -> np.ndarray:
        """(n, 2): the recipe model's IBU and the Tinseth estimate, from one pass of the features."""
        features = self.recipe.named_steps["features"].transform(X)
        return np.column_stack([self.recipe.named_steps["model"].predict(features), features[:, TINSETH_COLUMN]])

    def compiled(self) -> IBUPredictor:
        return predictor_of(self.card, self.recipe)


@dataclass(frozen=True)
class TrainedModels:
    models: IBUModels
    card: TrainedModel
    recipe: TrainedModel
    tinseth_estimate: np.ndarray  # the raw estimate of each training row, for the plot

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        return {CARD: self.card.metrics, RECIPE: self.recipe.metrics}


def train(rows: pl.DataFrame, beer_hops: pl.DataFrame, recipes: pl.DataFrame, seed: int = SEED,
          beers: pl.DataFrame | None = None) -> TrainedModels:  # fmt: skip
    """Both models on the training rows (`rows.training_rows` of the cleaned beers) with the recipe
    tables, each evaluated on the same folds, then fit on every row; the physics judged on the
    recipes of every beer of `beers` (the whole catalogue: no IBU needed), by default the rows'."""
    X_recipe = recipe_model.lake_matrix(rows, beer_hops, recipes)
    protocol = Protocol(target(rows), recipe_model.hop_schedule_groups(X_recipe), seed)
    recipe = protocol.evaluate(recipe_model.build_pipeline, X_recipe,
                               extras={"tinseth_cv": recipe_model.build_tinseth_pipeline})  # fmt: skip
    card = protocol.evaluate(card_model.build_pipeline, card_matrix(rows), split=True)
    models = IBUModels(card.pipeline, recipe.pipeline)
    judged = X_recipe if beers is None else recipe_model.lake_matrix(beers, beer_hops, recipes)
    compiled = models.compiled()  # the physics of the model as served
    figures = physics.figures(lambda X: compiled.predict_recipe(X)[:, 0], judged)
    recipe = replace(recipe, metrics={**recipe.metrics, **figures})
    estimate = recipe.pipeline.named_steps["features"].tinseth_ibu(X_recipe)
    return TrainedModels(models, card, recipe, estimate)


def comparison(metrics: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Row label -> MAE, RMSE, R2 (means over the 25 folds): both models under random and grouped
    folds, the Tinseth estimate alone (calibrated), the mean predictor."""
    card, recipe = metrics[CARD], metrics[RECIPE]

    def row(source: dict[str, float], prefix: str) -> dict[str, float]:
        return {score: source[f"{prefix}_{score}"] for score in ("mae", "rmse", "r2")}

    return {
        "recipe model": row(recipe, "cv"),
        "recipe model, grouped folds": row(recipe, "grouped_cv"),
        "card model": row(card, "cv"),
        "card model, grouped folds": row(card, "grouped_cv"),
        "Tinseth estimate alone, calibrated": row(recipe, "tinseth_cv"),
        "mean predictor": row(recipe, "baseline_cv"),
    }


def comparison_table(metrics: dict[str, dict[str, float]]) -> str:
    """`comparison` as a Markdown table."""
    lines = ["| | CV MAE | CV RMSE | CV R2 |", "|---|---:|---:|---:|"]
    for label, scores in comparison(metrics).items():
        lines.append(f"| {label} | {scores['mae']:.2f} | {scores['rmse']:.2f} | {scores['r2']:.3f} |")
    return "\n".join(lines)


def headline(metrics: dict[str, dict[str, float]]) -> str:
    """One line for the run summary."""
    card, recipe = metrics[CARD], metrics[RECIPE]
    return (f"recipe CV MAE {recipe['cv_mae']:.2f}, R2 {recipe['cv_r2']:.3f} (grouped {recipe['grouped_cv_mae']:.2f}"
            f"{physics_summary(recipe)}); card {card['cv_mae']:.2f}, R2 {card['cv_r2']:.3f}; "
            f"mean predictor {card['baseline_cv_mae']:.2f}")  # fmt: skip


def physics_summary(recipe: dict[str, float]) -> str:
    """", more hops more IBU x1.5/x2/x3 99.7/99.7/99.4%, none less 100%" from the recipe model's
    metrics; empty for a model measured before the physics was."""
    names = physics.figure_names()
    if not all(name in recipe for name in names):
        return ""
    scaled = "/".join(f"{100 * recipe[name]:.1f}" for name in names[:-1])
    factors = "/".join(physics.factor_name(factor).replace("_", ".") for factor in physics.FACTORS)
    return f", more hops more IBU {factors} {scaled}%, none less {100 * recipe[names[-1]]:.1f}%"


def rounded(metrics: dict[str, dict[str, float]], digits: int = 4) -> dict[str, Any]:
    return {name: {key: round(float(value), digits) for key, value in values.items()} for name, values in metrics.items()}
