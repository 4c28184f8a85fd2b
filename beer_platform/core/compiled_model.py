"""The two fitted IBU models in the form the service runs: numpy arrays and plain Python, no scikit-learn.

Pure: imports numpy and `core`'s own plain-Python modules only (no polars, scikit-learn or scipy,
which took ~2 s of the Lambda image's ~5 s init to import). `CompiledIBUModels` is what the
model store holds and the service loads: the fitted feature parameters (the training medians,
the card model's name words, the recipe model's volume and OG fill-ins) and each extra-trees
forest as flat node arrays (`CompiledForest`). `compile_models` makes it from the two fitted
pipelines of `ibu_models.IBUModels` at training time, reading their fitted attributes only.

The feature code here is the training pipelines' own (`training.BeerFeatures` and
`recipe_model.RecipeFeatures` call `card_features` and `recipe_row_features`), and a forest
answers exactly what scikit-learn's trees do: the same float32 input, the same `<=` against
float64 thresholds, the same leaf values summed tree by tree in the same order (`np.cumsum` is
sequential), then the mean and expm1 (the models are fit on log1p(ibu)).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from beer_platform.core import tinseth
from beer_platform.core.model_inputs import (
    FEATURES, HOPS_COLUMN, INPUT_COLUMNS, OG_COLUMN, VOLUME_COLUMN,
)  # fmt: skip

CARD, RECIPE = "card", "recipe"
MODELS: tuple[str, ...] = (CARD, RECIPE)

# Name words of 3+ letters/digits cut to 5 characters ("hopped" -> "hoppe", "imperial" -> "imper"):
# 1-2 character tokens ("ab", "w", "b", "is") were noise in the CV, and the cut merges word forms.
_TOKEN = re.compile(r"[a-z0-9]{3,}")
_STEM = 5

# Boil stages by minutes, named as PunkAPI's `add` words: 45 minutes or more of boil bitters
# (start), 15-45 gives flavour (middle), under 15 aroma (end, flame out, whirlpool, 0, mash);
# dry hops are added cold.
STAGES: tuple[str, ...] = ("start", "middle", "end", "dry_hop")
BOILED_STAGES = STAGES[:3]
RECIPE_FEATURE_NAMES: list[str] = [
    *(f"hop_grams_per_litre_{stage}" for stage in STAGES),
    "tinseth_ibu",
    "log1p_tinseth_ibu",
    *(f"tinseth_ibu_{stage}" for stage in BOILED_STAGES),
]
TINSETH_COLUMN = -len(RECIPE_FEATURE_NAMES) + RECIPE_FEATURE_NAMES.index("tinseth_ibu")


# --- features ------------------------------------------------------------------------------------


def tokens(name: Any) -> set[str]:
    """The name words a beer's name carries (`_TOKEN`, cut to `_STEM` characters); none for a non-string."""
    return {word[:_STEM] for word in _TOKEN.findall(name.lower())} if isinstance(name, str) else set()


def card_features(matrix: np.ndarray, medians: np.ndarray, vocabulary: Mapping[str, int]) -> np.ndarray:
    """Object rows of `FEATURES` -> floats: the 6 numbers (nulls -> `medians`), 3 derived ones
    (og - fg, apparent attenuation, log1p ebc), and one 0/1 column per word of `vocabulary`."""
    numbers = matrix[:, 1:].astype(np.float64)  # None -> nan
    numbers = np.where(np.isnan(numbers), medians, numbers)
    _, fg, og, ebc, _, _ = numbers.T
    gravity_drop = og - fg  # sugar fermented out: the body left for bitterness to balance
    derived = np.column_stack(
        [gravity_drop, gravity_drop / np.maximum(og - 1000.0, 1.0), np.log1p(np.maximum(ebc, 0.0))]
    )
    words = np.zeros((len(matrix), len(vocabulary)))
    for row, name in enumerate(matrix[:, 0]):
        for token in tokens(name):
            column = vocabulary.get(token)
            if column is not None:
                words[row, column] = 1.0
    return np.hstack([numbers, derived, words])


def recipe_row_features(row: Sequence[Any], volume_median: float, og_median: float) -> list[float]:
    """`RECIPE_FEATURE_NAMES` of one row of `INPUT_COLUMNS` (an unknown volume or OG: the training
    median; no recipe, hops None: a recipe with no hops)."""
    litres = volume_median if row[VOLUME_COLUMN] is None else float(row[VOLUME_COLUMN])
    gravity = (og_median if row[OG_COLUMN] is None else float(row[OG_COLUMN])) / 1000.0
    grams = dict.fromkeys(STAGES, 0.0)
    ibu = dict.fromkeys(BOILED_STAGES, 0.0)
    for alpha, weight, minutes, dry_hop in row[HOPS_COLUMN] or ():
        stage = "dry_hop" if dry_hop else "start" if minutes >= 45 else "middle" if minutes >= 15 else "end"
        grams[stage] += weight / litres
        if not dry_hop:
            ibu[stage] += tinseth.addition_ibu(alpha, weight, litres, gravity, minutes)
    total = sum(ibu.values())
    return [*grams.values(), total, math.log1p(total), *ibu.values()]


def card_input(X: Any) -> np.ndarray:
    """`X` as the card model's (n, 7) object matrix of `FEATURES`; ValueError for another shape."""
    matrix = np.asarray(X, dtype=object)
    if matrix.size == 0:
        matrix = matrix.reshape(-1, len(FEATURES))
    if matrix.ndim != 2 or matrix.shape[1] != len(FEATURES):
        raise ValueError(f"expected rows of {len(FEATURES)} columns ({', '.join(FEATURES)}), got {matrix.shape}")
    return matrix


def recipe_input(X: Any) -> np.ndarray:
    """`X` as the recipe model's object matrix of `INPUT_COLUMNS`; ValueError for another shape."""
    matrix = np.asarray(X, dtype=object)
    if matrix.ndim != 2 or matrix.shape[1] != len(INPUT_COLUMNS):
        raise ValueError(f"expected rows of {len(INPUT_COLUMNS)} columns ({', '.join(INPUT_COLUMNS)}), got {matrix.shape}")
    return matrix


# --- the forests ---------------------------------------------------------------------------------


class CompiledForest:
    """A fitted regression forest as flat node arrays: every tree's nodes one after the other.

    A leaf points at itself (both children) with a threshold of +inf, so every row walks all trees
    at once for `depth` steps (the deepest tree's depth) and ends on its leaf in each: a few numpy
    operations a step over (trees x rows) nodes, instead of a call per tree.
    """

    def __init__(self, trees: Sequence[Any], n_features: int) -> None:
        """`trees`: fitted scikit-learn `Tree`s (an estimator's `tree_`), single-output regression."""
        left, right, feature, threshold, value, roots = [], [], [], [], [], []
        offset, depth = 0, 0
        for tree in trees:
            count = int(tree.node_count)
            ids = np.arange(offset, offset + count)
            leaf = np.asarray(tree.children_left) == -1
            left.append(np.where(leaf, ids, np.asarray(tree.children_left) + offset))
            right.append(np.where(leaf, ids, np.asarray(tree.children_right) + offset))
            feature.append(np.where(leaf, 0, np.asarray(tree.feature)))
            threshold.append(np.where(leaf, np.inf, np.asarray(tree.threshold, dtype=np.float64)))
            values = np.asarray(tree.value, dtype=np.float64)
            if values.shape[1:] != (1, 1):
                raise ValueError(f"expected a single-output regression tree, got values of shape {values.shape}")
            value.append(values[:, 0, 0])
            roots.append(offset)
            depth = max(depth, int(tree.max_depth))
            offset += count
        if not roots:
            raise ValueError("a forest needs at least one tree")
        self.left = np.concatenate(left).astype(np.int32)
        self.right = np.concatenate(right).astype(np.int32)
        self.feature = np.concatenate(feature).astype(np.int32)
        self.threshold = np.concatenate(threshold)
        self.value = np.concatenate(value)
        self.roots = np.array(roots, dtype=np.int32)
        self.depth = depth
        self.n_features = int(n_features)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The mean of the trees' leaf values for each row of `X` (n, `n_features`), as float32 input."""
        data = np.ascontiguousarray(X, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got shape {data.shape}")
        if not len(data):
            return np.zeros(0, dtype=np.float64)
        flat = data.ravel()
        starts = (np.arange(len(data)) * self.n_features)[None, :]  # (1, rows)
        node = np.repeat(self.roots[:, None], len(data), axis=1)  # (trees, rows)
        for _ in range(self.depth):
            go_left = flat[starts + self.feature[node]] <= self.threshold[node]  # float32 vs float64, as the trees
            node = np.where(go_left, self.left[node], self.right[node])
        total = np.cumsum(self.value[node], axis=0)[-1]  # tree by tree, in order, as a loop over the trees
        return total / len(self.roots)


def _forest(log1p_regressor: Any) -> CompiledForest:
    forest = log1p_regressor.regressor_  # training.Log1pTargetRegressor around the fitted extra-trees
    return CompiledForest([tree.tree_ for tree in forest.estimators_], forest.n_features_in_)


# --- both models -----------------------------------------------------------------------------------


class CompiledIBUModels:
    """Both models, as `ibu_models.IBUModels` answers: `predict_card` and `predict_recipe`."""

    def __init__(self, card: Any, recipe: Any) -> None:
        """From the two fitted pipelines (`training.build_pipeline`, `recipe_model.build_pipeline`)."""
        card_features_step = card.named_steps["features"]
        self.card_medians = np.asarray(card_features_step.medians_, dtype=np.float64)
        self.card_vocabulary = dict(card_features_step.vocabulary_)
        self.card_forest = _forest(card.named_steps["model"])
        recipe_features_step = recipe.named_steps["features"]
        self.recipe_medians = np.asarray(recipe_features_step.card_.medians_, dtype=np.float64)
        self.recipe_vocabulary = dict(recipe_features_step.card_.vocabulary_)
        self.recipe_volume_median = float(recipe_features_step.volume_median_)
        self.recipe_og_median = float(recipe_features_step.og_median_)
        self.recipe_forest = _forest(recipe.named_steps["model"])

    def predict_card(self, X: Any) -> np.ndarray:
        """IBU per row of `FEATURES`."""
        features = card_features(card_input(X), self.card_medians, self.card_vocabulary)
        return np.expm1(self.card_forest.predict(features))

    def recipe_features(self, X: Any) -> np.ndarray:
        """The recipe model's features of each row of `INPUT_COLUMNS`."""
        matrix = recipe_input(X)
        rows = [recipe_row_features(row, self.recipe_volume_median, self.recipe_og_median) for row in matrix]
        recipe = np.array(rows, dtype=np.float64).reshape(len(matrix), len(RECIPE_FEATURE_NAMES))
        card = card_features(matrix[:, : len(FEATURES)], self.recipe_medians, self.recipe_vocabulary)
        return np.hstack([card, recipe])

    def predict_recipe(self, X: Any) -> np.ndarray:
        """(n, 2): the recipe model's IBU and the Tinseth estimate, per row of `INPUT_COLUMNS`."""
        features = self.recipe_features(X)
        return np.column_stack([np.expm1(self.recipe_forest.predict(features)), features[:, TINSETH_COLUMN]])


def compile_models(card: Any, recipe: Any) -> CompiledIBUModels:
    """`CompiledIBUModels` of two fitted pipelines (an `ibu_models.IBUModels`' `card` and `recipe`)."""
    return CompiledIBUModels(card, recipe)
