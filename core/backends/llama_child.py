"""Entry point of the managed llama.cpp server process: tie its life to the parent's, then serve.

`llama_child ARGS` runs llama-cpp-python's `llama_cpp.server`; `llama_child --exec BINARY ARGS`
replaces itself with a native executable (llama.cpp's `llama-server`): the parent-death
signal set here survives execve, so both servers die with the app the same way.

This runs in the child's own fresh interpreter. Doing the same in a `preexec_fn` would run
Python between fork and exec in a threaded parent, which can deadlock the child (and the
parent waiting on it).
"""

from __future__ import annotations

import os
import runpy
import signal
import sys


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except Exception:  # no prctl: the parent's atexit hook still stops us on normal exits
            pass
    parent = int(os.environ.get("MMSTUDIO_PARENT_PID") or 0)
    if parent and os.getppid() != parent:  # the parent died before we could ask to follow it
        sys.exit(0)


EXEC_FLAG = "--exec"


def main() -> None:
    _die_with_parent()
    if len(sys.argv) > 2 and sys.argv[1] == EXEC_FLAG:
        sys.stdout.flush()
        os.execv(sys.argv[2], sys.argv[2:])
    sys.argv = ["llama_cpp.server", *sys.argv[1:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
