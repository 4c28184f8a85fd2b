"""Items sent off the caller's path: queued in memory (bounded) and sent in batches by a thread.

A caller never waits: when the queue is full, or a batch cannot be sent after its retries, its
items are dropped and counted (`dropped`, `on_drop`, in `count`: 1 an item, or what an item
holds), never the caller's work. `close` sends what
is queued first, so a clean shutdown loses nothing.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class BackgroundSender(Generic[T]):
    def __init__(self, send: Callable[[list[T]], None], *, batch: int, name: str, max_queued: int = 100_000,
                 interval_s: float = 1.0, attempts: int = 3, on_drop: Callable[[int], None] = lambda count: None,
                 weight: Callable[[T], int] = lambda item: 1, count: Callable[[T], int] = lambda item: 1) -> None:  # fmt: skip
        """`max_queued`: what the queue holds at most, in `weight` (1 an item by default; bytes, say);
        `sent` and `dropped` are in `count` (1 an item by default; the records an item packs, say)."""
        self.send, self.batch, self.interval_s, self.attempts, self.on_drop = send, batch, interval_s, attempts, on_drop
        self.max_queued, self.weight, self.count = max_queued, weight, count
        self.sent = self.dropped = 0
        self._queued = 0  # in `weight`
        self._queue: deque[T] = deque()  # appended and popped under `_lock` with the weight it holds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, items: Iterable[T]) -> None:
        """Queue `items` (thread-safe, never blocks)."""
        for item in items:
            weight = self.weight(item)
            with self._lock:
                fits = self._queued + weight <= self.max_queued
                if fits:
                    self._queued += weight
                    self._queue.append(item)
            if not fits:
                self._drop(self.count(item))

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what is queued, then stop (within `timeout_s`)."""
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            # one send per interval, or sooner for a full batch: a send's own cost (a put_records
            # call, ~1 ms of CPU) is then shared by a second's items, not by the few that came in
            # while the previous send was in flight
            if len(self._queue) < self.batch:
                self._stop.wait(self.interval_s)
            stopping = self._stop.is_set()
            batch = self._take()
            if batch:
                self._deliver(batch)
            if stopping and not self._queue:
                return

    def _take(self) -> list[T]:
        with self._lock:
            batch = [self._queue.popleft() for _ in range(min(self.batch, len(self._queue)))]
        taken = sum(map(self.weight, batch))
        with self._lock:
            self._queued -= taken
        return batch

    def _deliver(self, batch: list[T]) -> None:
        for attempt in range(1, self.attempts + 1):
            failure = self._try_send(batch)
            if failure is None:
                self.sent += sum(map(self.count, batch))
                return
            if attempt == self.attempts or self._stop.is_set():
                dropped = sum(map(self.count, batch))
                self._drop(dropped)
                log.warning("%s: %d items dropped (%s)", self._thread.name, dropped, failure)
                # A client library's failure leaves reference cycles (exceptions, tracebacks,
                # frames) that hold the batch; a process whose collector runs rarely (the model
                # server's) would keep every dropped batch. Only on failure, and cheap where the
                # process froze what it loaded (gc.freeze).
                gc.collect()
                return
            time.sleep(0.2 * 2**attempt)

    def _try_send(self, batch: list[T]) -> str | None:
        """None once sent, else what went wrong (the exception itself is let go here, not kept)."""
        try:
            self.send(batch)
        except Exception as error:  # noqa: BLE001 - the receiver's trouble is counted, never the caller's
            return str(error) or type(error).__name__
        return None

    def _drop(self, count: int) -> None:
        with self._lock:
            self.dropped += count
        self.on_drop(count)
