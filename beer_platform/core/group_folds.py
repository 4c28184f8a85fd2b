"""The project's repeated 5x5-fold protocol with groups kept whole: the honest figure for new data.

Rows that share a group (e.g. beers with one hop schedule, `recipe_model.hop_schedule_groups`)
always land in the same fold, so a model is never tested on a near-copy of a training row. The
splits feed `training.cross_validated` like the plain `RepeatedKFold` ones.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import GroupKFold

from beer_platform.core.training import CV_REPEATS, CV_SPLITS


def repeated_group_folds(groups: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """CV_REPEATS passes of CV_SPLITS folds; each pass shuffles the groups with seed + pass."""
    rows = np.zeros((len(groups), 1))
    return [
        split
        for repeat in range(CV_REPEATS)
        for split in GroupKFold(n_splits=CV_SPLITS, shuffle=True, random_state=seed + repeat).split(rows, groups=groups)
    ]
