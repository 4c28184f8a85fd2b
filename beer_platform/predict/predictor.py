"""Both IBU models as the service runs them: fitted feature parameters and forests, numpy only.

`IBUPredictor` is what training makes (`training.compile`), what the model store holds (as arrays
and a manifest, `model_files`) and what the service and the Lambda load: no scikit-learn, scipy or
polars at serving time. Both models are fit on log1p(ibu), so a prediction is expm1 of the log1p:
the card forest's mean; for the recipe model, a line on log1p(Tinseth) plus its forest's mean
(`training.line_forests`: more boiled hops, strictly more IBU from the line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from beer_platform.predict.features import LOG_TINSETH_COLUMN, TINSETH_COLUMN, card_features, input_matrix
from beer_platform.predict.features import recipe_features
from beer_platform.predict.forest import Forest
from beer_platform.predict.inputs import FEATURES, INPUT_COLUMNS

CARD, RECIPE = "card", "recipe"
MODELS: tuple[str, ...] = (CARD, RECIPE)


@dataclass(frozen=True, eq=False)
class IBUPredictor:
    card_medians: np.ndarray  # the training medians of the six card numbers
    card_vocabulary: dict[str, int]  # name word -> column
    card_forest: Forest
    recipe_medians: np.ndarray
    recipe_vocabulary: dict[str, int]  # empty: the recipe model takes no name words
    recipe_volume_median: float
    recipe_og_median: float
    recipe_line: tuple[float, float]  # intercept and slope of log1p(ibu) on log1p(Tinseth)
    recipe_forest: Forest  # on what the line leaves

    def predict_card(self, X: Any) -> np.ndarray:
        """IBU per row of `FEATURES`."""
        features = card_features(X, self.card_medians, self.card_vocabulary)
        return np.expm1(self.card_forest.predict(features))

    def recipe_features(self, X: Any) -> np.ndarray:
        """The recipe model's features of each row of `INPUT_COLUMNS`."""
        matrix = input_matrix(X, INPUT_COLUMNS)
        card = card_features(matrix[:, : len(FEATURES)], self.recipe_medians, self.recipe_vocabulary)
        return np.hstack([card, recipe_features(matrix, self.recipe_volume_median, self.recipe_og_median)])

    def predict_recipe(self, X: Any) -> np.ndarray:
        """(n, 2): the recipe model's IBU and the Tinseth estimate, per row of `INPUT_COLUMNS`."""
        features = self.recipe_features(X)
        intercept, slope = self.recipe_line
        log_ibu = intercept + slope * features[:, LOG_TINSETH_COLUMN] + self.recipe_forest.predict(features)
        return np.column_stack([np.expm1(log_ibu), features[:, TINSETH_COLUMN]])
