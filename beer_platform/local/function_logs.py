"""The function's output in its CloudWatch Logs group, as Lambda puts it there.

Lambda writes each line a function prints to the log stream of its execution environment in
`/aws/lambda/<function>`; a subscription filter on that group (Terraform's serving module)
delivers the lines to the predictions stream. Locally the function runs in our sandbox, so this
ships the sandbox's lines to the local endpoint's log group, whose subscription filter delivers
them as AWS does. Lines are sent off the function's path (`stream.background`): its answers never
wait on its logs, as on Lambda.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import groupby
from typing import Any

from beer_platform.stream.background import BackgroundSender

MAX_EVENTS = 10_000  # PutLogEvents: events per call
MAX_BATCH_BYTES = 1_048_576  # PutLogEvents: sum of (message bytes + 26) per call
EVENT_OVERHEAD = 26
MAX_MESSAGE_BYTES = 262_144 - EVENT_OVERHEAD


class FunctionLogs:
    """Ships (log stream, line) pairs to `group` through `logs` (a boto3 CloudWatch Logs client)."""

    def __init__(self, logs: Any, group: str, interval_s: float = 0.2) -> None:
        self.logs, self.group = logs, group
        self._streams: set[str] = set()
        self._sender: BackgroundSender[tuple[str, dict[str, Any]]] = BackgroundSender(
            self._send, batch=MAX_EVENTS, name="function-logs", interval_s=interval_s)  # fmt: skip

    def line(self, stream: str, text: str) -> None:
        """Queue one line of `stream` (thread-safe, never blocks; `dropped` counts what did not fit)."""
        message = text.encode()[:MAX_MESSAGE_BYTES].decode(errors="ignore") or " "  # an event is never empty
        self._sender.put([(stream, {"timestamp": int(time.time() * 1000), "message": message})])

    @property
    def shipped(self) -> int:
        return self._sender.sent

    @property
    def dropped(self) -> int:
        return self._sender.dropped

    def _send(self, lines: list[tuple[str, dict[str, Any]]]) -> None:
        for stream, events in groupby(lines, key=lambda line: line[0]):
            if stream not in self._streams:
                try:
                    self.logs.create_log_stream(logGroupName=self.group, logStreamName=stream)
                except self.logs.exceptions.ResourceAlreadyExistsException:
                    pass
                self._streams.add(stream)
            for batch in batches([event for _, event in events]):
                self.logs.put_log_events(logGroupName=self.group, logStreamName=stream, logEvents=batch)

    def close(self) -> None:
        self._sender.close()


def batches(events: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """`events` in order, cut into PutLogEvents calls (at most MAX_EVENTS events, MAX_BATCH_BYTES)."""
    current: list[dict[str, Any]] = []
    size = 0
    for event in events:
        cost = len(event["message"].encode()) + EVENT_OVERHEAD
        if current and (len(current) == MAX_EVENTS or size + cost > MAX_BATCH_BYTES):
            yield current
            current, size = [], 0
        current.append(event)
        size += cost
    if current:
        yield current
