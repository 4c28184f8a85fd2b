"""The micro-batcher: concurrent requests share one model call, each gets its own rows' answers."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from beer_platform.serving.microbatch import MicroBatcher


class Model:
    """Doubles each row's first column; records the size of every call."""

    def __init__(self, fail_on: float | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on = fail_on

    def __call__(self, matrix: np.ndarray) -> np.ndarray:
        self.calls.append(len(matrix))
        if self.fail_on is not None and self.fail_on in matrix[:, 0]:
            raise ValueError("a row the model cannot take")
        return matrix[:, 0] * 2


def rows(*values: float) -> np.ndarray:
    return np.array([[value, 0.0] for value in values])


def test_requests_in_flight_together_are_predicted_in_one_call_each_getting_its_own_rows() -> None:
    async def serve() -> list[np.ndarray]:
        batcher = MicroBatcher(model)
        return await asyncio.gather(*(batcher.predict(rows(i, i + 0.5)) for i in range(16)))

    model = Model()
    answers = asyncio.run(serve())
    assert model.calls == [32]
    assert [list(answer) for answer in answers] == [[2 * i, 2 * i + 1] for i in range(16)]


def test_a_request_read_a_turn_of_the_loop_later_still_joins_the_batch() -> None:
    # a server reads the requests that arrived while it was busy in the next turn of its loop
    async def serve() -> list[np.ndarray]:
        batcher = MicroBatcher(model)
        first = asyncio.ensure_future(batcher.predict(rows(1)))
        await asyncio.sleep(0)
        later = asyncio.ensure_future(batcher.predict(rows(2)))
        return await asyncio.gather(first, later)

    model = Model()
    assert [list(answer) for answer in asyncio.run(serve())] == [[2], [4]]
    assert model.calls == [2]


def test_a_lone_request_is_answered_and_the_next_one_too() -> None:
    async def serve() -> list[list[float]]:
        batcher = MicroBatcher(model)
        return [list(await batcher.predict(rows(value))) for value in (1, 2, 3)]

    model = Model()
    assert asyncio.run(serve()) == [[2], [4], [6]]
    assert model.calls == [1, 1, 1]


def test_a_failed_call_fails_every_request_in_its_batch_and_the_next_batch_is_served() -> None:
    async def serve() -> tuple[list[object], list[float]]:
        batcher = MicroBatcher(model)
        failed = await asyncio.gather(batcher.predict(rows(1)), batcher.predict(rows(-1)), return_exceptions=True)
        return failed, list(await batcher.predict(rows(5)))

    model = Model(fail_on=-1)
    failed, after = asyncio.run(serve())
    assert all(isinstance(error, ValueError) for error in failed)
    assert after == [10]


def test_a_batch_over_the_inline_rows_is_predicted_off_the_event_loop() -> None:
    # the model blocks until a coroutine on the loop releases it: on the loop it could never return
    released = threading.Event()

    def blocking(matrix: np.ndarray) -> np.ndarray:
        if len(matrix) > 2 and not released.wait(timeout=10):
            raise TimeoutError("the loop never ran while the model predicted")
        return matrix[:, 0]

    async def serve() -> np.ndarray:
        batcher = MicroBatcher(blocking, inline_rows=2)
        predicted = asyncio.ensure_future(batcher.predict(rows(1, 2, 3)))
        await asyncio.sleep(0.05)
        released.set()
        return await predicted

    assert list(asyncio.run(serve())) == [1, 2, 3]


@pytest.mark.parametrize("max_rows", [3, 4])
def test_no_call_takes_more_than_max_rows_unless_one_request_holds_more(max_rows: int) -> None:
    async def serve() -> list[np.ndarray]:
        batcher = MicroBatcher(model, max_rows=max_rows)
        return await asyncio.gather(*(batcher.predict(rows(*range(size))) for size in (2, 2, 5, 1)))

    model = Model()
    answers = asyncio.run(serve())
    assert [len(answer) for answer in answers] == [2, 2, 5, 1]
    assert all(size <= max_rows for size in model.calls if size != 5) and sum(model.calls) == 10
