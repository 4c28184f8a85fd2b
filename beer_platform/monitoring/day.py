"""One day of the served model watched: the figures the monitoring asset publishes and checks."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from beer_platform.monitoring.drift import FeatureDrift, feature_drift
from beer_platform.monitoring.live_error import LiveError, live_errors
from beer_platform.monitoring.novelty import Familiarity, Novelty
from beer_platform.predict.inputs import NUMERIC_FEATURES, TARGET

UNSEEN_SHARE_LIMIT = 0.10  # more requests than this new to the model, and the day drifted


@dataclass(frozen=True)
class WatchedDay:
    requests: int  # predictions (one per beer of a request)
    features: list[FeatureDrift]  # the inputs, in NUMERIC_FEATURES order
    predicted: FeatureDrift  # the predicted IBU against the training IBU (output drift)
    novelty: Novelty
    errors: list[LiveError]

    @property
    def drifted(self) -> list[str]:
        """What drifted: the features whose PSI is above the limit, and `unseen` when too many requests are new."""
        found = [drift.feature for drift in self.features if drift.drifted]
        return found + (["unseen"] if self.novelty.requests and self.novelty.share > UNSEEN_SHARE_LIMIT else [])

    @property
    def above_gate(self) -> list[LiveError]:
        return [error for error in self.errors if error.above_gate]


def watch(predictions: pl.DataFrame, trained_on: pl.DataFrame, cv_mae: dict[tuple[str, str], float]) -> WatchedDay:
    """`predictions` (a day of the `predictions` table) against `trained_on` (the training rows:
    NUMERIC_FEATURES and the IBU, with the beers' `id`), and `cv_mae` per (model, answered_by)."""
    features = [feature_drift(name, _column(trained_on, name), _column(predictions, name)) for name in NUMERIC_FEATURES]
    familiar = Familiarity(trained_on.select(NUMERIC_FEATURES).to_numpy().astype(float))
    served = predictions.select(NUMERIC_FEATURES).to_numpy().astype(float)
    return WatchedDay(
        requests=predictions.height, features=features,
        predicted=feature_drift("predicted_ibu", _column(trained_on, TARGET), _column(predictions, TARGET)),
        novelty=familiar.novelty(served), errors=live_errors(predictions, trained_on, cv_mae),
    )  # fmt: skip


def _column(frame: pl.DataFrame, name: str):
    return frame[name].cast(pl.Float64).to_numpy()
