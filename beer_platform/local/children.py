"""Child processes of the local stack die with it (Linux's PR_SET_PDEATHSIG): a killed stack
leaves no registry or terraform behind."""

from __future__ import annotations

import ctypes
import signal
import sys

_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """`preexec_fn` of a child: SIGTERM when the parent dies."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
