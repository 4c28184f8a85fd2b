"""Every answer the service gives, logged as data: one record per prediction, sent off the request path.

A record: the request's id, the time, the model that answered (its tag) and which of its two
models, the beer's inputs as the model saw them (the card fields; for the recipe model the batch
volume and each hop as (alpha %, grams, boil minutes, dry hop)), the prediction and the Tinseth
estimate, the request's latency, and the beer's id and name when the client sent them (so that a
beer whose true IBU later reaches the catalogue can be scored).

A small request's records are made where they are sent, not where it was answered: the request
path keeps what they are made of (`Answered`: the body as sent, the answer's JSON, the id, times),
a tuple of objects it already holds. `records` parses the body again (the same validation, so
the inputs as the model saw them) and reads the answer back; the model server does that in its
shipper process, so the serving process pays a microsecond or two a request. A large body's
records are made as JSON lines by the worker that parsed it (`Lines`): parsing it again would
cost a second worker's time, and its lines are a third of its size.

Where records go is the host's choice (`install`):
- `BackgroundSink`: the model server's. Requests queue in memory (bounded) and a thread hands
  them to `send` in batches (the model server's child process makes their records and puts them
  on the predictions stream, `local/prediction_shipper.py`); a request never waits for it. When
  the queue is full or a batch cannot be sent after its retries, records are dropped and counted
  (`dropped`, served in /metrics), never the request. `close` sends what is queued (a clean
  shutdown loses nothing).
- `StdoutSink`: the Lambda's. One JSON line per record on stdout, which Lambda sends to
  CloudWatch Logs without the function waiting; a subscription filter delivers them to the
  predictions stream. Marked with `PREDICTION_LOG_KEY` so the lake keeps only these lines.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, NotRequired, Protocol, TypedDict

from pydantic_core import to_json

from beer_platform.predict.inputs import FEATURES, HOPS_COLUMN, VOLUME_COLUMN
from beer_platform.predict.predictor import CARD, RECIPE
from beer_platform.serving.schemas import PredictBatch, parse_predict
from beer_platform.stream.background import BackgroundSender
from beer_platform.stream.records import PREDICTION_LOG_KEY

BATCH = 5_000  # requests a send takes at most
PER_BLOB = 500  # records per stream record: ~40 KB gzipped
MAX_BLOB_BYTES = 900 * 1024  # Kinesis takes 1 MiB a record, partition key included
# The server's memory bound for a sink that is slow or down, in bodies, answers and lines: ~8 s of
# one-beer requests at 2,000 a second, or the lines of six of the largest requests (~2.4 MB each)
MAX_QUEUED_BYTES = 16 * 2**20


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


class Answered(NamedTuple):
    """A /predict request as answered: what its records are made of (`records`)."""

    request_id: str
    host: str  # what answered: server or lambda
    at: float  # time.time() as answered
    latency_ms: float  # the whole request's, parse to answer
    beers: int  # how many records it makes
    body: bytes  # the request's body as sent: parsed again, it gives the inputs the model saw
    answer: str  # the response's JSON: the predictions, which model answered each, the model's tag


def answered(request_id: str, host: str, started: float, beers: int, body: bytes, answer: str) -> Answered:
    """A request answered now; `started`: time.perf_counter() as it came in (CLOCK_MONOTONIC, the
    same in every process)."""
    return Answered(request_id, host, time.time(), (time.perf_counter() - started) * 1000, beers, body, answer)


def records(request: Answered, batch: PredictBatch | None = None) -> list[PredictionRecord]:
    """One record per beer of an answered /predict request, in order (`batch`: its body parsed, if
    it was parsed here)."""
    batch = parse_predict(request.body) if batch is None else batch
    response = json.loads(request.answer)
    rows = {CARD: iter(batch.card), RECIPE: iter(batch.recipe)}
    at = datetime.fromtimestamp(request.at, UTC).isoformat(timespec="microseconds")
    latency = round(request.latency_ms, 3)
    made: list[PredictionRecord] = []
    for position, (prediction, beer_id) in enumerate(zip(response["predictions"], batch.beer_ids, strict=True)):
        kind = prediction["model"]
        row = next(rows[kind])
        inputs = dict(zip(FEATURES, row[: len(FEATURES)], strict=True))
        if kind == RECIPE:
            inputs["volume_litres"] = row[VOLUME_COLUMN]
            inputs["hops"] = row[HOPS_COLUMN]  # tuples: JSON arrays as lists would be
        made.append({
            "request_id": request.request_id, "position": position, "time": at, "model": response["model"],
            "answered_by": kind, "ibu": prediction["ibu"], "tinseth_ibu": prediction["tinseth_ibu"],
            "latency_ms": latency, "inputs": inputs, "beer_id": beer_id, "host": request.host})  # fmt: skip
    return made


# Records of one request as JSON lines: (its id, how many records, the lines)
Lines = tuple[str, int, bytes]


def lines(made: Sequence[PredictionRecord]) -> Lines:
    """Records of one request (at least one) as JSON lines."""
    # pydantic-core's serializer: a fifth of json.dumps's time
    return made[0]["request_id"], len(made), b"\n".join(map(to_json, made)) + b"\n"


def packed(requests: Sequence[Lines], per_blob: int = PER_BLOB) -> list[tuple[str, bytes]]:
    """Requests' records as stream records: (partition key, gzipped JSON lines of about `per_blob`
    records, below Kinesis' 1 MiB a record). One stream record per batch, not per prediction: the
    sender's CPU (and Kinesis' per-record cost) is paid once per batch; the lake reads the lines
    back (`lake.predictions`)."""
    out: list[tuple[str, bytes]] = []
    chunk: list[Lines] = []
    count = 0
    for item in requests:
        if chunk and count + item[1] > per_blob:
            out += _compressed(chunk)
            chunk, count = [], 0
        chunk.append(item)
        count += item[1]
    return out + (_compressed(chunk) if chunk else [])


# What a request logs: what its records are made of, or, for a large body, its records as made
Logged = Answered | Lines


def lines_of(logged: Logged) -> Lines:
    return lines(records(logged)) if isinstance(logged, Answered) else logged


def packed_logged(logged: Sequence[Logged], per_blob: int = PER_BLOB) -> list[tuple[str, bytes]]:
    """Requests' records as stream records (`packed`)."""
    return packed([lines_of(each) for each in logged], per_blob)


def _compressed(chunk: list[Lines]) -> list[tuple[str, bytes]]:
    blob = gzip.compress(b"".join(text for _, _, text in chunk), compresslevel=1)
    if len(blob) <= MAX_BLOB_BYTES or (len(chunk) == 1 and chunk[0][1] == 1):
        return [(chunk[0][0], blob)]
    if len(chunk) == 1:  # one request of very long recipes: halve its lines until they fit
        key, count, text = chunk[0]
        split, half = text.splitlines(keepends=True), count // 2
        chunk = [(key, half, b"".join(split[:half])), (key, count - half, b"".join(split[half:]))]
    middle = len(chunk) // 2
    return _compressed(chunk[:middle]) + _compressed(chunk[middle:])


class Sink(Protocol):
    enabled: bool  # False: nothing is logged, so nothing need be built

    def put(self, logged: Logged) -> None: ...
    def close(self) -> None: ...


class NoSink:
    enabled = False

    def put(self, logged: Logged) -> None:
        pass

    def close(self) -> None:
        pass


class StdoutSink:
    """One line per record, `{"beer_platform_prediction": {...}}`, written at once."""

    enabled = True

    def put(self, logged: Logged) -> None:
        made = lines_of(logged)[2].decode().splitlines()
        sys.stdout.write("".join(f'{{"{PREDICTION_LOG_KEY}":{record}}}\n' for record in made))
        sys.stdout.flush()

    def close(self) -> None:
        sys.stdout.flush()


class BackgroundSink:
    """The model server's sink: what requests log, queued and handed to `send` `BATCH` requests at a
    time by a thread (`stream.background`), once a second. Dropped records are counted one by one."""

    enabled = True

    def __init__(self, send: Callable[[list[Logged]], None], on_drop: Callable[[int], None] = lambda n: None,
                 interval_s: float = 1.0, on_close: Callable[[], None] = lambda: None) -> None:  # fmt: skip
        self.on_close = on_close  # after what is queued was sent
        self.sender = BackgroundSender(send, batch=BATCH, name="prediction-log", on_drop=on_drop, interval_s=interval_s,
                                       max_queued=MAX_QUEUED_BYTES, weight=_size, count=_count)  # fmt: skip

    def put(self, logged: Logged) -> None:
        self.sender.put((logged,))

    def close(self) -> None:
        self.sender.close()
        self.on_close()


def _size(logged: Logged) -> int:
    return len(logged.body) + len(logged.answer) if isinstance(logged, Answered) else len(logged[2])


def _count(logged: Logged) -> int:
    return logged.beers if isinstance(logged, Answered) else logged[1]


_installed: Sink = NoSink()


def install(sink: Sink) -> None:
    """Where the records of this process's service go (the host calls it before the service starts)."""
    global _installed
    _installed = sink


def installed() -> Sink:
    return _installed
