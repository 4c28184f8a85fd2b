"""The evaluation protocol both IBU models share: repeated 5x5-fold CV, grouped CV, a mean predictor.

Pure: scikit-learn and numpy, no I/O. `Protocol` holds one data set's folds (random and grouped:
rows sharing a group, such as beers with one hop schedule, always land in the same fold, the
figure new data would see) and evaluates any pipeline builder on them, then fits it on every row.
Folds are fit side by side on threads: scikit-learn builds trees without the GIL and each clone
keeps its random_state, so the scores are those of one fold after another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.model_selection import GroupKFold, RepeatedKFold, train_test_split
from sklearn.utils.parallel import Parallel, delayed

SEED = 42
CV_SPLITS = 5
CV_REPEATS = 5
CV_JOBS = -1  # folds fit in parallel, one thread per core
SPLIT_TEST_SIZE = 0.3

Folds = list[tuple[np.ndarray, np.ndarray]]
Builder = Callable[[int], Any]  # seed -> an unfitted estimator


@dataclass(frozen=True)
class TrainedModel:
    """A model fit on every row, and how well it generalises.

    `metrics`: `rows`; `cv_*` (random folds: mean and `_std` of mae, rmse, r2), `grouped_cv_*`,
    `baseline_cv_*` (the mean predictor), and any extra protocol's (`split_*`, `tinseth_cv_*`).
    `actual` and `out_of_fold` (the first CV repeat's predictions, each row predicted by a model
    that never saw it) are what the plots show.
    """

    pipeline: Any
    metrics: dict[str, float]
    actual: np.ndarray
    out_of_fold: np.ndarray


@dataclass(frozen=True)
class Protocol:
    y: np.ndarray
    groups: np.ndarray  # a group number per row (grouped CV keeps a group in one fold)
    seed: int = SEED
    folds: Folds = field(init=False)
    grouped_folds: Folds = field(init=False)

    def __post_init__(self) -> None:
        rows = np.zeros((len(self.y), 1))
        random = RepeatedKFold(n_splits=CV_SPLITS, n_repeats=CV_REPEATS, random_state=self.seed)
        object.__setattr__(self, "folds", list(random.split(rows)))
        object.__setattr__(self, "grouped_folds", repeated_group_folds(self.groups, self.seed))

    def evaluate(self, build: Builder, X: np.ndarray, extras: dict[str, Builder] | None = None,
                 split: bool = False) -> TrainedModel:  # fmt: skip
        """`build(seed)` on the random and grouped folds, the mean predictor on the random ones,
        each of `extras` (prefix -> builder) on the random ones, a 70/30 split if asked; then fit on every row."""
        scores, out_of_fold = cross_validated(build(self.seed), X, self.y, self.folds)
        metrics = {"rows": float(len(self.y)), **summarise("cv", scores)}
        metrics |= summarise("grouped_cv", cross_validated(build(self.seed), X, self.y, self.grouped_folds)[0])
        for prefix, extra in (extras or {}).items():
            metrics |= summarise(prefix, cross_validated(extra(self.seed), X, self.y, self.folds)[0])
        baseline = cross_validated(DummyRegressor(), X, self.y, self.folds)[0]
        metrics |= {f"baseline_cv_{name}": float(values.mean()) for name, values in baseline.items()}
        if split:
            metrics |= {f"split_{name}": value for name, value in split_scores(build(self.seed), X, self.y, self.seed).items()}
        pipeline = build(self.seed).fit(X, self.y)
        return TrainedModel(pipeline=pipeline, metrics=metrics, actual=self.y, out_of_fold=out_of_fold)


def repeated_group_folds(groups: np.ndarray, seed: int) -> Folds:
    """CV_REPEATS passes of CV_SPLITS folds, groups kept whole; each pass shuffles the groups with seed + pass."""
    rows = np.zeros((len(groups), 1))
    return [
        split
        for repeat in range(CV_REPEATS)
        for split in GroupKFold(n_splits=CV_SPLITS, shuffle=True, random_state=seed + repeat).split(rows, groups=groups)
    ]


def cross_validated(
    estimator: Any, X: np.ndarray, y: np.ndarray, splits: Iterable[tuple[np.ndarray, np.ndarray]]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Scores per fold (`mae`, `rmse`, `r2`) of a fresh clone of `estimator` fit on each training
    fold, and the out-of-fold predictions of the first pass over the rows (nan where a row was
    never held out)."""
    splits = list(splits)
    fits = Parallel(n_jobs=CV_JOBS, prefer="threads")(
        delayed(_fit_predict)(clone(estimator), X, y, train_rows, test_rows) for train_rows, test_rows in splits
    )
    per_fold: dict[str, list[float]] = {"mae": [], "rmse": [], "r2": []}
    out_of_fold = np.full(len(y), np.nan)
    seen = np.zeros(len(y), dtype=bool)
    for (_, test_rows), predicted in zip(splits, fits, strict=True):
        for name, value in scores(y[test_rows], predicted).items():
            per_fold[name].append(value)
        first_pass = ~seen[test_rows]
        out_of_fold[test_rows[first_pass]] = predicted[first_pass]
        seen[test_rows] = True
    return {name: np.array(values) for name, values in per_fold.items()}, out_of_fold


def split_scores(estimator: Any, X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    """One 70/30 split: what published single-split results on this dataset report."""
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=SPLIT_TEST_SIZE, random_state=seed)
    return scores(y_test, estimator.fit(X_train, y_train).predict(X_test))


def _fit_predict(estimator: Any, X: np.ndarray, y: np.ndarray, train_rows: np.ndarray, test_rows: np.ndarray) -> np.ndarray:
    return estimator.fit(X[train_rows], y[train_rows]).predict(X[test_rows])


def summarise(prefix: str, per_fold: dict[str, np.ndarray]) -> dict[str, float]:
    """`cross_validated` scores as `<prefix>_<score>` means and `<prefix>_<score>_std` deviations."""
    summary = {}
    for name, values in per_fold.items():
        summary[f"{prefix}_{name}"], summary[f"{prefix}_{name}_std"] = float(values.mean()), float(values.std())
    return summary


def scores(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "mae": float(mean_absolute_error(actual, predicted)),
        "rmse": float(root_mean_squared_error(actual, predicted)),
        "r2": float(r2_score(actual, predicted)),
    }
