"""Grouped folds: every row tested once a pass, a group never split, passes shuffled differently."""

from __future__ import annotations

import numpy as np

from beer_platform.core.group_folds import repeated_group_folds
from beer_platform.core.training import CV_REPEATS, CV_SPLITS


def test_every_row_is_tested_once_per_pass_and_a_group_stays_in_one_fold() -> None:
    groups = np.repeat(np.arange(40), 3)  # 40 groups of 3 rows
    splits = repeated_group_folds(groups, seed=42)
    assert len(splits) == CV_SPLITS * CV_REPEATS
    for repeat in range(CV_REPEATS):
        tested = np.concatenate([test for _, test in splits[repeat * CV_SPLITS : (repeat + 1) * CV_SPLITS]])
        assert sorted(tested) == list(range(len(groups)))
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])


def test_passes_shuffle_the_groups_differently() -> None:
    splits = repeated_group_folds(np.arange(50), seed=42)
    assert sorted(splits[0][1]) != sorted(splits[CV_SPLITS][1])
