"""Raw-zone envelopes to the cleaned beer catalogue: parsing, latest-wins de-duplication, anomalies.

Pure polars: no Dagster, no AWS, no I/O beyond the arguments. A raw-zone part is gzipped JSON
lines, one stream record per line (see `raw_format.envelope`):

    {"shard_id": ..., "sequence_number": "49...", "arrival_timestamp": "...+00:00",
     "partition_key": ..., "data": {<the beer object exactly as the API returned it>}}

(a payload that was not JSON is kept as `data_base64` instead of `data`).

`read_raw_jsonl` parses a part (`read_raw_parts` several) into envelope rows; `clean_beers` turns
envelope rows into a `CleaningResult`: one row per beer id (`CLEANED_SCHEMA`) and the rows it had
to reject. `find_anomalies` and `data_error_expr` judge the published values.
"""

from __future__ import annotations

import gzip
import io
import json
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl

from beer_platform.brewing.recipes import RECIPE_FIELDS

NUMERIC_FIELDS: tuple[str, ...] = ("abv", "ibu", "target_fg", "target_og", "ebc", "srm", "ph")

CLEANED_SCHEMA = pl.Schema(
    {"id": pl.Int64, "name": pl.String, **{field: pl.Float64 for field in NUMERIC_FIELDS}}
)

ENVELOPE_FIELDS: tuple[str, ...] = (
    "shard_id",
    "sequence_number",
    "arrival_timestamp",
    "partition_key",
)



def raw_schema(data_schema: pl.Schema) -> pl.Schema:
    """Envelope rows whose `data` struct holds only the fields of `data_schema`: the parser skips
    the rest of `data` (method, ingredients, ... whose shapes vary) instead of inferring it."""
    return pl.Schema(
        {**{field: pl.String for field in ENVELOPE_FIELDS}, "data": pl.Struct(data_schema), "data_base64": pl.String}
    )


# The published fields only: what `clean_beers` reads.
RAW_SCHEMA = raw_schema(CLEANED_SCHEMA)
# The recipe's fields (`recipes.RECIPE_FIELDS`), whatever their shape, each as its JSON text
# (polars writes a nested value back as JSON), decoded by `recipe_tables.decoded_records`: read
# beside the published fields when a recipe table is built (`lake.tables`); the nested hop lists
# are most of a record's bytes.
RECIPE_DATA_SCHEMA = pl.Schema({**CLEANED_SCHEMA, **{name: pl.String for name in RECIPE_FIELDS}})

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class CleaningResult:
    """The cleaned catalogue and the envelope rows that could not be part of it.

    `beers` has exactly `CLEANED_SCHEMA`, one row per id, sorted by id. `rejected` holds the input
    rows (all their columns) plus a `reason` column. Rejected rows take no part in latest-wins, so
    a beer whose newest record is rejected keeps its previous good version. `recipe_source`, when
    the recipe was read (`data_schema=RECIPE_DATA_SCHEMA`): each beer's latest record's id and
    recipe fields as JSON text, one row per row of `beers`, for `recipe_tables`.
    """

    beers: pl.DataFrame
    rejected: pl.DataFrame
    recipe_source: pl.DataFrame | None = None


def read_raw_jsonl(source: bytes | str | Iterable[bytes | str], data_schema: pl.Schema = CLEANED_SCHEMA) -> pl.DataFrame:
    """Parse one raw-zone part: gzipped or plain JSON-lines bytes or text, or its lines.

    Returns envelope rows (`raw_schema(data_schema)`) whose `data` struct holds only the fields of
    `data_schema` (by default the 9 published fields).
    The fast path is polars' parser with that explicit schema. A record it cannot type (an id
    like "7" or 1.5, a number sent as text, `data` that is not an object) sends the whole part
    through a per-line Python parser that keeps every value as text, so that `clean_beers` rejects
    just the bad records. A line that is not a JSON object means a corrupt part: ValueError.
    """
    blob = _as_bytes(source)
    schema = raw_schema(data_schema)
    if not blob.strip():
        return schema.to_frame()
    try:
        # Polars sniffs gzip itself, and its gunzip is about twice as fast as the zlib module's.
        # On a 1M-record raw zone, no alternative was faster beyond the noise of a shared 2-core
        # machine: pyarrow.json, DuckDB's read_json (which also turns an id of 1.5 or true into
        # 2 or 1 silently), gunzip by zlib, isal or libdeflate first, msgspec. Parsing is the
        # cost: every byte of the nested fields is walked, then dropped.
        frame = pl.read_ndjson(io.BytesIO(blob), schema=schema)
    except pl.exceptions.PolarsError:  # ComputeError, SchemaError, ... all mean "not this schema"
        return _read_as_text(gzip.decompress(blob) if blob.startswith(_GZIP_MAGIC) else blob, data_schema)
    # The parser leaves a chunk per ~225 lines (4,400 for 1M records), which slows what follows
    # (clean_beers at 1M: 360 ms instead of 230); one copy here, on the part's worker thread
    # where it overlaps the other part's parse, costs less than that.
    return frame.rechunk()


def read_raw_parts(
    parts: Iterable[bytes | str], workers: int = 2, data_schema: pl.Schema = CLEANED_SCHEMA
) -> pl.DataFrame:
    """`read_raw_jsonl` over several parts (e.g. a day's), as one frame.

    `workers` parts are parsed at once, so that one part's gunzip (single-threaded) overlaps
    another's parse; `parts` is consumed lazily, so only about `workers` parts' bytes are held.
    A part that took the text path has text fields: the others are relaxed to text too (exact,
    since polars writes floats in their shortest round-trip form), and `clean_beers` retypes them.
    """
    frames: list[pl.DataFrame] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        in_flight: deque[Future[pl.DataFrame]] = deque()
        for part in parts:
            in_flight.append(pool.submit(read_raw_jsonl, part, data_schema))
            if len(in_flight) >= workers:
                frames.append(in_flight.popleft().result())
        frames.extend(future.result() for future in in_flight)
    return pl.concat(frames, how="vertical_relaxed") if frames else raw_schema(data_schema).to_frame()


def clean_beers(raw: pl.DataFrame | pl.LazyFrame) -> CleaningResult:
    """Latest record per beer id, typed as `CLEANED_SCHEMA`; unusable records go to `rejected`.

    Latest = highest `arrival_timestamp`, ties broken by `sequence_number` compared as an integer
    (Kinesis sequence numbers exceed 64 bits, so they are ordered by digit count, then text).
    Rejected: a payload that is not a JSON object, an id that is missing or not a positive
    integer, a timestamp without offset or a sequence number that is not Kinesis' digits (they
    cannot be ordered), a published number that is not a number. Published values are otherwise
    kept as they are (no clipping): see `find_anomalies`. A LazyFrame is collected first.
    """
    frame = raw.collect() if isinstance(raw, pl.LazyFrame) else raw
    if "data" not in frame.columns:  # every payload in it was kept as data_base64
        frame = frame.with_columns(data=pl.lit(None, dtype=pl.Struct(CLEANED_SCHEMA)))
    data_dtype = frame.schema["data"]
    data_fields = dict(data_dtype.to_schema()) if isinstance(data_dtype, pl.Struct) else {}
    numbers = {name: _coerce_number(name, data_fields.get(name)) for name in NUMERIC_FIELDS}

    # Only the ordering keys are computed for every record: the catalogue's values are extracted
    # for the winners alone, which keeps the peak memory of a 1M-record clean down.
    reasons: list[tuple[pl.Expr, str]] = [
        (_column_or_null(frame, "data_base64").is_not_null(), "payload is not JSON (data_base64)"),
        (pl.col("data").is_null(), "data missing or not a JSON object"),
        (pl.col("__id").is_null(), "id missing or not a positive integer"),
        (pl.col("__arrival").is_null(), "arrival_timestamp missing or not ISO 8601 with an offset"),
        (pl.col("__sequence").is_null(), "sequence_number missing or not a Kinesis sequence number"),
        *((bad, f"{name} is not a number") for name, (_, bad) in numbers.items()
          if bad is not None),
    ]
    keys = (
        frame.lazy()
        .with_columns(
            __id=_coerce_id(data_fields.get("id")),
            __arrival=_arrival_time(frame.schema["arrival_timestamp"]),
            __sequence=_sequence_number(),
        )
        .select(
            "__id",
            "__arrival",
            "__sequence",
            # The first failing check names the reason.
            __reason=pl.coalesce(pl.when(failed).then(pl.lit(text)) for failed, text in reasons),
        )
        .collect()
    )
    is_rejected = keys["__reason"].is_not_null()
    rejected = frame.filter(is_rejected).with_columns(reason=keys["__reason"].filter(is_rejected))

    # Sorted by (id, time, sequence), each id's latest record is the last of its run.
    latest = (
        keys.with_row_index("__row")
        .filter(~is_rejected)
        .sort("__id", "__arrival", pl.col("__sequence").str.len_bytes(), "__sequence")
        .filter(pl.col("__id").ne_missing(pl.col("__id").shift(-1)))
    )
    winners = frame.select(pl.col("data").gather(latest["__row"]))
    beers = (
        winners
        .with_columns(
            id=latest["__id"],
            name=_field("name", data_fields.get("name")),
            **{name: value for name, (value, _) in numbers.items()},
        )
        .select(pl.col(name).cast(dtype) for name, dtype in CLEANED_SCHEMA.items())
    )
    recipe_source = None
    if set(RECIPE_FIELDS) <= set(data_fields):
        recipe_source = winners.select(
            id=latest["__id"], **{name: pl.col("data").struct.field(name).cast(pl.String) for name in RECIPE_FIELDS}
        )
    return CleaningResult(beers=beers, rejected=rejected, recipe_source=recipe_source)


def find_anomalies(beers: pl.DataFrame) -> dict[str, list[int]]:
    """Ids per kind of implausible published value (every kind present, possibly empty).

    Nulls are never anomalies. `data_error_expr` marks the subset to keep out of model training.
    """
    c = pl.col
    checks: dict[str, pl.Expr] = {
        "ph_out_of_range": ~c("ph").is_between(0, 14),
        "ibu_equals_target_og": c("ibu") == c("target_og"),  # a value copied into the wrong field
        "target_fg_above_target_og": c("target_fg") > c("target_og"),  # fermentation lowers gravity
        "abv_out_of_range": ~c("abv").is_between(0, 100),
        "ibu_negative": c("ibu") < 0,
        "ebc_negative": c("ebc") < 0,
        "srm_negative": c("srm") < 0,
    }
    # A comparison with null is null, and filter drops nulls.
    return {kind: beers.filter(check)["id"].sort().to_list() for kind, check in checks.items()}


def data_error_expr() -> pl.Expr:
    """True where values are wrong rather than unusual: ibu == target_og, or ph outside 0-14."""
    wrong = (pl.col("ibu") == pl.col("target_og")) | ~pl.col("ph").is_between(0, 14)
    return wrong.fill_null(False).alias("is_data_error")


def _as_bytes(source: bytes | str | Iterable[bytes | str]) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, str):
        return source.encode()
    return b"\n".join(line if isinstance(line, bytes) else line.encode() for line in source)


def _read_as_text(text: bytes, data_schema: pl.Schema) -> pl.DataFrame:
    """Slow, forgiving parse: one json.loads per line, every value kept as its JSON text."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            message = f"raw part line {number} is not JSON ({error}): {line[:80]!r}"
            raise ValueError(message) from error
        if not isinstance(record, dict):
            raise ValueError(f"raw part line {number} is not an envelope object: {line[:80]!r}")
        data = record.get("data")
        row = {field: _as_text(record.get(field)) for field in (*ENVELOPE_FIELDS, "data_base64")}
        if isinstance(data, dict):
            row["data"] = {name: _as_text(data.get(name)) for name in data_schema}
        rows.append(row)
    return pl.DataFrame(rows, schema=raw_schema(pl.Schema({name: pl.String for name in data_schema})))


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)  # 7 -> "7", 1.5 -> "1.5", true -> "true", {...} -> "{...}"


def _column_or_null(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None)


def _field(name: str, dtype: pl.DataType | None) -> pl.Expr:
    # A field absent from every record is absent from the struct too: it is null.
    return pl.col("data").struct.field(name) if dtype is not None else pl.lit(None)


def _coerce_id(dtype: pl.DataType | None) -> pl.Expr:
    raw = _field("id", dtype)
    if dtype is not None and dtype.is_integer():
        as_int = raw.cast(pl.Int64, strict=False)
    else:  # via text, so 1.5, 3.0, true and "abc" fail the parse instead of being truncated
        as_int = raw.cast(pl.String).cast(pl.Int64, strict=False)
    return pl.when(as_int >= 1).then(as_int)


def _coerce_number(name: str, dtype: pl.DataType | None) -> tuple[pl.Expr, pl.Expr | None]:
    """The field as Float64 and, for text input, where a non-null value failed to convert."""
    raw = _field(name, dtype)
    if dtype is None or dtype.is_numeric() or dtype == pl.Null:
        return raw.cast(pl.Float64), None
    value = raw.cast(pl.String).cast(pl.Float64, strict=False)
    return value, raw.is_not_null() & value.is_null()


def _arrival_time(dtype: pl.DataType) -> pl.Expr:
    raw = pl.col("arrival_timestamp")
    if isinstance(dtype, pl.Datetime):  # already typed by the caller: naive means UTC
        utc = raw.dt.convert_time_zone if dtype.time_zone else raw.dt.replace_time_zone
        return utc("UTC")
    # Explicit formats: inference would follow the first value, so one naive timestamp at the top
    # would turn every offset-bearing one null. Without an offset a value is null (rejected)
    # rather than guessed to be UTC.
    text = raw.cast(pl.String)
    with_offset = text.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC", strict=False
    )
    zulu = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", strict=False)
    return pl.coalesce(with_offset, zulu.dt.replace_time_zone("UTC"))


def _sequence_number() -> pl.Expr:
    """The sequence number as text, null unless it matches Kinesis' pattern `0|[1-9][0-9]*`.

    Without leading zeros, ordering by (length, text) is ordering by the integer, with no copy and
    no 64- or 128-bit limit (Kinesis sequence numbers run to 56 digits and more).
    """
    text = pl.col("sequence_number").cast(pl.String)
    return pl.when(text.str.contains(r"^(0|[1-9][0-9]*)$")).then(text)
