"""Reading the raw zone's parts: gzipped JSON lines of stream-record envelopes, parsed with polars.

A line is an envelope (`raw_format.envelope_line`):

    {"shard_id": ..., "sequence_number": "49...", "arrival_timestamp": "...+00:00",
     "partition_key": ..., "data": {<the beer object exactly as the API returned it>}}

(a payload that was not JSON is kept as `data_base64` instead of `data`). `read_raw_jsonl` parses
a part into envelope rows whose `data` struct holds only the fields asked for; `ahead` reads parts
one after another, the next one's gunzip and parse overlapping the current one's use.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import polars as pl

T, R = TypeVar("T"), TypeVar("R")
ENVELOPE_FIELDS: tuple[str, ...] = ("shard_id", "sequence_number", "arrival_timestamp", "partition_key")
_GZIP_MAGIC = b"\x1f\x8b"


def raw_schema(data_schema: pl.Schema) -> pl.Schema:
    """Envelope rows whose `data` struct holds only the fields of `data_schema`: the parser skips
    the rest of `data` (method, ingredients, ... whose shapes vary) instead of inferring it."""
    return pl.Schema(
        {**{field: pl.String for field in ENVELOPE_FIELDS}, "data": pl.Struct(data_schema), "data_base64": pl.String}
    )


def read_raw_jsonl(source: bytes | str | Iterable[bytes | str], data_schema: pl.Schema) -> pl.DataFrame:
    """Parse one raw-zone part: gzipped or plain JSON-lines bytes or text, or its lines.

    The fast path is polars' parser with an explicit schema. A record it cannot type (an id like
    "7" or 1.5, a number sent as text, `data` that is not an object) sends the whole part through
    a per-line Python parser that keeps every value as text, so that cleaning rejects just the
    bad records. A line that is not a JSON object means a corrupt part: ValueError.
    """
    blob = _as_bytes(source)
    schema = raw_schema(data_schema)
    if not blob.strip():
        return schema.to_frame()
    try:
        # polars sniffs gzip itself, and its gunzip is about twice as fast as the zlib module's
        frame = pl.read_ndjson(io.BytesIO(blob), schema=schema)
    except pl.exceptions.PolarsError:  # ComputeError, SchemaError, ... all mean "not this schema"
        return _read_as_text(gzip.decompress(blob) if blob.startswith(_GZIP_MAGIC) else blob, data_schema)
    # The parser leaves a chunk per ~225 lines, which slows what follows; one copy costs less.
    return frame.rechunk()


def ahead(read: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """`read` of each item in turn; the next item is read on a thread while the caller uses the
    current one's result (polars releases the GIL while it parses), so at most two are held at once."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for item in items:
            upcoming = pool.submit(read, item)
            if pending is not None:
                yield pending.result()
            pending = upcoming
        if pending is not None:
            yield pending.result()


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
            raise ValueError(f"raw part line {number} is not JSON ({error}): {line[:80]!r}") from error
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
