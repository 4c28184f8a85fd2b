"""The evaluation protocol's folds: every row tested once a repeat, groups never split."""

from __future__ import annotations

import numpy as np

from beer_platform.core import cross_validation


def test_every_row_is_tested_once_per_repeat_and_a_group_stays_in_one_fold() -> None:
    groups = np.repeat(np.arange(40), 3)  # 40 groups of 3 rows
    X = np.zeros((len(groups), 1))
    for grouped in (None, groups):
        splits = cross_validation.folds(X, seed=42, groups=grouped)
        assert len(splits) == cross_validation.CV_SPLITS * cross_validation.CV_REPEATS
        for repeat in range(cross_validation.CV_REPEATS):
            tested = np.concatenate([test for _, test in splits[repeat * 5 : repeat * 5 + 5]])
            assert sorted(tested) == list(range(len(groups)))
    for train, test in cross_validation.folds(X, seed=42, groups=groups):
        assert not set(groups[train]) & set(groups[test])


def test_repeats_shuffle_the_groups_differently() -> None:
    groups = np.arange(50)
    first, second = (cross_validation.folds(np.zeros((50, 1)), 42, groups)[i][1] for i in (0, 5))
    assert sorted(first) != sorted(second)
