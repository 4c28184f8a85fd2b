"""The shipped PunkAPI dataset as the cleaned catalogue frame the model code takes."""

from __future__ import annotations

import polars as pl

from beer_platform.lake.beers import CLEANED_SCHEMA
from beer_platform.local.punkapi_replica import load_beers


def beers_frame(beers: list[dict]) -> pl.DataFrame:
    """PunkAPI records as cleaned rows: exactly `CLEANED_SCHEMA` (id, name, 7 numbers)."""
    return pl.DataFrame([{field: beer.get(field) for field in CLEANED_SCHEMA} for beer in beers], schema=CLEANED_SCHEMA)


def shipped_beers() -> pl.DataFrame:
    """325 rows, sorted by id."""
    return beers_frame(load_beers())
