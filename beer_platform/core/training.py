"""The IBU model: a scikit-learn pipeline, its honest evaluation, importances and plots.

Pure: no Dagster, BentoML or AWS. The pipeline's input is a 2-D object array with one row per
beer and the columns of `features.FEATURES` in that order (name first; numbers as floats or
None); `as_matrix` builds one from a polars frame or from records. A polars frame is accepted
directly too. Nulls in any numeric field and an empty or null name are handled by the pipeline.

Why this model (repeated 5x5-fold CV, seed 42, on the 317 training rows):
extra-trees on log1p(ibu) over the numbers alone gives MAE 17.4, R2 0.40; the name carries what
the numbers miss (style words, and mostly BrewDog's series: "Hello My Name Is ...", "IPA Is
Dead", "Small Batch", "Prototype"), so name words seen in at least two training names become 0/1
features: MAE 16.1, R2 0.49 (16.2 and 0.49 on average over five CV seeds not used to choose
it). Ridge (MAE 20.8), histogram gradient boosting (17.7) and a random forest (17.0, and 10x
slower) on the same features did worse. scikit-learn's forest `predict` sends every tree through
joblib (~50 us a tree for one row); `FastExtraTreesRegressor` loops over the fitted trees, and
`Log1pTargetRegressor` skips TransformedTargetRegressor's per-call validation: a single-row
predict of the whole pipeline takes ~0.4 ms instead of ~5.5 ms.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.inspection import permutation_importance
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.model_selection import RepeatedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from beer_platform.core.compiled_model import card_features, tokens
from beer_platform.core.features import FEATURES, NUMERIC_FEATURES, TARGET

SEED = 42
CV_SPLITS = 5
CV_REPEATS = 5
CV_JOBS = -1  # folds fit in parallel, one thread per core
SPLIT_TEST_SIZE = 0.3
SPLIT_SEED = 42
N_TREES = 100
MIN_NAME_DF = 2  # a name word must occur in this many training names to become a feature


# --- input ---------------------------------------------------------------------------------------


def as_matrix(data: pl.DataFrame | Iterable[Mapping[str, Any]] | np.ndarray) -> np.ndarray:
    """The pipeline's input: an (n, 7) object array of `FEATURES`, from a frame or records."""
    if isinstance(data, np.ndarray):
        return data.reshape(-1, len(FEATURES)) if data.size == 0 else data
    if isinstance(data, pl.DataFrame):
        rows: list[Any] = data.select(FEATURES).rows()
    else:
        rows = [[record.get(field) for field in FEATURES] for record in data]
    return np.array(rows, dtype=object).reshape(len(rows), len(FEATURES))


def target(rows: pl.DataFrame) -> np.ndarray:
    return rows[TARGET].to_numpy().astype(np.float64)


# --- the pipeline --------------------------------------------------------------------------------


class BeerFeatures(TransformerMixin, BaseEstimator):
    """Object rows of `FEATURES` -> floats: the 6 numbers (nulls -> training medians), 3 derived
    ones, and one 0/1 column per name word seen in >= `min_df` training names (the transform is
    `compiled_model.card_features`, which the served model runs too)."""

    def __init__(self, min_df: int = MIN_NAME_DF) -> None:
        self.min_df = min_df

    def fit(self, X: Any, y: Any = None) -> BeerFeatures:
        matrix = as_matrix(X)
        numbers = _numbers(matrix)
        with warnings.catch_warnings():  # a column with no value at all: its median is nan, then 0
            warnings.simplefilter("ignore", RuntimeWarning)
            medians = np.nanmedian(numbers, axis=0) if len(numbers) else np.full(numbers.shape[1], np.nan)
        self.medians_ = np.where(np.isnan(medians), 0.0, medians)
        counts = Counter(token for name in matrix[:, 0] for token in tokens(name))
        kept = sorted(token for token, count in counts.items() if count >= self.min_df)
        self.vocabulary_ = {token: i for i, token in enumerate(kept)}
        self.n_features_in_ = len(FEATURES)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "vocabulary_")
        return card_features(as_matrix(X), self.medians_, self.vocabulary_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "vocabulary_")
        derived = ["og_minus_fg", "apparent_attenuation", "log1p_ebc"]
        return np.array([*NUMERIC_FEATURES, *derived, *(f"name_has_{t}" for t in self.vocabulary_)], dtype=object)


def _numbers(matrix: np.ndarray) -> np.ndarray:
    return matrix[:, 1:].astype(np.float64)  # None -> nan


class FastExtraTreesRegressor(ExtraTreesRegressor):
    """ExtraTreesRegressor whose `predict` sums the trees in a plain loop.

    Same result as the parent's; the parent runs each tree through joblib (and a lock), which
    costs more than the trees themselves for a handful of rows.
    """

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        data = np.ascontiguousarray(X, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} features, got shape {data.shape}")
        total = np.zeros(len(data), dtype=np.float64)
        for tree in self.estimators_:
            total += tree.tree_.predict(data)[:, 0]
        return total / len(self.estimators_)


class Log1pTargetRegressor(RegressorMixin, BaseEstimator):
    """Fits `regressor` on log1p(y) and answers expm1 of its predictions.

    What TransformedTargetRegressor(func=np.log1p, inverse_func=np.expm1) does, without its
    per-call input validation, which costs a quarter of a single-row predict.
    """

    def __init__(self, regressor: Any) -> None:
        self.regressor = regressor

    def fit(self, X: Any, y: Any) -> Log1pTargetRegressor:
        self.regressor_ = clone(self.regressor).fit(X, np.log1p(np.asarray(y, dtype=np.float64)))
        self.n_features_in_ = self.regressor_.n_features_in_
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "regressor_")
        return np.expm1(self.regressor_.predict(X))


def build_pipeline(seed: int = SEED) -> Pipeline:
    """Unfitted: name words + numbers -> extra-trees on log1p(ibu) (ibu is right-skewed)."""
    forest = FastExtraTreesRegressor(n_estimators=N_TREES, min_samples_leaf=2, random_state=seed, n_jobs=1)
    return Pipeline([("features", BeerFeatures()), ("model", Log1pTargetRegressor(forest))])


def fit(rows: pl.DataFrame, seed: int = SEED) -> Pipeline:
    """The pipeline fit on all training rows (see `features.training_rows`)."""
    return build_pipeline(seed).fit(as_matrix(rows), target(rows))


# --- training and evaluation ---------------------------------------------------------------------


@dataclass(frozen=True)
class TrainedModel:
    """The pipeline fit on every training row, and how well it generalises.

    `metrics`: repeated 5-fold CV of the pipeline and of a mean predictor (means over the 25 folds,
    and standard deviations for the pipeline; MAE and RMSE in IBU), one 70/30 split, and the
    fitted pipeline's single-row predict time. `actual` and `out_of_fold` (the first CV repeat's
    predictions, each row predicted by a model that never saw it) are what the plots show.
    """

    pipeline: Pipeline
    metrics: dict[str, float]
    actual: np.ndarray
    out_of_fold: np.ndarray


def train(rows: pl.DataFrame, seed: int = SEED) -> TrainedModel:
    """Evaluate the pipeline on `rows` (see `features.training_rows`), then fit it on all of them, once."""
    X, y = as_matrix(rows), target(rows)
    folds = RepeatedKFold(n_splits=CV_SPLITS, n_repeats=CV_REPEATS, random_state=seed)
    metrics: dict[str, float] = {"rows": float(len(y))}
    scores, out_of_fold = cross_validated(build_pipeline(seed), X, y, folds.split(X))
    metrics |= summarise("cv", scores)
    baseline, _ = cross_validated(DummyRegressor(), X, y, folds.split(X))
    metrics |= {f"baseline_cv_{name}": float(values.mean()) for name, values in baseline.items()}

    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=SPLIT_TEST_SIZE, random_state=SPLIT_SEED)
    split = _scores(y_test, build_pipeline(seed).fit(X_train, y_train).predict(X_test))
    metrics |= {f"split_{name}": value for name, value in split.items()}

    pipeline = build_pipeline(seed).fit(X, y)
    metrics["single_row_predict_ms"] = single_row_predict_ms(pipeline, X[:1])
    return TrainedModel(pipeline=pipeline, metrics=metrics, actual=y, out_of_fold=out_of_fold)


def cross_validated(
    estimator: Any, X: np.ndarray, y: np.ndarray, splits: Iterable[tuple[np.ndarray, np.ndarray]]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Scores per fold (`mae`, `rmse`, `r2`) of a fresh clone of `estimator` fit on each training
    fold, and the out-of-fold predictions of the first pass over the rows (nan where a row was
    never held out)."""
    scores: dict[str, list[float]] = {"mae": [], "rmse": [], "r2": []}
    out_of_fold = np.full(len(y), np.nan)
    seen = np.zeros(len(y), dtype=bool)
    splits = list(splits)
    # Folds fit side by side on threads: scikit-learn builds trees without the GIL, each clone
    # keeps its own random_state, so the scores are the same as one fold after another.
    fits = Parallel(n_jobs=CV_JOBS, prefer="threads")(
        delayed(_fit_predict)(clone(estimator), X, y, train_rows, test_rows) for train_rows, test_rows in splits
    )
    for (_, test_rows), predicted in zip(splits, fits, strict=True):
        for name, value in _scores(y[test_rows], predicted).items():
            scores[name].append(value)
        first_pass = ~seen[test_rows]
        out_of_fold[test_rows[first_pass]] = predicted[first_pass]
        seen[test_rows] = True
    return {name: np.array(values) for name, values in scores.items()}, out_of_fold


def _fit_predict(estimator: Any, X: np.ndarray, y: np.ndarray, train_rows: np.ndarray, test_rows: np.ndarray) -> np.ndarray:
    return estimator.fit(X[train_rows], y[train_rows]).predict(X[test_rows])


def summarise(prefix: str, scores: dict[str, np.ndarray]) -> dict[str, float]:
    """`cross_validated` scores as `<prefix>_<score>` means and `<prefix>_<score>_std` deviations."""
    summary = {}
    for name, values in scores.items():
        summary[f"{prefix}_{name}"], summary[f"{prefix}_{name}_std"] = float(values.mean()), float(values.std())
    return summary


def _scores(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "mae": float(mean_absolute_error(actual, predicted)),
        "rmse": float(root_mean_squared_error(actual, predicted)),
        "r2": float(r2_score(actual, predicted)),
    }


def single_row_predict_ms(pipeline: Pipeline, row: np.ndarray, calls: int = 300) -> float:
    """Median wall time of `pipeline.predict` on one row, in milliseconds."""
    pipeline.predict(row)  # warm-up
    timings = []
    for _ in range(calls):
        start = time.perf_counter()
        pipeline.predict(row)
        timings.append(time.perf_counter() - start)
    return float(np.median(timings) * 1000)


def feature_importances(pipeline: Pipeline, rows: pl.DataFrame, seed: int = SEED) -> dict[str, float]:
    """Permutation importance per original field: the mean rise in MAE (IBU) when it is shuffled.

    Computed on `rows` as given: on the training rows it shows what the fitted model relies on,
    not what generalises.
    """
    result = permutation_importance(
        pipeline, as_matrix(rows), target(rows), scoring="neg_mean_absolute_error", n_repeats=5, random_state=seed
    )
    return {field: float(value) for field, value in zip(FEATURES, result.importances_mean, strict=True)}


def evaluation_plots(actual: np.ndarray, predicted: np.ndarray) -> bytes:
    """A 600x300 PNG: out-of-fold predicted vs actual IBU (with y = x), and residuals vs predicted."""
    from matplotlib.figure import Figure  # no pyplot: no global backend or state to manage

    figure = Figure(figsize=(6, 3), dpi=100, layout="constrained")
    left, right = figure.subplots(1, 2)
    top = float(max(actual.max(), predicted.max()) * 1.05)
    left.scatter(actual, predicted, s=6, alpha=0.6)
    left.plot([0, top], [0, top], color="black", linewidth=0.8)
    left.set(xlabel="actual IBU", ylabel="predicted IBU (out of fold)", xlim=(0, top), ylim=(0, top))
    right.scatter(predicted, actual - predicted, s=6, alpha=0.6)
    right.axhline(0, color="black", linewidth=0.8)
    right.set(xlabel="predicted IBU", ylabel="actual - predicted")
    for axes in (left, right):
        axes.tick_params(labelsize=7)
        axes.xaxis.label.set_size(8)
        axes.yaxis.label.set_size(8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def content_hash(beers: pl.DataFrame) -> str:
    """sha256 of the data's columns, dtypes and values, independent of row order."""
    ordered = beers.sort(beers.columns, nulls_last=True) if beers.height else beers
    document = {
        "columns": [[name, str(dtype)] for name, dtype in beers.schema.items()],
        "rows": [list(row) for row in ordered.rows()],
    }
    text = json.dumps(document, separators=(",", ":"), allow_nan=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
