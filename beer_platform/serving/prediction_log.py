"""Every answer the service gives, logged as data: one record per prediction, sent off the request path.

A record: the request's id, the time, the model that answered (its tag) and which of its two
models, the beer's inputs as the model saw them (the card fields; for the recipe model the batch
volume and each hop as (alpha %, grams, boil minutes, dry hop)), the prediction and the Tinseth
estimate, the request's latency, and the beer's id and name when the client sent them (so that a
beer whose true IBU later reaches the catalogue can be scored).

Where records go is the host's choice (`install`):
- `BackgroundSink`: the model server's. Records queue in memory (bounded) and a thread sends them
  in batches (`send`, e.g. a Kinesis put_records); a request never waits for it. When the queue
  is full or a batch cannot be sent after its retries, records are dropped and counted
  (`dropped`, served in /metrics), never the request. `close` sends what is queued (a clean
  shutdown loses nothing).
- `StdoutSink`: the Lambda's. One JSON line per record on stdout, which Lambda sends to
  CloudWatch Logs without the function waiting; a subscription filter delivers them to the
  predictions stream. Marked with `MARKER` so the lake keeps only these lines.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from beer_platform.predict.inputs import FEATURES, HOPS_COLUMN, VOLUME_COLUMN
from beer_platform.predict.predictor import CARD, RECIPE
from beer_platform.serving.schemas import PredictBatch, Prediction

MARKER = "beer_platform_prediction"  # the key a record's log line carries (the subscription's pattern)
MAX_QUEUED = 100_000
BATCH = 500  # Kinesis' put_records limit
SEND_ATTEMPTS = 3

log = logging.getLogger(__name__)


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

    def as_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


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
        sys.stdout.write("".join(f'{{"{MARKER}":{record.as_json()}}}\n' for record in records))
        sys.stdout.flush()

    def close(self) -> None:
        sys.stdout.flush()


@dataclass
class BackgroundSink:
    """Records queued here, sent in batches by a thread of its own (see the module docstring)."""

    send: Callable[[list[PredictionRecord]], None]
    on_drop: Callable[[int], None] = lambda count: None  # e.g. a Prometheus counter's inc
    max_queued: int = MAX_QUEUED
    interval_s: float = 1.0
    dropped: int = 0
    sent: int = 0
    _queue: queue.Queue = field(init=False)
    _thread: threading.Thread = field(init=False)
    _stop: threading.Event = field(init=False)
    _lock: threading.Lock = field(init=False)

    def __post_init__(self) -> None:
        self._queue = queue.Queue(self.max_queued)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def put(self, records: Sequence[PredictionRecord]) -> None:
        for record in records:
            try:
                self._queue.put_nowait(record)
            except queue.Full:
                self._drop(1)

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what is queued, then stop (within `timeout_s`)."""
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            batch = self._take(BATCH)
            if batch:
                self._deliver(batch)
            elif not self._stop.is_set():
                self._stop.wait(self.interval_s)

    def _take(self, limit: int) -> list[PredictionRecord]:
        batch = []
        while len(batch) < limit:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _deliver(self, batch: list[PredictionRecord]) -> None:
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                self.send(batch)
                self.sent += len(batch)
                return
            except Exception as error:  # noqa: BLE001 - the sink's trouble is counted, never the request's
                if attempt == SEND_ATTEMPTS or self._stop.is_set():
                    self._drop(len(batch))
                    log.warning("prediction records dropped: %d (%s)", len(batch), error)
                    return
                time.sleep(0.2 * 2**attempt)


    def _drop(self, count: int) -> None:
        with self._lock:
            self.dropped += count
        self.on_drop(count)


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
