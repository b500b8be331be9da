"""The cyclic garbage collector's full passes leave the window's objects alone while
background work runs.

A full (generation 2) pass walks every tracked object of the process while holding the GIL.
The window's own objects (Qt wrappers, models, caches: ~75k after opening a project) made
each pass 30-80 ms on a busy 2-core machine, and a check run allocates enough (a page's rows,
results, pickles) to trigger several: the window's longest stall during a 3,000-image check
was such a pass (a py-spy --gil profile: gc_collect_main under the page's list building).
While any background task runs, everything tracked before the first of them started is
frozen (moved out of the collector's generations, O(1)); when the last one ends it goes back.
Reference counting still frees what is not in a cycle; cycles among the frozen objects wait
for the thaw.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_running = 0


@contextmanager
def quiet_collector() -> Iterator[None]:
    """Freeze what exists now, unless another such block already did, until the last ends."""
    global _running
    with _lock:
        _running += 1
        # Only the first: what the tasks themselves make stays collectable, so a job that
        # runs for hours beside the reviewer's short reads does not pile up cyclic garbage.
        if _running == 1:
            gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.unfreeze()
