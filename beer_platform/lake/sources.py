"""The raw zones the cleaned tables are built from (`declaration.Source`).

- `CATALOGUE`: `beers/`, the PunkAPI records as published: an item is a record, keyed by its
  beer's id, the latest good record of a beer winning across the day (`latest`).
- `PREDICTION_LOG`: `predictions/`, what the served model answered: an item is one prediction
  (`predictions`), keyed by its request's id and its place in the request, so a record the
  stream delivered twice counts once.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from beer_platform.lake import predictions
from beer_platform.lake.beers import CLEANED_SCHEMA
from beer_platform.lake.declaration import Chunk, Source
from beer_platform.lake.latest import keyed
from beer_platform.lake.object_keys import PREDICTIONS_PREFIX, RAW_PREFIX
from beer_platform.lake.raw_reader import read_raw_jsonl


def _catalogue_keys(blob: bytes) -> pl.DataFrame:
    return keyed(read_raw_jsonl(blob, CLEANED_SCHEMA))  # the published fields only: a record is rejected by them


def _catalogue_chunk(blob: bytes, data_schema: pl.Schema, winners: np.ndarray) -> Chunk:
    frame = read_raw_jsonl(blob, data_schema)
    keys = keyed(frame)
    rejected = frame.filter(keys["reason"].is_not_null()).with_columns(reason=keys["reason"].drop_nulls())
    return Chunk(records=frame[winners], ids=keys["key"].gather(winners), rejected=rejected, items=frame.height)


def _prediction_keys(blob: bytes) -> pl.DataFrame:
    return predictions.events(blob).select("key", "arrival", "sequence", "reason")


def _prediction_chunk(blob: bytes, data_schema: pl.Schema, winners: np.ndarray) -> Chunk:
    items = predictions.events(blob)
    rejected = items.filter(pl.col("reason").is_not_null()).select("shard_id", "sequence_number", "reason")
    won = items[winners]
    return Chunk(records=won, ids=won["key"], rejected=rejected, items=items.height)


CATALOGUE = Source(zone=RAW_PREFIX, keys=_catalogue_keys, chunk=_catalogue_chunk)
PREDICTION_LOG = Source(zone=PREDICTIONS_PREFIX, keys=_prediction_keys, chunk=_prediction_chunk)
