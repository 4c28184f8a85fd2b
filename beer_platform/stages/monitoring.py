"""A day of the prediction log against what the live model was trained on (`monitoring.day`)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import polars as pl

from beer_platform.aws import s3 as s3_ops
from beer_platform.lake.object_keys import table_part_key
from beer_platform.lake.tables import BEERS, PREDICTIONS
from beer_platform.monitoring.day import WatchedDay, watch
from beer_platform.stages.catalog import read_latest_partition
from beer_platform.training.rows import training_rows


def watch_day(glue: Any, s3: Any, database: str, cleaned_bucket: str, day: str,
              cv_mae_of: Callable[[str], dict[str, float]]) -> WatchedDay:  # fmt: skip
    """The `predictions` of `day` (its cleaned partition) against the training rows of the beers
    table's latest partition, as the model reads them; `cv_mae_of(model tag)` gives that model's
    CV MAE per answering model (card, recipe), or {} when unknown."""
    blob = s3_ops.get_bytes(s3, cleaned_bucket, table_part_key(PREDICTIONS.name, day))
    if blob is None:
        raise LookupError(f"no {PREDICTIONS.name} partition for {day} in s3://{cleaned_bucket}: clean that day first")
    predictions = pl.read_parquet(io.BytesIO(blob))
    trained_on, _ = training_rows(read_latest_partition(glue, s3, database, BEERS.name).rows)
    cv_mae = {(tag, answered_by): mae for tag in predictions["model"].unique().to_list()
              for answered_by, mae in cv_mae_of(tag).items()}  # fmt: skip
    return watch(predictions, trained_on, cv_mae)
