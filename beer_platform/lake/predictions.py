"""The prediction log's raw records, as items: one row per prediction the served model gave.

A raw record of the `predictions/` zone carries predictions in one of three shapes:
- a batch of the model server's records: gzipped JSON lines (`serving.prediction_log.packed`),
  kept as `data_base64`;
- a prediction record itself (`data`: one record's JSON);
- a CloudWatch Logs subscription's delivery (the Lambda's): gzipped JSON, so kept as
  `data_base64`, whose `logEvents` are the function's log lines; the lines that carry a
  prediction (`{"beer_platform_prediction": {...}}`, see serving.prediction_log) are its items,
  and the function's other lines (START, REPORT, ...) are no items at all.
Anything else is rejected with its reason. An item's key is its request's id and its place in
the request: a prediction the stream delivered twice counts once.
"""

from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime
from typing import Any

import polars as pl

from beer_platform.lake import raw_format
from beer_platform.lake.latest import arrival_time, sequence_number
from beer_platform.stream.records import PREDICTION_LOG_KEY
from beer_platform.predict.inputs import FEATURES

CARD_FIELDS = FEATURES  # name and the card's numbers, as the model saw them
# One row per prediction, as the `predictions` table has it (`time` is the answer's, UTC).
PREDICTION_SCHEMA = pl.Schema({
    "request_id": pl.String, "position": pl.Int64, "time": pl.Datetime("us", "UTC"), "model": pl.String,
    "answered_by": pl.String, "ibu": pl.Float64, "tinseth_ibu": pl.Float64, "latency_ms": pl.Float64,
    "beer_id": pl.Int64, "host": pl.String, "name": pl.String,
    **{field: pl.Float64 for field in CARD_FIELDS[1:]}, "volume_litres": pl.Float64, "hops": pl.String,
})  # fmt: skip
ITEM_SCHEMA = pl.Schema({"shard_id": pl.String, "sequence_number": pl.String, "arrival_timestamp": pl.String,
                         "reason": pl.String, **PREDICTION_SCHEMA})  # fmt: skip


def events(blob: bytes) -> pl.DataFrame:
    """A raw part's items, in order: its predictions (and its rejected records, with a `reason`),
    each with `key`, `arrival` and `sequence` for the day's de-duplication."""
    rows: list[dict[str, Any]] = []
    for envelope in raw_format.decode_part(blob):
        head = {"shard_id": envelope.get("shard_id"), "sequence_number": envelope.get("sequence_number"),
                "arrival_timestamp": envelope.get("arrival_timestamp")}  # fmt: skip
        try:
            rows.extend({**head, "reason": None, **_row(record)} for record in _records(envelope))
        except (ValueError, KeyError, TypeError, OSError, EOFError) as error:  # OSError: not gzip
            rows.append({**head, "reason": f"not a prediction record: {error}"[:300]})
    frame = pl.DataFrame(rows, schema=ITEM_SCHEMA) if rows else ITEM_SCHEMA.to_frame()
    return frame.with_columns(
        key=pl.when(pl.col("reason").is_null()).then(pl.concat_str("request_id", pl.lit(":"), "position")),
        arrival=arrival_time(pl.String), sequence=sequence_number(),
    ).with_columns(reason=pl.coalesce("reason", pl.when(pl.col("arrival").is_null() | pl.col("sequence").is_null())
                                       .then(pl.lit("arrival_timestamp or sequence_number cannot be ordered"))))  # fmt: skip


def _records(envelope: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(envelope.get("data"), dict):
        return [envelope["data"]]
    text = gzip.decompress(base64.b64decode(envelope["data_base64"]))
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:  # the model server's batches: records as JSON lines
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if "messageType" not in payload:  # a batch of one record
        return [payload]
    if payload["messageType"] == "CONTROL_MESSAGE":  # the subscription checking it can deliver
        return []
    lines = (line for event in payload["logEvents"] for line in event["message"].splitlines())
    return [json.loads(line)[PREDICTION_LOG_KEY] for line in lines if PREDICTION_LOG_KEY in line]


def _row(record: dict[str, Any]) -> dict[str, Any]:
    inputs = record["inputs"]
    row = {name: record[name] for name in ("request_id", "position", "model", "answered_by", "ibu", "latency_ms")}
    hops = inputs.get("hops")
    return {
        **row, "time": datetime.fromisoformat(record["time"]), "tinseth_ibu": record.get("tinseth_ibu"),
        "beer_id": record.get("beer_id"), "host": record.get("host"), "name": inputs.get("name"),
        **{field: _number(inputs.get(field)) for field in CARD_FIELDS[1:]},
        "volume_litres": _number(inputs.get("volume_litres")), "hops": None if hops is None else json.dumps(hops),
    }  # fmt: skip


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is not a number")
    return float(value)
