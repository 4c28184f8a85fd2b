"""The card model: a beer's IBU from its card (name, abv, target_fg, target_og, ebc, srm, ph).

For clients that send no recipe. Extra-trees (100 trees, at least 2 samples a leaf) on
log1p(ibu) (ibu is right-skewed) over the features of `predict.features.card_features`: the
numbers, three derived ones, and one 0/1 column per name word seen in at least two training
names. The name carries what the numbers miss (style words, and mostly BrewDog's series: "Hello
My Name Is ...", "IPA Is Dead", "Small Batch", "Prototype"): with the words, repeated 5x5-fold
CV gives MAE 16.1, R2 0.49 against 17.4 / 0.40 on the numbers alone. docs/model.md compares the
candidates.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from beer_platform.predict.features import CARD_DERIVED, card_features, input_matrix, tokens
from beer_platform.predict.inputs import FEATURES, NUMERIC_FEATURES
from beer_platform.training.evaluation import SEED
from beer_platform.training.rows import card_matrix, target

N_TREES = 100
MIN_NAME_DF = 2  # a name word must occur in this many training names to become a feature


class BeerFeatures(TransformerMixin, BaseEstimator):
    """Rows of `FEATURES` -> `card_features`, with the medians and the name words (seen in >=
    `min_df` training names) learnt in `fit`."""

    def __init__(self, min_df: float = MIN_NAME_DF) -> None:
        self.min_df = min_df

    def fit(self, X: Any, y: Any = None) -> BeerFeatures:
        matrix = input_matrix(X, FEATURES)
        numbers = matrix[:, 1:].astype(np.float64)  # None -> nan
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
        return card_features(X, self.medians_, self.vocabulary_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "vocabulary_")
        return np.array([*NUMERIC_FEATURES, *CARD_DERIVED, *(f"name_has_{t}" for t in self.vocabulary_)], dtype=object)


def log1p_forest(seed: int) -> TransformedTargetRegressor:
    """Extra-trees fit on log1p(ibu), answering expm1 of their mean: the card model's learner."""
    forest = ExtraTreesRegressor(n_estimators=N_TREES, min_samples_leaf=2, random_state=seed, n_jobs=1)
    return TransformedTargetRegressor(regressor=forest, func=np.log1p, inverse_func=np.expm1, check_inverse=False)


def build_pipeline(seed: int = SEED) -> Pipeline:
    """Unfitted: name words + numbers -> extra-trees on log1p(ibu)."""
    return Pipeline([("features", BeerFeatures()), ("model", log1p_forest(seed))])


def fit(rows: pl.DataFrame, seed: int = SEED) -> Pipeline:
    """The pipeline fit on all training rows (see `rows.training_rows`)."""
    return build_pipeline(seed).fit(card_matrix(rows), target(rows))


def feature_importances(pipeline: Pipeline, rows: pl.DataFrame, seed: int = SEED) -> dict[str, float]:
    """Permutation importance per card field: the mean rise in MAE (IBU) when it is shuffled.

    Computed on `rows` as given: on the training rows it shows what the fitted model relies on,
    not what generalises.
    """
    result = permutation_importance(
        pipeline, card_matrix(rows), target(rows), scoring="neg_mean_absolute_error", n_repeats=5, random_state=seed
    )
    return {field: float(value) for field, value in zip(FEATURES, result.importances_mean, strict=True)}
