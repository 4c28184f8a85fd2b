"""Which record of a beer wins: the latest good one, across every raw part of a day.

Pure polars. Latest = highest `arrival_timestamp`, ties broken by `sequence_number` compared as
an integer (Kinesis sequence numbers exceed 64 bits, so they are ordered by digit count, then
text). A record is rejected, and takes no part, when its payload is not a JSON object, its id is
missing or not a positive integer, its timestamp has no offset or its sequence number is not
Kinesis' digits (they cannot be ordered), or a published number is not a number: so a beer whose
newest record is rejected keeps its previous good version.

A day is judged part by part (`keyed`: the ordering keys and the reason of each row, nothing
else), then `latest_rows` picks each id's winner among every part's good rows; only the keys of
the whole day are ever held at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from beer_platform.lake.beers import NUMERIC_FIELDS, data_fields_of, id_expr, number_expr, typed_beers


def keyed(frame: pl.DataFrame) -> pl.DataFrame:
    """Per envelope row: its beer's id as `key`, `arrival` (UTC), `sequence` (digits) and `reason`
    (null: good)."""
    if "data" not in frame.columns:  # every payload in it was kept as data_base64
        frame = frame.with_columns(data=pl.lit(None, dtype=pl.Struct({"id": pl.Int64})))
    data_fields = data_fields_of(frame)
    not_numbers = [(bad, f"{name} is not a number") for name in NUMERIC_FIELDS
                   if (bad := number_expr(name, data_fields)[1]) is not None]  # fmt: skip
    reasons: list[tuple[pl.Expr, str]] = [
        (_column_or_null(frame, "data_base64").is_not_null(), "payload is not JSON (data_base64)"),
        (pl.col("data").is_null(), "data missing or not a JSON object"),
        (pl.col("key").is_null(), "id missing or not a positive integer"),
        (pl.col("arrival").is_null(), "arrival_timestamp missing or not ISO 8601 with an offset"),
        (pl.col("sequence").is_null(), "sequence_number missing or not a Kinesis sequence number"),
        *not_numbers,
    ]
    return (
        frame.lazy()
        .with_columns(key=id_expr(data_fields), arrival=arrival_time(frame.schema["arrival_timestamp"]),
                      sequence=sequence_number())  # fmt: skip
        .select("key", "arrival", "sequence",
                reason=pl.coalesce(pl.when(failed).then(pl.lit(text)) for failed, text in reasons))  # fmt: skip
        .collect()
    )


def latest_rows(keys: list[pl.DataFrame]) -> dict[int, np.ndarray]:
    """Part number -> the items of that part that are their key's latest good one (`keys[part]`:
    one row per item of that part, with `key`, `arrival`, `sequence` and `reason`)."""
    good = [
        part_keys.with_row_index("row").filter(pl.col("reason").is_null()).drop("reason")
        .with_columns(part=pl.lit(part, pl.UInt32))
        for part, part_keys in enumerate(keys)
    ]  # fmt: skip
    if not good:
        return {}
    # Sorted by (key, time, sequence), each key's latest item is the last of its run.
    winners = (
        pl.concat(good)
        .sort("key", "arrival", pl.col("sequence").str.len_bytes(), "sequence")
        .filter(pl.col("key").ne_missing(pl.col("key").shift(-1)))
        .select("part", "row")
    )
    by_part = winners.sort("part", "row").partition_by("part", as_dict=True)
    return {key[0]: frame["row"].to_numpy() for key, frame in by_part.items()}


@dataclass(frozen=True)
class CleaningResult:
    """One frame's cleaned catalogue: `beers` (one row per id, sorted), `rejected` (the input rows
    with a `reason`) and `winners` (the input rows that won, in `beers`' order)."""

    beers: pl.DataFrame
    rejected: pl.DataFrame
    winners: pl.DataFrame


def clean_beers(raw: pl.DataFrame) -> CleaningResult:
    """`keyed` and `latest_rows` of a single frame of envelope rows, typed."""
    keys = keyed(raw)
    rows = latest_rows([keys]).get(0, np.zeros(0, dtype=np.uint32))
    winners = raw[rows]
    beers = typed_beers(winners, keys["key"].gather(rows)).sort("id")
    order = keys["key"].gather(rows).arg_sort()
    rejected = raw.filter(keys["reason"].is_not_null()).with_columns(reason=keys["reason"].drop_nulls())
    return CleaningResult(beers=beers, rejected=rejected, winners=winners[order])


def _column_or_null(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None)


def arrival_time(dtype: pl.DataType) -> pl.Expr:
    raw = pl.col("arrival_timestamp")
    if isinstance(dtype, pl.Datetime):  # already typed by the caller: naive means UTC
        utc = raw.dt.convert_time_zone if dtype.time_zone else raw.dt.replace_time_zone
        return utc("UTC")
    # Explicit formats: inference would follow the first value, so one naive timestamp at the top
    # would turn every offset-bearing one null. Without an offset a value is null (rejected)
    # rather than guessed to be UTC.
    text = raw.cast(pl.String)
    with_offset = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC", strict=False)
    zulu = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", strict=False)
    return pl.coalesce(with_offset, zulu.dt.replace_time_zone("UTC"))


def sequence_number() -> pl.Expr:
    """The sequence number as text, null unless it matches Kinesis' pattern `0|[1-9][0-9]*`:
    without leading zeros, ordering by (length, text) is ordering by the integer."""
    text = pl.col("sequence_number").cast(pl.String)
    return pl.when(text.str.contains(r"^(0|[1-9][0-9]*)$")).then(text)
