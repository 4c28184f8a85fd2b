"""Predict the rows of concurrent requests in one model call, without waiting for a batch to fill.

A 100-tree forest costs about as much for 16 rows as for 1 (per-call overhead dominates), so
under load batching multiplies throughput. BentoML's adaptive batching does this too, but it
learns how long to hold requests once, at start-up, and keeps holding them: measured here, after
a 64-client warm-up a lone client waited ~15 ms a request (63 requests/s instead of ~1,000).
This batcher never waits on a clock: before a batch it lets the event loop go round twice (the
first turn reads the requests that have arrived, the second lets their handlers queue their rows),
so a busy server predicts every request in flight in one call and a lone request loses two turns
of the loop, microseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio
import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]
GATHER_TURNS = 2  # turns of the event loop a batch waits for rows (see above)


class MicroBatcher:
    """`await batcher.predict(rows)` -> predictions for `rows`, computed with whatever else is queued.

    Batches of up to `inline_rows` rows run on the event loop (for a few rows that costs less
    than the hop to a thread); larger ones in a worker thread, so the loop keeps serving.
    """

    def __init__(self, predict: Predict, inline_rows: int = 32, max_rows: int = 1000) -> None:
        self._predict = predict
        self.inline_rows = inline_rows
        self.max_rows = max_rows
        self._pending: list[tuple[np.ndarray, asyncio.Future[np.ndarray]]] = []
        self._draining = False

    async def predict(self, rows: np.ndarray) -> np.ndarray:
        return await self.submit(rows)

    def submit(self, rows: np.ndarray) -> asyncio.Future[np.ndarray]:
        """Queue `rows` now (on the running loop) and return the future of their predictions: a
        caller with rows for several batchers queues them all before awaiting any, with no task
        of its own."""
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._pending.append((rows, future))
        if not self._draining:
            self._draining = True
            # a task, not a direct call: it first runs after the requests already being handled
            # in this turn of the loop have queued their rows too
            asyncio.get_running_loop().create_task(self._drain())
        return future

    async def _drain(self) -> None:
        try:
            for _ in range(GATHER_TURNS):
                await asyncio.sleep(0)
            while self._pending:
                batch = self._take()
                try:
                    matrix = np.concatenate([rows for rows, _ in batch])
                    if len(matrix) <= self.inline_rows:
                        predicted = self._predict(matrix)
                    else:
                        predicted = await anyio.to_thread.run_sync(self._predict, matrix)
                except Exception as error:  # every request in the batch gets the error
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                start = 0
                for rows, future in batch:
                    if not future.done():  # a caller may have gone (timeout, disconnect)
                        future.set_result(predicted[start : start + len(rows)])
                    start += len(rows)
        finally:
            self._draining = False

    def _take(self) -> list[tuple[np.ndarray, asyncio.Future[np.ndarray]]]:
        """Queued requests, oldest first, up to `max_rows` rows (always at least one request)."""
        taken, total = 0, 0
        for rows, _ in self._pending:
            if taken and total + len(rows) > self.max_rows:
                break
            taken, total = taken + 1, total + len(rows)
        batch, self._pending = self._pending[:taken], self._pending[taken:]
        return batch
