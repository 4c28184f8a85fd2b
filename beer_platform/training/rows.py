"""What the IBU models train on: the cleaned beers fit to learn from, their target, their version.

Pure polars and numpy, no I/O. Input is the cleaned catalogue (`lake.beers.CLEANED_SCHEMA`).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import polars as pl

from beer_platform.lake.beers import data_error_expr
from beer_platform.predict.inputs import FEATURES, TARGET, card_rows


def training_rows(beers: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """Beers with a known ibu and no data error, and how many were left out and why.

    Rows keep all their columns (id included, so a prediction can be traced back), sorted by id. The counts:
    `beers` (input rows), `missing_ibu`, `data_error` (ibu == target_og or ph outside 0-14, as
    `data_error_expr` defines them; a row with both a null ibu and an error counts as
    `missing_ibu`) and `training_rows`.
    """
    missing = pl.col(TARGET).is_null()
    flagged = beers.with_columns(__missing=missing, __error=~missing & data_error_expr())
    # by id: the folds, and so every figure, must not depend on the order the lake stored the rows in
    rows = flagged.filter(~pl.col("__missing") & ~pl.col("__error")).drop("__missing", "__error").sort("id")
    counts = {
        "beers": beers.height,
        "missing_ibu": int(flagged["__missing"].sum()),
        "data_error": int(flagged["__error"].sum()),
        "training_rows": rows.height,
    }
    return rows, counts


def card_matrix(beers: pl.DataFrame) -> np.ndarray:
    """The card model's input rows (`FEATURES`) of a frame of beers."""
    return card_rows(beers.select(FEATURES).iter_rows(named=True))


def target(rows: pl.DataFrame) -> np.ndarray:
    return rows[TARGET].to_numpy().astype(np.float64)


def content_hash(frame: pl.DataFrame) -> str:
    """sha256 of a frame's columns, dtypes and values, independent of row order."""
    ordered = frame.sort(frame.columns, nulls_last=True) if frame.height else frame
    document = {
        "columns": [[name, str(dtype)] for name, dtype in frame.schema.items()],
        "rows": [list(row) for row in ordered.rows()],
    }
    text = json.dumps(document, separators=(",", ":"), allow_nan=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def data_version(*frames: pl.DataFrame) -> str:
    """sha256 over the frames' content hashes: the version of what a model was trained on."""
    return hashlib.sha256(",".join(content_hash(frame) for frame in frames).encode()).hexdigest()
