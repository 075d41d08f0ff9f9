"""Leaving a process that has used the Temporal client or worker.

The SDK's Rust bridge runs threads that can outlive the event loop; when CPython then
finalizes, one of them may release a thread state that is no longer current, and the process
aborts ("Fatal Python error: PyGILState_Release: thread state ... must be current when
releasing", exit 134) after its work succeeded. Reported upstream as
https://github.com/temporalio/sdk-python/issues/300 (open): once it is fixed, every caller of
`exit_now` can return normally instead.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Flush what was printed and leave with `code`, skipping interpreter finalization (no
    atexit handlers, no object finalizers): call it only when all work is done and saved."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
