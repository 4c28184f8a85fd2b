"""The shipped PunkAPI dataset as the cleaned catalogue frame the model code takes."""

from __future__ import annotations

import polars as pl

from beer_platform.core.cleaning import CLEANED_SCHEMA
from beer_platform.local.punkapi_replica import load_beers


def shipped_beers() -> pl.DataFrame:
    """325 rows with exactly `CLEANED_SCHEMA` (id, name, 7 numbers), sorted by id."""
    rows = [{field: beer.get(field) for field in CLEANED_SCHEMA} for beer in load_beers()]
    return pl.DataFrame(rows, schema=CLEANED_SCHEMA)
