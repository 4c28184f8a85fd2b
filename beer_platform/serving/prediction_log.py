"""Every answer the service gives, logged as data: one record per prediction, sent off the request path.

A record: the request's id, the time, the model that answered (its tag) and which of its two
models, the beer's inputs as the model saw them (the card fields; for the recipe model the batch
volume and each hop as (alpha %, grams, boil minutes, dry hop)), the prediction and the Tinseth
estimate, the request's latency, and the beer's id and name when the client sent them (so that a
beer whose true IBU later reaches the catalogue can be scored).

Where records go is the host's choice (`install`):
- `BackgroundSink`: the model server's. Records queue in memory (bounded) and a thread sends
  them in batches (`send`, e.g. a Kinesis put_records); a request never waits for it. When the
  queue is full or a batch cannot be sent after its retries, records are dropped and counted
  (`dropped`, served in /metrics), never the request. `close` sends what is queued (a clean
  shutdown loses nothing).
- `StdoutSink`: the Lambda's. One JSON line per record on stdout, which Lambda sends to
  CloudWatch Logs without the function waiting; a subscription filter delivers them to the
  predictions stream. Marked with `PREDICTION_LOG_KEY` so the lake keeps only these lines.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic_core import to_json

from beer_platform.predict.inputs import FEATURES, HOPS_COLUMN, VOLUME_COLUMN
from beer_platform.predict.predictor import CARD, RECIPE
from beer_platform.serving.schemas import PredictBatch, Prediction
from beer_platform.stream.background import BackgroundSender
from beer_platform.stream.records import PREDICTION_LOG_KEY

BATCH = 5_000  # records a send takes at most
PER_BLOB = 500  # records per stream record: ~40 KB gzipped
MAX_BLOB_BYTES = 900 * 1024  # Kinesis takes 1 MiB a record, partition key included
# The server's memory bound for a sink that is slow or down: ~10 s of records at 2,000 requests/s,
# or three of the largest requests' (a 6 MiB body of long recipes makes ~2.4 MB of lines)
MAX_QUEUED_BYTES = 8 * 2**20


@dataclass(frozen=True)
class PredictionRecord:
    request_id: str
    position: int  # the beer's index in the request
    time: str  # ISO 8601, UTC
    model: str  # the stored model's tag: ibu_model:<version>
    answered_by: str  # card or recipe
    ibu: float
    tinseth_ibu: float | None
    latency_ms: float  # the whole request's, parse to answer
    inputs: dict[str, Any]  # card fields; recipe: volume_litres and hops [[alpha %, grams, minutes, dry hop]]
    beer_id: int | None = None
    host: str = "server"

    def as_json(self) -> bytes:
        return to_json(self)  # pydantic-core's serializer: a fifth of json.dumps(asdict(...))'s time


def packed(records: Sequence[PredictionRecord], per_blob: int = PER_BLOB) -> list[tuple[str, bytes]]:
    """`records` as stream records: see `packed_lines`."""
    return packed_lines([(record.request_id, record.as_json()) for record in records], per_blob)


def packed_lines(lines: Sequence[tuple[str, bytes]], per_blob: int = PER_BLOB) -> list[tuple[str, bytes]]:
    """(request id, JSON line) pairs as stream records: (partition key, gzipped JSON lines of up to
    `per_blob` records, below Kinesis' 1 MiB a record). One stream record per batch, not per
    prediction: the sender's CPU (and Kinesis' per-record cost) is paid once per batch; the lake
    reads the lines back (`lake.predictions`)."""
    out = []
    for start in range(0, len(lines), per_blob):
        chunk = lines[start:start + per_blob]
        blob = gzip.compress(b"".join(line + b"\n" for _, line in chunk), compresslevel=1)
        if len(blob) > MAX_BLOB_BYTES and len(chunk) > 1:  # very long recipes: halve until it fits
            out += packed_lines(chunk, (len(chunk) + 1) // 2)
        else:
            out.append((chunk[0][0], blob))
    return out


class Sink(Protocol):
    def put(self, records: Sequence[PredictionRecord]) -> None: ...
    def close(self) -> None: ...


class NoSink:
    def put(self, records: Sequence[PredictionRecord]) -> None:
        pass

    def close(self) -> None:
        pass


class StdoutSink:
    """One line per record, `{"beer_platform_prediction": {...}}`, written at once."""

    def put(self, records: Sequence[PredictionRecord]) -> None:
        sys.stdout.write("".join(f'{{"{PREDICTION_LOG_KEY}":{record.as_json().decode()}}}\n' for record in records))
        sys.stdout.flush()

    def close(self) -> None:
        sys.stdout.flush()


class BackgroundSink:
    """The model server's sink: each record turned into its JSON line on the request path (~2 µs,
    spread over the requests), the lines sent `BATCH` at a time by a thread (`stream.background`),
    whose once-a-second burst is then only gzip and the send, which let go of the GIL."""

    def __init__(self, send: Callable[[list[tuple[str, bytes]]], None], on_drop: Callable[[int], None] = lambda n: None,
                 interval_s: float = 1.0) -> None:  # fmt: skip
        self.sender = BackgroundSender(send, batch=BATCH, name="prediction-log", on_drop=on_drop, interval_s=interval_s,
                                       max_queued=MAX_QUEUED_BYTES, weight=lambda line: len(line[1]))  # fmt: skip

    def put(self, records: Sequence[PredictionRecord]) -> None:
        self.sender.put([(record.request_id, record.as_json()) for record in records])

    def close(self) -> None:
        self.sender.close()


_installed: Sink = NoSink()


def install(sink: Sink) -> None:
    """Where the records of this process's service go (the host calls it before the service starts)."""
    global _installed
    _installed = sink


def installed() -> Sink:
    return _installed


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def records_of(batch: PredictBatch, answer: Sequence[Prediction], request_id: str, model: str, latency_ms: float,
               host: str) -> list[PredictionRecord]:  # fmt: skip
    """One record per beer of a /predict batch and its answer, in order."""
    rows = {CARD: iter(batch.card), RECIPE: iter(batch.recipe)}
    at = now()
    records = []
    for position, (kind, prediction, beer_id) in enumerate(zip(batch.answered_by, answer, batch.beer_ids, strict=True)):
        row = next(rows[kind])
        inputs = dict(zip(FEATURES, row[: len(FEATURES)], strict=True))
        if kind == RECIPE:
            inputs["volume_litres"] = row[VOLUME_COLUMN]
            inputs["hops"] = [list(hop) for hop in row[HOPS_COLUMN]]
        records.append(PredictionRecord(
            request_id=request_id, position=position, time=at, model=model, answered_by=kind, ibu=prediction.ibu,
            tinseth_ibu=prediction.tinseth_ibu, latency_ms=round(latency_ms, 3), inputs=inputs, beer_id=beer_id,
            host=host))  # fmt: skip
    return records
