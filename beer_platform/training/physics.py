"""Whether a recipe model follows the physics of bitterness: more boiled hops, more IBU; none, less.

Pure numpy, on the recipe model's input rows (`predict.inputs.INPUT_COLUMNS`). Bitterness comes
from hops boiled in the wort (dry hops are added cold), so for every recipe with boiled hops
(`boils`: an addition with boil time and alpha acids, a Tinseth estimate above 0) a model should
predict more IBU when every boil addition is scaled up (`FACTORS`, several: a model can learn to
follow one factor and not another) and less when all hops are removed. `figures` measures the
share of recipes for which it does, at each factor, on the model as served.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from beer_platform.predict.features import input_matrix
from beer_platform.predict.inputs import HOPS_COLUMN, INPUT_COLUMNS, Hop, as_rows

FACTORS: tuple[float, ...] = (1.5, 2.0, 3.0)
REMOVED = "none"  # the figure for all hops removed


def factor_name(factor: float) -> str:
    """A factor as a metadata key's tail: 1.5 -> "x1_5", 2.0 -> "x2"."""
    return "x" + f"{factor:g}".replace(".", "_")


def figure_names(factors: Sequence[float] = FACTORS) -> list[str]:
    """The keys `figures` returns a share under: `physics_x1_5`, ..., `physics_none`."""
    return [f"physics_{factor_name(factor)}" for factor in factors] + [f"physics_{REMOVED}"]


def boils(hops: Sequence[Hop] | None) -> bool:
    """Whether a recipe's hops include a boiled addition carrying alpha acids."""
    return any(not dry_hop and minutes > 0 and alpha > 0 for alpha, _, minutes, dry_hop in hops or ())


def with_boil_scaled(X: np.ndarray, factors: float | np.ndarray) -> np.ndarray:
    """The rows with the grams of every addition that is not a dry hop multiplied by `factors`
    (one for all rows, or one per row); dry hops and rows without a recipe as they were."""
    matrix = input_matrix(X, INPUT_COLUMNS)
    per_row = np.broadcast_to(np.asarray(factors, dtype=np.float64), (len(matrix),))
    rows = []
    for row, factor in zip(matrix, per_row, strict=True):
        hops = row[HOPS_COLUMN]
        scaled = None if hops is None else tuple(
            (alpha, grams if dry_hop else grams * float(factor), minutes, dry_hop)
            for alpha, grams, minutes, dry_hop in hops
        )
        rows.append([*row[:HOPS_COLUMN], scaled])
    return as_rows(rows)


def without_hops(X: np.ndarray) -> np.ndarray:
    """The rows with a recipe of no hops at all."""
    return as_rows([[*row[:HOPS_COLUMN], ()] for row in input_matrix(X, INPUT_COLUMNS)])


def figures(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
            factors: Sequence[float] = FACTORS) -> dict[str, float]:  # fmt: skip
    """Over the rows of `X` whose recipe boils hops: the share whose predicted IBU rises with every
    boil addition scaled by each factor (`physics_x2`...), the share whose IBU falls with all hops
    removed (`physics_none`), and how many recipes that is (`physics_recipes`). `predict` maps
    rows to IBU."""
    matrix = input_matrix(X, INPUT_COLUMNS)
    boiled = as_rows([list(row) for row in matrix if boils(row[HOPS_COLUMN])])
    if not len(boiled):
        raise ValueError("no recipe with boiled hops to judge the physics on")
    base = np.asarray(predict(boiled), dtype=np.float64)
    shares = [float(np.mean(predict(with_boil_scaled(boiled, factor)) > base)) for factor in factors]
    shares.append(float(np.mean(predict(without_hops(boiled)) < base)))
    return {**dict(zip(figure_names(factors), shares, strict=True)), "physics_recipes": float(len(boiled))}
