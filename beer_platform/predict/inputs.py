"""What the two IBU models take as input: the card fields, the recipe columns, rows built from records.

Plain Python and numpy: requests, PunkAPI records and the lake's rows all become these.

- the card model: a 2-D object array, one row per beer, the columns of `FEATURES` in that order
  (name first; numbers as floats or None);
- the recipe model: the columns of `INPUT_COLUMNS`: the card fields, the batch volume in litres
  (None = unknown) and the hops: a tuple of (alpha-acid %, grams, boil minutes, dry hop) per
  hop, blend or extract (`model_hops`; non-hops carry no bitterness and are left out).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from beer_platform.brewing import tinseth
from beer_platform.brewing.hop_reference import HOP_KINDS
from beer_platform.brewing.recipes import HopAddition, Recipe, RecipeError, parse_recipe

# The fields a client can send to the model, in the order the pipeline's input matrix uses.
FEATURES: list[str] = ["name", "abv", "target_fg", "target_og", "ebc", "srm", "ph"]
NUMERIC_FEATURES: list[str] = FEATURES[1:]
TARGET = "ibu"

INPUT_COLUMNS: list[str] = [*FEATURES, "volume_litres", "hops"]
OG_COLUMN, VOLUME_COLUMN, HOPS_COLUMN = FEATURES.index("target_og"), len(FEATURES), len(FEATURES) + 1

Hop = tuple[float, float, float, bool]  # alpha-acid %, grams, boil minutes, dry hop


def card_rows(records: Iterable[Mapping[str, Any]]) -> np.ndarray:
    """The card model's input from records: an (n, 7) object array of `FEATURES`."""
    rows = [[record.get(field) for field in FEATURES] for record in records]
    return np.array(rows, dtype=object).reshape(len(rows), len(FEATURES))


def model_hops(additions: Iterable[HopAddition]) -> tuple[Hop, ...]:
    """What the model sees of a recipe's additions: each hop, blend or extract (non-hops left out).
    A name the reference did not match is a ValueError: it must never count as 0 IBU."""
    hops = []
    for addition in additions:
        if addition.kind is None:
            raise ValueError(f"hop {addition.name!r} matches nothing in the hop reference")
        if addition.kind in HOP_KINDS:
            alpha = tinseth.addition_alpha_pct(addition.kind, addition.variety)
            hops.append((alpha, float(addition.grams), float(addition.boil_minutes), addition.dry_hop))
    return tuple(hops)


def recipe_rows(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The recipe model's input from request or PunkAPI records (card fields, optional `volume`
    and `ingredients.hops`). `RecipeError` lists every problem of every record, as `[i].path`."""
    rows: list[list[Any]] = []
    problems: list[tuple[str, str]] = []
    for index, record in enumerate(records):
        try:
            rows.append(input_row(record, parse_recipe(record, path=f"[{index}]")))
        except RecipeError as error:
            problems.extend(error.problems)
    if problems:
        raise RecipeError(problems)
    return as_rows(rows)


def input_row(record: Mapping[str, Any], recipe: Recipe) -> list[Any]:
    """One row of `INPUT_COLUMNS`: the record's card fields and its parsed recipe (`parse_recipe`)."""
    hops = None if recipe.hops is None else model_hops(recipe.hops)
    return [*(record.get(field) for field in FEATURES), recipe.volume_litres, hops]


def as_rows(rows: list[list[Any]]) -> np.ndarray:
    """`input_row`s as the recipe model's input matrix."""
    matrix = np.empty((len(rows), len(INPUT_COLUMNS)), dtype=object)
    for i, row in enumerate(rows):
        matrix[i, :] = row  # cell by cell, so that a tuple of hops stays one cell
    return matrix
