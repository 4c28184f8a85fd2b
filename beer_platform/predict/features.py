"""The two models' features, computed by the same code when training and when serving.

Numpy and plain Python only. The card model's features: the six card numbers (a null takes the
training median), three derived ones and one 0/1 column per name word of the training vocabulary.
The recipe model's: the card numbers and derived ones (no name words), then per boil stage the
grams of hops per litre and the Tinseth estimate (total, log1p, per boiled stage).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from beer_platform.brewing import tinseth
from beer_platform.predict.inputs import FEATURES, HOPS_COLUMN, INPUT_COLUMNS, OG_COLUMN, VOLUME_COLUMN

# Name words of 3+ letters/digits cut to 5 characters ("hopped" -> "hoppe", "imperial" -> "imper"):
# 1-2 character tokens were noise in the CV, and the cut merges word forms.
_TOKEN = re.compile(r"[a-z0-9]{3,}")
_STEM = 5

# Boil stages by minutes, named as PunkAPI's `add` words: 45 minutes or more of boil bitters
# (start), 15-45 gives flavour (middle), under 15 aroma (end, flame out, whirlpool, 0, mash);
# dry hops are added cold.
STAGES: tuple[str, ...] = ("start", "middle", "end", "dry_hop")
BOILED_STAGES = STAGES[:3]
CARD_DERIVED = ("og_minus_fg", "apparent_attenuation", "log1p_ebc")
RECIPE_FEATURE_NAMES: list[str] = [
    *(f"hop_grams_per_litre_{stage}" for stage in STAGES),
    "tinseth_ibu",
    "log1p_tinseth_ibu",
    *(f"tinseth_ibu_{stage}" for stage in BOILED_STAGES),
]
# Where the Tinseth total and its log1p sit among the recipe model's features (counted from the end).
TINSETH_COLUMN = -len(RECIPE_FEATURE_NAMES) + RECIPE_FEATURE_NAMES.index("tinseth_ibu")
LOG_TINSETH_COLUMN = -len(RECIPE_FEATURE_NAMES) + RECIPE_FEATURE_NAMES.index("log1p_tinseth_ibu")


def input_matrix(X: Any, columns: Sequence[str]) -> np.ndarray:
    """`X` as an object matrix of `columns`; ValueError naming the columns for another shape."""
    matrix = np.asarray(X, dtype=object)
    if matrix.size == 0:
        matrix = matrix.reshape(-1, len(columns))
    if matrix.ndim != 2 or matrix.shape[1] != len(columns):
        raise ValueError(f"expected rows of {len(columns)} columns ({', '.join(columns)}), got {matrix.shape}")
    return matrix


def tokens(name: Any) -> set[str]:
    """The name words a beer's name carries; none for a non-string."""
    return {word[:_STEM] for word in _TOKEN.findall(name.lower())} if isinstance(name, str) else set()


def card_features(X: Any, medians: np.ndarray, vocabulary: Mapping[str, int]) -> np.ndarray:
    """Rows of `FEATURES` -> floats: the 6 numbers (nulls -> `medians`), 3 derived ones
    (`CARD_DERIVED`), and one 0/1 column per word of `vocabulary`."""
    matrix = input_matrix(X, FEATURES)
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


def recipe_features(X: Any, volume_median: float, og_median: float) -> np.ndarray:
    """`recipe_row_features` of every row of `INPUT_COLUMNS`, as a float matrix."""
    matrix = input_matrix(X, INPUT_COLUMNS)
    rows = [recipe_row_features(row, volume_median, og_median) for row in matrix]
    return np.array(rows, dtype=np.float64).reshape(len(matrix), len(RECIPE_FEATURE_NAMES))
