"""Every answer the service gives, logged as data: one record per prediction, sent off the request path.

A record: the request's id, the time, the model that answered (its tag) and which of its two
models, the beer's inputs as the model saw them (the card fields; for the recipe model the batch
volume and each hop as (alpha %, grams, boil minutes, dry hop)), the prediction and the Tinseth
estimate, the request's latency, and the beer's id and name when the client sent them (so that a
beer whose true IBU later reaches the catalogue can be scored).

Where records go is the host's choice (`install`):
- `BackgroundSink`: the model server's. Records queue in memory (bounded) and a thread sends
  them in batches (`send`: the model server hands them to a child process that puts them on
  the predictions stream, `local/prediction_shipper.py`); a request never waits for it. When the
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
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, NotRequired, Protocol, TypedDict

from pydantic_core import to_json

from beer_platform.predict.inputs import FEATURES, HOPS_COLUMN, VOLUME_COLUMN
from beer_platform.predict.predictor import CARD, RECIPE
from beer_platform.serving.schemas import PredictBatch, Prediction
from beer_platform.stream.background import BackgroundSender
from beer_platform.stream.records import PREDICTION_LOG_KEY

BATCH = 5_000  # requests a send takes at most
PER_BLOB = 500  # records per stream record: ~40 KB gzipped
MAX_BLOB_BYTES = 900 * 1024  # Kinesis takes 1 MiB a record, partition key included
# The server's memory bound for a sink that is slow or down: ~10 s of records at 2,000 requests/s,
# or three of the largest requests' (a 6 MiB body of long recipes makes ~2.4 MB of lines)
MAX_QUEUED_BYTES = 8 * 2**20


class PredictionRecord(TypedDict):
    """One prediction, as logged (a plain dict: it is built on the request path, then serialized)."""

    request_id: str
    position: int  # the beer's index in the request
    time: str  # ISO 8601, UTC
    model: str  # the stored model's tag: ibu_model:<version>
    answered_by: str  # card or recipe
    ibu: float
    tinseth_ibu: float | None
    latency_ms: float  # the whole request's, parse to answer
    inputs: dict[str, Any]  # card fields; recipe: volume_litres and hops [[alpha %, grams, minutes, dry hop]]
    beer_id: NotRequired[int | None]
    host: NotRequired[str]  # server or lambda


# A request's records as queued and sent: (its id, how many records, their JSON lines). One item
# a request, whatever its size: the queue holds a few objects, not one per record.
Entry = tuple[str, int, bytes]


def line(record: PredictionRecord) -> bytes:
    return to_json(record)  # pydantic-core's serializer: a fifth of json.dumps's time


def entry(records: Sequence[PredictionRecord]) -> Entry:
    """Records of one request (at least one) as its entry."""
    return records[0]["request_id"], len(records), b"\n".join(map(line, records)) + b"\n"


def packed(records: Sequence[PredictionRecord], per_blob: int = PER_BLOB) -> list[tuple[str, bytes]]:
    """`records` (of one request or several) as stream records: see `packed_entries`."""
    return packed_entries([entry(records)], per_blob)


def packed_entries(entries: Sequence[Entry], per_blob: int = PER_BLOB) -> list[tuple[str, bytes]]:
    """Entries as stream records: (partition key, gzipped JSON lines of about `per_blob` records,
    below Kinesis' 1 MiB a record). One stream record per batch, not per prediction: the sender's
    CPU (and Kinesis' per-record cost) is paid once per batch; the lake reads the lines back
    (`lake.predictions`)."""
    out: list[tuple[str, bytes]] = []
    chunk: list[Entry] = []
    records = 0
    for item in entries:
        if chunk and records + item[1] > per_blob:
            out += _compressed(chunk)
            chunk, records = [], 0
        chunk.append(item)
        records += item[1]
    return out + (_compressed(chunk) if chunk else [])


def _compressed(chunk: list[Entry]) -> list[tuple[str, bytes]]:
    blob = gzip.compress(b"".join(lines for _, _, lines in chunk), compresslevel=1)
    if len(blob) <= MAX_BLOB_BYTES or (len(chunk) == 1 and chunk[0][1] == 1):
        return [(chunk[0][0], blob)]
    if len(chunk) == 1:  # one request of very long recipes: halve its lines until they fit
        key, count, lines = chunk[0]
        split, half = lines.splitlines(keepends=True), count // 2
        chunk = [(key, half, b"".join(split[:half])), (key, count - half, b"".join(split[half:]))]
    middle = len(chunk) // 2
    return _compressed(chunk[:middle]) + _compressed(chunk[middle:])


class Sink(Protocol):
    enabled: bool  # False: nothing is logged, so nothing need be built

    def put(self, logged: Entry) -> None: ...  # one request's records (`entry`)
    def close(self) -> None: ...


class NoSink:
    enabled = False

    def put(self, logged: Entry) -> None:
        pass

    def close(self) -> None:
        pass


class StdoutSink:
    """One line per record, `{"beer_platform_prediction": {...}}`, written at once."""

    enabled = True

    def put(self, logged: Entry) -> None:
        sys.stdout.write("".join(f'{{"{PREDICTION_LOG_KEY}":{record}}}\n' for record in logged[2].decode().splitlines()))
        sys.stdout.flush()

    def close(self) -> None:
        sys.stdout.flush()


class BackgroundSink:
    """The model server's sink: a request's records, as one entry of JSON lines made where the
    request was answered (~2 µs a record), queued and handed to `send` `BATCH` requests at a time
    by a thread (`stream.background`), once a second. Dropped records are counted one by one."""

    enabled = True

    def __init__(self, send: Callable[[list[Entry]], None], on_drop: Callable[[int], None] = lambda n: None,
                 interval_s: float = 1.0, on_close: Callable[[], None] = lambda: None) -> None:  # fmt: skip
        self.on_close = on_close  # after what is queued was sent
        self.sender = BackgroundSender(send, batch=BATCH, name="prediction-log", on_drop=on_drop, interval_s=interval_s,
                                       max_queued=MAX_QUEUED_BYTES, weight=lambda item: len(item[2]),
                                       count=lambda item: item[1])  # fmt: skip

    def put(self, logged: Entry) -> None:
        self.sender.put([logged])

    def close(self) -> None:
        self.sender.close()
        self.on_close()


_installed: Sink = NoSink()


def install(sink: Sink) -> None:
    """Where the records of this process's service go (the host calls it before the service starts)."""
    global _installed
    _installed = sink


def installed() -> Sink:
    return _installed


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Answering(NamedTuple):
    """What a request's records say beyond its beers; picklable, for a worker process to log with."""

    request_id: str
    model: str  # the stored model's tag
    host: str  # server or lambda
    started: float  # time.perf_counter() as the request came in: CLOCK_MONOTONIC, the same in every process


def entry_of(batch: PredictBatch, answer: Sequence[Prediction], answering: Answering) -> Entry:
    """A /predict batch and its answer as the request's entry, its latency taken now."""
    latency_ms = (time.perf_counter() - answering.started) * 1000
    return entry(records_of(batch, answer, answering.request_id, answering.model, latency_ms, answering.host))


def records_of(batch: PredictBatch, answer: Sequence[Prediction], request_id: str, model: str, latency_ms: float,
               host: str) -> list[PredictionRecord]:  # fmt: skip
    """One record per beer of a /predict batch and its answer, in order."""
    rows = {CARD: iter(batch.card), RECIPE: iter(batch.recipe)}
    at, latency = now(), round(latency_ms, 3)
    records: list[PredictionRecord] = []
    for position, (kind, prediction, beer_id) in enumerate(zip(batch.answered_by, answer, batch.beer_ids, strict=True)):
        row = next(rows[kind])
        inputs = dict(zip(FEATURES, row[: len(FEATURES)], strict=True))
        if kind == RECIPE:
            inputs["volume_litres"] = row[VOLUME_COLUMN]
            inputs["hops"] = row[HOPS_COLUMN]  # tuples: JSON arrays as lists would be
        records.append({
            "request_id": request_id, "position": position, "time": at, "model": model, "answered_by": kind,
            "ibu": prediction.ibu, "tinseth_ibu": prediction.tinseth_ibu, "latency_ms": latency, "inputs": inputs,
            "beer_id": beer_id, "host": host})  # fmt: skip
    return records
