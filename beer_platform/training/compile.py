"""The two fitted pipelines as the service runs them: an `IBUPredictor` (numpy only).

Reads the pipelines' fitted attributes only: the feature steps' medians, vocabularies and
fill-ins, the recipe model's line, and each model's trees as flat node arrays
(`predict.forest.Forest`). The recipe model's two forests become one: the mean over all their
trees equals the weighted sum of the two means once each tree's leaf values are scaled by its
forest's weight x (all trees / its trees).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from beer_platform.predict.forest import Forest
from beer_platform.predict.predictor import IBUPredictor


def forest_of(log1p_forest: Any) -> Forest:
    """The flat `Forest` of a fitted `card_model.log1p_forest` (its extra-trees, on log1p(ibu))."""
    forest = log1p_forest.regressor_
    return flatten([estimator.tree_ for estimator in forest.estimators_], forest.n_features_in_)


def weighted_forest(forests: Sequence[tuple[Any, float]]) -> Forest:
    """One `Forest` answering the weighted sum of fitted forests' means ((forest, weight) pairs)."""
    total = sum(len(forest.estimators_) for forest, _ in forests)
    trees = [estimator.tree_ for forest, _ in forests for estimator in forest.estimators_]
    scales = [weight * total / len(forest.estimators_) for forest, weight in forests for _ in forest.estimators_]
    return flatten(trees, forests[0][0].n_features_in_, scales)


def flatten(trees: Sequence[Any], n_features: int, scales: Sequence[float] | None = None) -> Forest:
    """Fitted single-output regression `Tree`s (an estimator's `tree_`) one after the other, each
    tree's leaf values times its scale (default 1); a leaf points at itself with a threshold of +inf
    (see `Forest`)."""
    left, right, feature, threshold, value, roots = [], [], [], [], [], []
    offset, depth = 0, 0
    for tree, scale in zip(trees, [1.0] * len(trees) if scales is None else scales, strict=True):
        ids = np.arange(offset, offset + int(tree.node_count))
        leaf = np.asarray(tree.children_left) == -1
        left.append(np.where(leaf, ids, np.asarray(tree.children_left) + offset))
        right.append(np.where(leaf, ids, np.asarray(tree.children_right) + offset))
        feature.append(np.where(leaf, 0, np.asarray(tree.feature)))
        threshold.append(np.where(leaf, np.inf, np.asarray(tree.threshold, dtype=np.float64)))
        values = np.asarray(tree.value, dtype=np.float64)
        if values.shape[1:] != (1, 1):
            raise ValueError(f"expected a single-output regression tree, got values of shape {values.shape}")
        value.append(values[:, 0, 0] * scale)
        roots.append(offset)
        depth = max(depth, int(tree.max_depth))
        offset += len(ids)
    if not roots:
        raise ValueError("a forest needs at least one tree")
    as_int = np.int32
    return Forest(
        left=np.concatenate(left).astype(as_int), right=np.concatenate(right).astype(as_int),
        feature=np.concatenate(feature).astype(as_int), threshold=np.concatenate(threshold),
        value=np.concatenate(value), roots=np.array(roots, dtype=as_int), depth=depth, n_features=int(n_features),
    )  # fmt: skip


def predictor_of(card: Pipeline, recipe: Pipeline) -> IBUPredictor:
    """Both fitted pipelines (`card_model.build_pipeline`, `recipe_model.build_pipeline`) compiled."""
    card_step, recipe_step = card.named_steps["features"], recipe.named_steps["features"]
    learner = recipe.named_steps["model"]  # a fitted `line_forests.LineAndForests`
    return IBUPredictor(
        card_medians=np.asarray(card_step.medians_, dtype=np.float64),
        card_vocabulary=dict(card_step.vocabulary_),
        card_forest=forest_of(card.named_steps["model"]),
        recipe_medians=np.asarray(recipe_step.card_.medians_, dtype=np.float64),
        recipe_vocabulary=dict(recipe_step.card_.vocabulary_),
        recipe_volume_median=float(recipe_step.volume_median_),
        recipe_og_median=float(recipe_step.og_median_),
        recipe_line=(float(learner.intercept_), float(learner.slope_)),
        recipe_forest=weighted_forest(learner.forests()),
    )
