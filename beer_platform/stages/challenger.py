"""The challenger scored on what the live model was asked: the logged predictions of the live
model for beers the catalogue gives an IBU, answered again by the challenger on the same inputs."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import polars as pl

from beer_platform.aws import glue as glue_ops
from beer_platform.aws import s3 as s3_ops
from beer_platform.lake.tables import BEERS, PREDICTIONS
from beer_platform.monitoring.challenger import Logged
from beer_platform.lake.predictions import PREDICTION_SCHEMA
from beer_platform.predict.inputs import FEATURES, as_rows, card_rows
from beer_platform.predict.predictor import IBUPredictor
from beer_platform.stages.catalog import read_latest_partition
from beer_platform.training.rows import training_rows

RECENT_DAYS = 7  # the days of the prediction log read: what the live model was asked lately
COLUMNS = ["model", "answered_by", "ibu", "beer_id", *FEATURES, "volume_litres", "hops"]


def logged_scores(glue: Any, s3: Any, database: str, live_tag: str, challenger: IBUPredictor) -> Logged | None:
    """`Logged` over the recent days of the `predictions` table, or None when there is no such table."""
    if PREDICTIONS.name not in glue_ops.table_names(glue, database):
        return None
    partitions = glue_ops.describe_table(glue, database, PREDICTIONS.name).partitions
    frames = [_read(s3, partitions[day], live_tag) for day in sorted(partitions)[-RECENT_DAYS:]]
    logged = pl.concat(frames) if frames else pl.DataFrame()
    truth = training_rows(read_latest_partition(glue, s3, database, BEERS.name).rows)[0].select(beer_id="id",
                                                                                                 true_ibu="ibu")
    known = logged.join(truth, on="beer_id", how="inner") if logged.height else logged
    if not known.height:
        return Logged(0, float("nan"), float("nan"))
    again = answers(challenger, known)
    truth_values = known["true_ibu"].to_numpy()
    return Logged(known.height, float(np.mean(np.abs(known["ibu"].to_numpy() - truth_values))),
                  float(np.mean(np.abs(again - truth_values))))  # fmt: skip


def _read(s3: Any, location: str, live_tag: str) -> pl.DataFrame:
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    frames = [pl.read_parquet(io.BytesIO(s3_ops.get_bytes(s3, bucket, obj.key)), columns=COLUMNS)
              for obj in s3_ops.list_objects(s3, bucket, prefix) if obj.key.endswith(".parquet")]  # fmt: skip
    logged = pl.concat(frames) if frames else pl.DataFrame(schema={c: PREDICTION_SCHEMA[c] for c in COLUMNS})
    return logged.filter(pl.col("model") == live_tag, pl.col("beer_id").is_not_null())


def answers(predictor: IBUPredictor, logged: pl.DataFrame) -> np.ndarray:
    """The predictor's IBU for each logged row, by the model that answered it (card or recipe)."""
    out = np.empty(logged.height)
    rows = logged.select(*FEATURES, "volume_litres", "hops", "answered_by").rows()
    card = [i for i, row in enumerate(rows) if row[-1] == "card"]
    recipe = [i for i, row in enumerate(rows) if row[-1] != "card"]
    if card:
        out[card] = predictor.predict_card(card_rows(dict(zip(FEATURES, rows[i], strict=False)) for i in card))
    if recipe:
        recipe_rows = [[*rows[i][: len(FEATURES)], rows[i][len(FEATURES)],
                        tuple(tuple(hop) for hop in json.loads(rows[i][len(FEATURES) + 1] or "[]"))] for i in recipe]  # fmt: skip
        out[recipe] = predictor.predict_recipe(as_rows(recipe_rows))[:, 0]
    return out
