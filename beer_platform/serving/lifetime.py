"""A worker process that exits with the process that started it.

A pool's worker (the large-body worker, the prediction log's shipper) never learns that the server
was killed outright: it would be left holding its memory and, for the shipper, its AWS client. A
daemon thread watches the parent and ends the worker once it has gone (Linux's PR_SET_PDEATHSIG
follows the parent *thread* that spawned it, which in a pool may be a thread that comes and goes).
"""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(poll_s: float = 1.0) -> None:
    """Call in the worker (its pool's initializer): it exits within `poll_s` of its parent."""
    threading.Thread(target=_watch, args=(os.getppid(), poll_s), name="exit-with-parent", daemon=True).start()


def _watch(parent: int, poll_s: float) -> None:
    while os.getppid() == parent:  # an orphan is adopted by init (or a subreaper): another parent
        time.sleep(poll_s)
    os._exit(0)
