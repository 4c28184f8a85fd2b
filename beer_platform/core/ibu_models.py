"""The two IBU models served together: the card model and the recipe model, trained and compared.

Pure: no Dagster, BentoML or AWS. `IBUModels` is what training makes and evaluates; the model
store holds its compiled form (`IBUModels.compiled`, `compiled_model.CompiledIBUModels`: numpy
only, what the service loads), one saved model, so both are gated, saved, exported, built into
the bento and deployed together, and "the model" of an answer is one tag. `card` is `training`'s pipeline over the fields of a beer's card
(`features.FEATURES`), for clients that send no recipe; `recipe` is `recipe_model`'s, over the
card fields plus the hop schedule, for records that carry `ingredients.hops`.

`train` evaluates both on the same repeated 5x5-fold protocol, plus a grouped CV for both (beers
sharing a hop schedule kept in one fold: what a new recipe would see) and the Tinseth estimate
alone, calibrated (`tinseth_cv_*`); `comparison_table` and `comparison_plot` show them side by side.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from beer_platform.core import recipe_model, training
from beer_platform.core.compiled_model import CARD, MODELS, RECIPE, CompiledIBUModels, compile_models
from beer_platform.core.compiled_model import TINSETH_COLUMN as _TINSETH_COLUMN
from beer_platform.core.group_folds import repeated_group_folds
from beer_platform.core.training import SEED, TrainedModel, cross_validated, summarise

__all__ = ["CARD", "MODELS", "RECIPE", "IBUModels", "TrainedModels", "train"]  # the names: compiled_model's


class IBUModels(BaseEstimator):
    """Both fitted pipelines (a scikit-learn estimator, as the model store held it before it held
    `compiled`). Answers as the service does, through scikit-learn."""

    def __init__(self, card: Pipeline | None = None, recipe: Pipeline | None = None) -> None:
        self.card = card
        self.recipe = recipe

    def predict_card(self, X: np.ndarray) -> np.ndarray:
        """IBU per row of `features.FEATURES` (`training.as_matrix`)."""
        return self.card.predict(X)

    def predict_recipe(self, X: np.ndarray) -> np.ndarray:
        """(n, 2): the recipe model's IBU and the Tinseth estimate, per row of
        `recipe_model.INPUT_COLUMNS`, from one pass of the features."""
        features = self.recipe.named_steps["features"].transform(X)
        return np.column_stack([self.recipe.named_steps["model"].predict(features), features[:, _TINSETH_COLUMN]])

    def compiled(self) -> CompiledIBUModels:
        """Both models as the service runs them: numpy arrays, no scikit-learn (the same answers)."""
        return compile_models(self.card, self.recipe)


@dataclass(frozen=True)
class TrainedModels:
    models: IBUModels
    card: TrainedModel  # metrics: training.train's, plus grouped_cv_*
    recipe: TrainedModel  # metrics: recipe_model.train's (grouped_cv_*, tinseth_cv_* included)
    tinseth_estimate: np.ndarray  # the raw estimate of each training row, for the plot

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        return {CARD: self.card.metrics, RECIPE: self.recipe.metrics}


def train(rows: pl.DataFrame, beer_hops: pl.DataFrame, recipes: pl.DataFrame, seed: int = SEED) -> TrainedModels:
    """Both models on the training rows (`features.training_rows` of the cleaned beers) with the
    recipe tables (`recipe_tables`), each evaluated, then fit on every row."""
    y = training.target(rows)
    X_recipe = recipe_model.lake_matrix(rows, beer_hops, recipes)
    recipe = recipe_model.train(X_recipe, y, seed)
    card = training.train(rows, seed)
    grouped_folds = repeated_group_folds(recipe_model.hop_schedule_groups(X_recipe), seed)
    grouped = cross_validated(training.build_pipeline(seed), training.as_matrix(rows), y, grouped_folds)[0]
    card = TrainedModel(card.pipeline, {**card.metrics, **summarise("grouped_cv", grouped)}, card.actual,
                        card.out_of_fold)  # fmt: skip
    estimate = recipe.pipeline.named_steps["features"].tinseth_ibu(X_recipe)
    return TrainedModels(IBUModels(card.pipeline, recipe.pipeline), card, recipe, estimate)


def data_version(beers: pl.DataFrame, beer_hops: pl.DataFrame, recipes: pl.DataFrame) -> str:
    """sha256 over the three tables' content hashes (`training.content_hash`)."""
    hashes = ",".join(training.content_hash(frame) for frame in (beers, beer_hops, recipes))
    return hashlib.sha256(hashes.encode()).hexdigest()


# --- comparison -----------------------------------------------------------------------------------


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
    """`comparison` as a Markdown table, with each model's single-row predict time."""
    lines = ["| | CV MAE | CV RMSE | CV R2 |", "|---|---:|---:|---:|"]
    for label, scores in comparison(metrics).items():
        lines.append(f"| {label} | {scores['mae']:.2f} | {scores['rmse']:.2f} | {scores['r2']:.3f} |")
    timings = ", ".join(f"{name} {metrics[name]['single_row_predict_ms']:.2f} ms" for name in MODELS)
    return "\n".join([*lines, "", f"Single-row predict (median, in process): {timings}."])


def comparison_plot(actual: np.ndarray, card: np.ndarray, recipe: np.ndarray, tinseth: np.ndarray) -> bytes:
    """A 900x300 PNG: out-of-fold predictions of each model and the raw Tinseth estimate against
    the listed IBU (log scales: the dataset runs from 0 to 250), with y = x."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3), dpi=100, layout="constrained")
    panels = {"card model (out of fold)": card, "recipe model (out of fold)": recipe, "Tinseth estimate": tinseth}
    top = float(max(actual.max(), *(values.max() for values in panels.values())) * 1.1) + 1
    for axes, (title, values) in zip(figure.subplots(1, 3, sharey=True), panels.items(), strict=True):
        axes.scatter(actual + 1, values + 1, s=5, alpha=0.6)
        axes.plot([1, top], [1, top], color="black", linewidth=0.8)
        axes.set(xscale="log", yscale="log", xlim=(1, top), ylim=(1, top), xlabel="listed IBU + 1")
        axes.set_title(title, fontsize=8)
        axes.tick_params(labelsize=7)
        axes.xaxis.label.set_size(8)
    figure.axes[0].set_ylabel("predicted IBU + 1", fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def headline(metrics: dict[str, dict[str, float]]) -> str:
    """One line for the run summary."""
    card, recipe = metrics[CARD], metrics[RECIPE]
    return (f"recipe CV MAE {recipe['cv_mae']:.2f}, R2 {recipe['cv_r2']:.3f} (grouped {recipe['grouped_cv_mae']:.2f}); "
            f"card {card['cv_mae']:.2f}, R2 {card['cv_r2']:.3f}; mean predictor {card['baseline_cv_mae']:.2f}")  # fmt: skip


def rounded(metrics: dict[str, dict[str, float]], digits: int = 4) -> dict[str, Any]:
    return {name: {key: round(float(value), digits) for key, value in values.items()} for name, values in metrics.items()}
