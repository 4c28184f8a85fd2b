"""The recipe model: a beer's IBU from its card plus its hop schedule, with the physics as features.

The input is a 2-D object array, one row per beer, with the columns of `INPUT_COLUMNS` (the card
fields, the batch volume in litres, the hops as (alpha-acid %, grams, boil minutes, dry hop)
tuples), built identically from request or PunkAPI records (`predict.inputs.recipe_rows`) and
from the lake tables (`lake_matrix`). Features (`RecipeFeatures`): the card numbers and derived
ones (no name words: they stood in for the recipe and hurt once it is in), then
`predict.features.RECIPE_FEATURE_NAMES`: per boil stage the grams of hops per litre, and the
Tinseth estimate (total, log1p, per boiled stage). The learner (`line_forests.LineAndForests`): a
line on log1p(Tinseth) and two extra-trees on its residual, one constrained to follow the hops,
so that more boiled hops predict more IBU (`physics`). docs/model.md has the figures and the
variants compared.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from beer_platform.lake.recipe_tables import hop_additions
from beer_platform.predict.features import RECIPE_FEATURE_NAMES, input_matrix, recipe_features
from beer_platform.predict.inputs import FEATURES, HOPS_COLUMN, INPUT_COLUMNS, NUMERIC_FEATURES, VOLUME_COLUMN
from beer_platform.predict.inputs import as_rows, model_hops
from beer_platform.training.card_model import BeerFeatures
from beer_platform.training.evaluation import SEED
from beer_platform.training.line_forests import LineAndForests

_LOG_TINSETH = RECIPE_FEATURE_NAMES.index("log1p_tinseth_ibu")
_NO_NAME_WORDS = math.inf  # a name word would have to be in infinitely many training names
_PUNKAPI_BATCH_LITRES = 20.0  # every recipe in the dataset


def lake_matrix(beers: pl.DataFrame, beer_hops: pl.DataFrame, recipes: pl.DataFrame) -> np.ndarray:
    """The input rows from the lake, one per row of `beers` (the cleaned catalogue), joined on id
    to `beer_hops` and `recipes`. A beer without a recipes row has no recipe (hops None); with one
    and no beer_hops rows, no hops."""
    additions = hop_additions(beer_hops)
    volumes = dict(recipes.select("beer_id", "volume_litres").iter_rows())
    rows = []
    for beer in beers.select("id", *FEATURES).iter_rows(named=True):
        beer_id = beer["id"]
        try:
            hops = model_hops(additions.get(beer_id, ())) if beer_id in volumes else None
        except ValueError as error:
            raise ValueError(f"beer {beer_id}: {error}") from None
        rows.append([*(beer[field] for field in FEATURES), volumes.get(beer_id), hops])
    return as_rows(rows)


def hop_schedule_groups(X: np.ndarray) -> np.ndarray:
    """A group number per row: rows with the same volume and the same hops (in any order) share one."""
    numbers: dict[Any, int] = {}
    keys = (
        (row[VOLUME_COLUMN], tuple(sorted(row[HOPS_COLUMN])) if row[HOPS_COLUMN] is not None else None)
        for row in input_matrix(X, INPUT_COLUMNS)
    )
    return np.array([numbers.setdefault(key, len(numbers)) for key in keys], dtype=np.int64)


class RecipeFeatures(TransformerMixin, BaseEstimator):
    """Rows of `INPUT_COLUMNS` -> the card numbers and derived ones, then `RECIPE_FEATURE_NAMES`.
    A row without a recipe (hops None) reads as a recipe with no hops."""

    def fit(self, X: Any, y: Any = None) -> RecipeFeatures:
        matrix = input_matrix(X, INPUT_COLUMNS)
        self.card_ = BeerFeatures(min_df=_NO_NAME_WORDS).fit(matrix[:, : len(FEATURES)])
        volumes = np.array([np.nan if v is None else float(v) for v in matrix[:, VOLUME_COLUMN]])
        with warnings.catch_warnings():  # no volume at all: nan, then PunkAPI's batch size
            warnings.simplefilter("ignore", RuntimeWarning)
            volume = np.nanmedian(volumes) if len(volumes) else np.nan
        self.volume_median_ = _PUNKAPI_BATCH_LITRES if np.isnan(volume) else float(volume)
        self.og_median_ = float(self.card_.medians_[NUMERIC_FEATURES.index("target_og")])
        self.n_features_in_ = len(INPUT_COLUMNS)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "card_")
        matrix = input_matrix(X, INPUT_COLUMNS)
        recipe = recipe_features(matrix, self.volume_median_, self.og_median_)
        return np.hstack([self.card_.transform(matrix[:, : len(FEATURES)]), recipe])

    def tinseth_ibu(self, X: Any) -> np.ndarray:
        """The Tinseth estimate of each row's recipe, with the fill-ins the features use."""
        check_is_fitted(self, "card_")
        column = RECIPE_FEATURE_NAMES.index("tinseth_ibu")
        return recipe_features(X, self.volume_median_, self.og_median_)[:, column]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "card_")
        return np.array([*self.card_.get_feature_names_out(), *RECIPE_FEATURE_NAMES], dtype=object)


class TinsethFeature(RecipeFeatures):
    """log1p of the Tinseth estimate alone: the physics, for `build_tinseth_pipeline`."""

    def transform(self, X: Any) -> np.ndarray:
        return super().transform(X)[:, [-len(RECIPE_FEATURE_NAMES) + _LOG_TINSETH]]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(["log1p_tinseth_ibu"], dtype=object)


def build_pipeline(seed: int = SEED) -> Pipeline:
    """Unfitted: card numbers + recipe features -> a line on log1p(Tinseth) and forests on its residual."""
    return Pipeline([("features", RecipeFeatures()), ("model", LineAndForests(seed))])


def build_tinseth_pipeline(seed: int = SEED) -> Pipeline:
    """Unfitted: the Tinseth estimate alone, calibrated by a line from log1p(estimate) to log1p(ibu)."""
    line = TransformedTargetRegressor(regressor=LinearRegression(), func=np.log1p, inverse_func=np.expm1,
                                      check_inverse=False)  # fmt: skip
    return Pipeline([("features", TinsethFeature()), ("model", line)])


def fit(X: np.ndarray, y: np.ndarray, seed: int = SEED) -> Pipeline:
    """The pipeline fit on all training rows (`lake_matrix` of `rows.training_rows`)."""
    return build_pipeline(seed).fit(X, y)
