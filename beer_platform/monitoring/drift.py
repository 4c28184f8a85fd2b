"""Per input feature, how far the day's requests are from the training data.

Two measures a data scientist reads at a glance:
- PSI, the population stability index, over the training data's deciles: sum over bins of
  (served share - training share) * ln(served share / training share). Below 0.1 the population
  is stable, 0.1-0.25 it moved, above 0.25 it drifted (the usual reading, from credit scoring).
- the two-sample Kolmogorov-Smirnov statistic (scipy), the largest gap between the two
  cumulative distributions, with its p-value.
A feature a request left out (null) is not counted for that feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import ks_2samp

BINS = 10
DRIFTED_PSI = 0.25  # the usual "significant shift"
MIN_REQUESTS = 30  # fewer, and a day's distribution says little
_FLOOR = 1e-4  # an empty bin's share, so that ln() stays finite


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float | None  # None: too few values to say
    ks: float | None
    ks_pvalue: float | None
    served: int  # values in the day's requests
    served_median: float | None
    trained_median: float | None

    @property
    def drifted(self) -> bool:
        return self.psi is not None and self.psi > DRIFTED_PSI


def psi(trained: np.ndarray, served: np.ndarray, bins: int = BINS) -> float:
    """The population stability index of `served` against `trained`, over `trained`'s quantile bins."""
    edges = np.unique(np.quantile(trained, np.linspace(0, 1, bins + 1)[1:-1]))
    expected = np.bincount(np.searchsorted(edges, trained, side="right"), minlength=len(edges) + 1) / len(trained)
    actual = np.bincount(np.searchsorted(edges, served, side="right"), minlength=len(edges) + 1) / len(served)
    expected, actual = np.maximum(expected, _FLOOR), np.maximum(actual, _FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def feature_drift(feature: str, trained: np.ndarray, served: np.ndarray) -> FeatureDrift:
    """PSI and KS of one feature (nulls and NaNs left out of both)."""
    trained, served = _known(trained), _known(served)
    medians = (float(np.median(served)) if served.size else None, float(np.median(trained)) if trained.size else None)
    if served.size < MIN_REQUESTS or trained.size < MIN_REQUESTS:
        return FeatureDrift(feature, None, None, None, int(served.size), *medians)
    test = ks_2samp(trained, served)
    return FeatureDrift(feature, round(psi(trained, served), 4), round(float(test.statistic), 4),
                        float(test.pvalue), int(served.size), *medians)  # fmt: skip


def _known(values: np.ndarray) -> np.ndarray:
    numbers = np.asarray(values, dtype=np.float64)
    return numbers[np.isfinite(numbers)]
