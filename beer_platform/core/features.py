"""What the IBU model sees: the fields a client sends, the target, and the rows fit to train on.

Pure polars, no I/O. Input is the cleaned catalogue (`cleaning.CLEANED_SCHEMA`).
"""

from __future__ import annotations

import polars as pl

from beer_platform.core.cleaning import data_error_expr
from beer_platform.core.model_inputs import FEATURES, NUMERIC_FEATURES, TARGET

__all__ = ["FEATURES", "NUMERIC_FEATURES", "TARGET", "training_rows"]  # the first three: model_inputs'


def training_rows(beers: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """Beers with a known ibu and no data error, and how many were left out and why.

    Rows keep all their columns (id included, so a prediction can be traced back). The counts:
    `beers` (input rows), `missing_ibu`, `data_error` (ibu == target_og or ph outside 0-14, as
    `cleaning.data_error_expr` defines them; a row with both a null ibu and an error counts as
    `missing_ibu`) and `training_rows`.
    """
    missing = pl.col(TARGET).is_null()
    flagged = beers.with_columns(__missing=missing, __error=~missing & data_error_expr())
    rows = flagged.filter(~pl.col("__missing") & ~pl.col("__error")).drop("__missing", "__error")
    counts = {
        "beers": beers.height,
        "missing_ibu": int(flagged["__missing"].sum()),
        "data_error": int(flagged["__error"].sum()),
        "training_rows": rows.height,
    }
    return rows, counts
