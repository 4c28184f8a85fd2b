"""The share of requests the model has never seen the like of.

Scikit-learn's local outlier factor, fitted on the training beers (the card's numeric fields,
standardized; a field a request left out is taken as the training median, as the model does):
a request is new to the model when it is less typical of its neighbourhood than the 1% least
typical training beers are of theirs. It sees combinations as well as ranges: a 12% beer of OG
1040 is new although each field alone was seen (and no such beer can be brewed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import LocalOutlierFactor

NEIGHBOURS = 10
QUANTILE = 0.01  # of the training beers' own scores: about 1% of a day like the training data


@dataclass(frozen=True)
class Novelty:
    share: float  # of the requests
    unseen: int
    requests: int
    threshold: float  # the local outlier factor score below which a request is new


class Familiarity:
    """What the model was trained on, to measure requests against (`trained`: rows x features)."""

    def __init__(self, trained: np.ndarray) -> None:
        trained = np.asarray(trained, dtype=np.float64)
        self.median = np.nanmedian(trained, axis=0)
        filled = self._filled(trained)
        self.mean, self.scale = filled.mean(axis=0), np.where(filled.std(axis=0) > 0, filled.std(axis=0), 1.0)
        self.lof = LocalOutlierFactor(n_neighbors=NEIGHBOURS, novelty=True).fit(self._scaled(trained))
        self.threshold = float(np.quantile(self.lof.negative_outlier_factor_, QUANTILE))

    def _filled(self, rows: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(rows), self.median, rows)

    def _scaled(self, rows: np.ndarray) -> np.ndarray:
        return (self._filled(rows) - self.mean) / self.scale

    def novelty(self, served: np.ndarray) -> Novelty:
        served = np.asarray(served, dtype=np.float64).reshape(-1, len(self.median))
        if not len(served):
            return Novelty(0.0, 0, 0, round(self.threshold, 4))
        unseen = int(np.sum(self.lof.score_samples(self._scaled(served)) < self.threshold))
        return Novelty(round(unseen / len(served), 4), unseen, len(served), round(self.threshold, 4))
