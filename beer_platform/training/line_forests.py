"""The recipe model's learner: a line on log1p(Tinseth), and two extra-trees on what the line leaves.

    log1p(ibu) = intercept + SLOPE x log1p(Tinseth)
                 + FREE_WEIGHT x free(features) + (1 - FREE_WEIGHT) x monotonic(features)

on `recipe_model.RecipeFeatures`' matrix:

- the line carries the physics: more boiled hops, a higher Tinseth estimate, strictly more IBU.
  Its slope is set below the least-squares one (about 0.52) so that what it leaves still rises
  with the hops, which the monotonic forest can follow;
- `monotonic`: extra-trees constrained (`monotonic_cst` +1) on every feature that grows with the
  boiled hops, so it never answers less for more of them;
- `free`: extra-trees without constraints, where the accuracy is (beers sharing a family, how
  hops and the card interact). It is fit on the rows plus one copy of each with every boil
  addition scaled by a factor drawn log-uniform in [1/SPREAD, SPREAD], keeping the row's
  residual: scaling the hops moves a recipe along the line, and the forest learns not to pull
  it back. Drawn factors, not a fixed one: a model taught at one factor follows the hops there only.

docs/model.md compares this learner with the others measured (`benchmarks/bench_model.py`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.utils.validation import check_is_fitted

from beer_platform.predict.features import LOG_TINSETH_COLUMN, RECIPE_FEATURE_NAMES, TINSETH_COLUMN
from beer_platform.training.evaluation import SEED

SLOPE = 0.4
FREE_WEIGHT = 0.5
SPREAD = 2.0
MIN_SAMPLES_LEAF = 2
# Trees in each forest: 2 x 50 answer as well as 2 x 100 and the service walks as many trees as
# the card model's 100 (bench_model measures both).
N_TREES = 50

# The recipe features that scale with the grams of the boil additions (Tinseth is linear in grams).
_LINEAR_IN_BOIL = [
    -len(RECIPE_FEATURE_NAMES) + RECIPE_FEATURE_NAMES.index(name)
    for name in RECIPE_FEATURE_NAMES
    if name.startswith("tinseth_ibu") or (name.startswith("hop_grams_per_litre_") and not name.endswith("dry_hop"))
]


def boil_scaled(features: np.ndarray, factors: float | np.ndarray) -> np.ndarray:
    """`RecipeFeatures` rows as they would be with every boil addition's grams times `factors` (one
    per row, or one for all): the boil grams per litre and the Tinseth estimates scale, log1p
    follows; the card and the dry hops stay."""
    scaled = np.array(features, dtype=np.float64)
    factor = np.broadcast_to(np.asarray(factors, dtype=np.float64), (len(scaled),))[:, None]
    scaled[:, _LINEAR_IN_BOIL] *= factor
    scaled[:, LOG_TINSETH_COLUMN] = np.log1p(scaled[:, TINSETH_COLUMN])
    return scaled


def monotonic_constraints(n_features: int) -> np.ndarray:
    """+1 on every feature that grows with the boil additions, 0 elsewhere."""
    constraints = np.zeros(n_features, dtype=np.int64)
    constraints[[*_LINEAR_IN_BOIL, LOG_TINSETH_COLUMN]] = 1
    return constraints


class LineAndForests(RegressorMixin, BaseEstimator):
    """Fit on `RecipeFeatures`' matrix and the IBU; answers IBU (see the module docstring). The
    variants `benchmarks/bench_model.py` compares: `slope` None fits it by least squares,
    `spread` None fits the free forest on the rows alone."""

    def __init__(self, seed: int = SEED, slope: float | None = SLOPE, free_weight: float = FREE_WEIGHT,
                 spread: float | None = SPREAD, n_trees: int = N_TREES) -> None:  # fmt: skip
        self.seed = seed
        self.slope = slope
        self.free_weight = free_weight
        self.spread = spread
        self.n_trees = n_trees

    def fit(self, X: Any, y: Any) -> LineAndForests:
        features = np.asarray(X, dtype=np.float64)
        log_ibu = np.log1p(np.asarray(y, dtype=np.float64))
        log_tinseth = features[:, LOG_TINSETH_COLUMN]
        self.slope_ = float(np.polyfit(log_tinseth, log_ibu, 1)[0]) if self.slope is None else float(self.slope)
        self.intercept_ = float(np.mean(log_ibu - self.slope_ * log_tinseth))
        residual = log_ibu - self.line(features)
        copies, copied = features, residual
        if self.spread is not None:
            rng = np.random.default_rng(self.seed)
            factors = np.exp(rng.uniform(-math.log(self.spread), math.log(self.spread), len(features)))
            copies, copied = np.vstack([features, boil_scaled(features, factors)]), np.concatenate([residual, residual])
        self.free_ = self._forest(self.seed).fit(copies, copied)
        constraints = monotonic_constraints(features.shape[1])
        self.monotonic_ = self._forest(self.seed + 1, monotonic_cst=constraints).fit(features, residual)
        self.n_features_in_ = features.shape[1]
        return self

    def _forest(self, seed: int, **options: Any) -> ExtraTreesRegressor:
        return ExtraTreesRegressor(n_estimators=self.n_trees, min_samples_leaf=MIN_SAMPLES_LEAF, random_state=seed,
                                   n_jobs=1, **options)  # fmt: skip

    def line(self, X: np.ndarray) -> np.ndarray:
        """The line's log1p(ibu) per row."""
        check_is_fitted(self, "intercept_")
        return self.intercept_ + self.slope_ * np.asarray(X, dtype=np.float64)[:, LOG_TINSETH_COLUMN]

    def forests(self) -> list[tuple[ExtraTreesRegressor, float]]:
        """The fitted forests and the weight of each in the answer (a forest of weight 0 left out)."""
        check_is_fitted(self, "free_")
        weighted = [(self.free_, self.free_weight), (self.monotonic_, 1.0 - self.free_weight)]
        return [(forest, weight) for forest, weight in weighted if weight != 0.0]

    def predict(self, X: Any) -> np.ndarray:
        features = np.asarray(X, dtype=np.float64)
        log_ibu = self.line(features)
        for forest, weight in self.forests():
            log_ibu = log_ibu + weight * forest.predict(features)
        return np.expm1(log_ibu)
