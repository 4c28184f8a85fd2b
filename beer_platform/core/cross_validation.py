"""The project's evaluation protocol for any IBU model: repeated 5x5-fold CV, plain or grouped.

Pure scikit-learn. `cv_metrics` takes a pipeline factory (`build(seed)`) and its input matrix, so
every model (the card model of `training`, the recipe model) is measured on the same folds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold, RepeatedKFold, cross_validate

CV_SPLITS = 5
CV_REPEATS = 5
SCORING = {"mae": "neg_mean_absolute_error", "rmse": "neg_root_mean_squared_error", "r2": "r2"}


def folds(X: np.ndarray, seed: int, groups: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """5 repeats of 5 folds. With `groups`, rows sharing a group are always in the same fold
    (each repeat shuffles the groups with seed + repeat)."""
    if groups is None:
        return list(RepeatedKFold(n_splits=CV_SPLITS, n_repeats=CV_REPEATS, random_state=seed).split(X))
    return [
        split
        for repeat in range(CV_REPEATS)
        for split in GroupKFold(n_splits=CV_SPLITS, shuffle=True, random_state=seed + repeat).split(X, groups=groups)
    ]


def cv_metrics(
    build: Callable[[int], Any], X: np.ndarray, y: np.ndarray, seed: int, groups: np.ndarray | None = None
) -> dict[str, float]:
    """`cv_mae`, `cv_rmse`, `cv_r2` (means over the 25 folds; MAE and RMSE in IBU) and their `_std`."""
    scores = cross_validate(build(seed), X, y, cv=folds(X, seed, groups), scoring=SCORING)
    metrics: dict[str, float] = {}
    for name in SCORING:
        values = scores[f"test_{name}"] * (1 if name == "r2" else -1)
        metrics[f"cv_{name}"] = float(values.mean())
        metrics[f"cv_{name}_std"] = float(values.std())
    return metrics
