"""Items sent off the caller's path: a receiver that is down costs items (counted), never the
caller; a clean close sends what is queued."""

from __future__ import annotations

import gc
import threading
import time
import weakref

from beer_platform.stream.background import BackgroundSender


def test_a_clean_close_sends_everything_queued_in_batches():
    sent: list[list[int]] = []
    sender = BackgroundSender(sent.append, batch=100, name="t", interval_s=5.0)
    sender.put(range(250))
    sender.close()
    assert [len(batch) for batch in sent] == [100, 100, 50] and sender.sent == 250 and sender.dropped == 0


def test_a_receiver_that_is_down_costs_items_counted_never_a_wait():
    dropped: list[int] = []

    def down(batch: list[int]) -> None:
        raise ConnectionError("nothing listens")

    sender = BackgroundSender(down, batch=10, name="t", attempts=2, interval_s=0.01, on_drop=dropped.append)
    started = time.perf_counter()
    sender.put(range(30))
    assert time.perf_counter() - started < 0.05  # the caller never waits on the receiver
    deadline = time.monotonic() + 10
    while sender.dropped < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    sender.close()
    assert sender.dropped == sum(dropped) == 30 and sender.sent == 0


class _Item:
    pass


def _down_in_a_cycle(batch: list[_Item]) -> None:
    """Fails as client libraries do: the exception's traceback holds the frame, which holds the
    exception (and the batch): a reference cycle only the cyclic collector frees."""
    try:
        raise ConnectionError("nothing listens")
    except ConnectionError as error:
        caught = error
        raise RuntimeError("could not send") from caught


def test_a_batch_dropped_after_a_failed_send_is_freed_though_the_collector_rarely_runs():
    items = [_Item() for _ in range(10)]
    alive = [weakref.ref(item) for item in items]
    gc.disable()  # as good as the model server's tuned thresholds, for a few batches
    try:
        sender = BackgroundSender(_down_in_a_cycle, batch=10, name="t", attempts=1, interval_s=0.01)
        sender.put(items)
        del items
        deadline = time.monotonic() + 10
        while sender.dropped < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        sender.close()
        assert sender.dropped == 10 and [ref() for ref in alive] == [None] * 10
    finally:
        gc.enable()


def test_a_full_queue_drops_what_does_not_fit():
    gate = threading.Event()
    sender = BackgroundSender(lambda batch: gate.wait(5), batch=1, name="t", max_queued=5, interval_s=0.01)
    time.sleep(0.05)
    sender.put(range(20))  # one in flight at most, five queued: the rest dropped at once
    assert 14 <= sender.dropped <= 15
    gate.set()
    sender.close()
    assert sender.sent + sender.dropped == 20


def test_items_arriving_steadily_are_sent_once_an_interval_not_a_few_at_a_time():
    sent: list[list[int]] = []

    def send(batch: list[int]) -> None:  # a send takes time, as a put_records call does
        time.sleep(0.02)
        sent.append(batch)

    sender = BackgroundSender(send, batch=10_000, name="t", interval_s=0.25)
    for item in range(300):  # ~0.3 s of items, one at a time
        sender.put([item])
        time.sleep(0.001)
    sender.close()
    assert sum(sent, []) == list(range(300)) and len(sent) <= 3


def test_the_queue_is_bounded_in_what_its_items_weigh():
    gate = threading.Event()
    sender = BackgroundSender(lambda batch: gate.wait(5), batch=1_000, name="t", max_queued=100, interval_s=5.0,
                              weight=len)  # fmt: skip
    sender.put([b"x" * 30] * 10)  # 100 bytes hold three of them
    sender.put([b"y" * 10])  # and a small one still fits
    assert sender.dropped == 7
    gate.set()
    sender.close()
    assert sender.sent == 4
