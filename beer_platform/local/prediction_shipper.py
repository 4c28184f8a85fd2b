"""The model server's prediction records sent to the predictions stream from a child process.

The serving process only queues what each request logs (`prediction_log.Logged`) and, once a
second, hands the batch to a child process (a one-worker `ProcessPoolExecutor`, spawned) that
makes their records, packs, gzips and sends them with its own AWS client. In the serving process
that work, and the garbage it leaves for the collector, cost the requests around it more than the
sending itself (docs/benchmarks.md#serving); in a child it costs the serving process nothing.

A failed send comes back as a `ShipFailed` naming why, so the server's sender retries and counts
what it drops (`/metrics`); a child that died is replaced at the next send. The child lives as
long as the server: it ignores the signals that stop the server, which shuts it down once what
was queued is sent, and it exits with the server when the server is killed.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from beer_platform.aws.clients import AwsClients
from beer_platform.aws.kinesis import publish
from beer_platform.serving import prediction_log
from beer_platform.serving.lifetime import exit_with_parent
from beer_platform.settings import Settings
from beer_platform.stream.records import StreamRecord

_kinesis: Any = None  # the child's own client, and its stream
_stream = ""


class ShipFailed(RuntimeError):
    """The child could not send a batch (the stream down, say); the message says why."""


class Shipper:
    """`shipper(logged)` sends the records of a batch of requests from the child process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = self._start()

    def __call__(self, logged: list[prediction_log.Logged]) -> None:
        try:
            failure = self.pool.submit(_ship, logged).result()
        except BrokenProcessPool as broken:  # the child died: this batch failed, the next goes to a new one
            self.pool = self._start()
            raise ShipFailed(f"the shipper process died: {broken}") from None
        if failure is not None:
            raise ShipFailed(failure)

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def _start(self) -> ProcessPoolExecutor:
        # spawn, not fork: the serving process has threads
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_connect,
                                   initargs=(self.settings,))  # fmt: skip
        pool.submit(int)  # started now, not at the first send a second into serving
        return pool


def _connect(settings: Settings) -> None:
    global _kinesis, _stream
    # The server stops it (after sending what it queued), not a signal to the process group: Ctrl-C
    # and `model_server.stop` reach the child too, and a child that died first would lose the queue.
    for stopping in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stopping, signal.SIG_IGN)
    exit_with_parent()  # a server that was killed never shuts its children down
    # Making and sending records can wait a moment; answering cannot: the shipper takes the CPU the
    # server and its clients leave (its queue is bounded, what does not fit is counted as dropped)
    os.nice(19)
    # the server's sender retries a batch itself: a stream that is down drops it in seconds, not botocore's minute
    _kinesis = dataclasses.replace(AwsClients.from_settings(settings), max_attempts=1).client("kinesis")
    _stream = settings.names.predictions_stream


def _ship(logged: list[prediction_log.Logged]) -> str | None:
    """None once sent, else what went wrong (a string: an AWS client's exception may not unpickle)."""
    try:
        records = [StreamRecord(key, blob) for key, blob in prediction_log.packed_logged(logged)]
        publish(_kinesis, _stream, records, max_attempts=2)
    except Exception as error:  # noqa: BLE001 - reported to the server's sender, which counts the drop
        return str(error) or type(error).__name__
    return None
