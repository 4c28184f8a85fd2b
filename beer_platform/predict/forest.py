"""A fitted regression forest as flat node arrays: what the service walks to predict.

Every tree's nodes lie one after the other. A leaf points at itself (both children) with a
threshold of +inf, so every row walks all trees at once for `depth` steps and ends on its leaf in
each: a few numpy operations a step over (trees x rows) nodes, instead of a call per tree. The
answers are scikit-learn's: float32 input compared with `<=` against float64 thresholds, leaf
values summed tree by tree in order (`np.cumsum` is sequential), then the mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The arrays a forest is made of, with the dtype each is stored and used in.
ARRAYS: dict[str, type] = {
    "left": np.int32, "right": np.int32, "feature": np.int32, "threshold": np.float64, "value": np.float64,
    "roots": np.int32,
}  # fmt: skip


@dataclass(frozen=True, eq=False)
class Forest:
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int
    n_features: int

    def __post_init__(self) -> None:
        """Refuse arrays that do not make a forest: a walk must never leave the node arrays."""
        nodes = len(self.left)
        for name, dtype in ARRAYS.items():
            array = getattr(self, name)
            if array.dtype != dtype or array.ndim != 1:
                raise ValueError(f"forest array {name!r} must be 1-D {np.dtype(dtype)}, got {array.dtype} {array.shape}")
            if name != "roots" and len(array) != nodes:
                raise ValueError(f"forest array {name!r} has {len(array)} entries for {nodes} nodes")
        if not len(self.roots) or not 0 < self.n_features or self.depth < 0:
            raise ValueError("a forest needs at least one tree, one feature and a depth >= 0")
        for name in ("left", "right", "roots"):
            array = getattr(self, name)
            if array.size and (array.min() < 0 or array.max() >= nodes):
                raise ValueError(f"forest array {name!r} points outside its {nodes} nodes")
        if self.feature.size and (self.feature.min() < 0 or self.feature.max() >= self.n_features):
            raise ValueError(f"forest array 'feature' names a feature outside 0..{self.n_features - 1}")

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in ARRAYS}

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
