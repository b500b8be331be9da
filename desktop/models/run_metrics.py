"""Following a trainer run folder (docs/trainer.md): metrics.jsonl, status.json, eval.json.

Qt-free: the panel polls `MetricsTail` from a timer, and the runs table reads `RunInfo` on a
worker thread. A tail reads only the bytes added since the last poll, so following a long run
costs the same at step 10 and at step 100,000.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ACTIVE_STATES = ("starting", "running", "evaluating", "merging")
RESUMABLE_STATES = ("interrupted", "failed")


class FileTail:
    """New complete lines of a growing file, as bytes; a partial last line waits for the rest."""

    def __init__(self, path: Path, max_chunk: int = 4 << 20, start: int = 0):
        self.path = Path(path)
        self.max_chunk = max_chunk  # bytes per poll: a huge backlog arrives over a few polls
        self.offset = start
        self._partial = b""
        # Starting mid-line, the first line read is a fragment: skip it.
        self._skip_first = start > 0 and not self._at_line_start(start)

    def _at_line_start(self, pos: int) -> bool:
        try:
            with open(self.path, "rb") as f:
                f.seek(pos - 1)
                return f.read(1) == b"\n"
        except OSError:
            return False

    @classmethod
    def last_bytes(cls, path: Path, n: int) -> FileTail:
        """A tail that starts with (about) the last `n` bytes already in the file."""
        try:
            size = Path(path).stat().st_size
        except OSError:
            size = 0
        return cls(path, start=max(0, size - n))

    def lines(self) -> tuple[list[bytes], bool]:
        """(new lines, reset): reset means the file shrank (replaced) and was read anew."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return [], False
        reset = size < self.offset
        if reset:
            self.offset, self._partial, self._skip_first = 0, b"", False
        if size == self.offset:
            return [], reset
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read(min(size - self.offset, self.max_chunk))
        self.offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if self._skip_first and lines:
            lines, self._skip_first = lines[1:], False
        return lines, reset

    def pending(self) -> bool:
        """More bytes than the last poll read are already on disk."""
        try:
            return self.path.stat().st_size > self.offset
        except OSError:
            return False


class MetricsTail(FileTail):
    """New events of a metrics.jsonl; lines that are not JSON objects are counted, skipped."""

    def __init__(self, path: Path, max_chunk: int = 4 << 20):
        super().__init__(path, max_chunk)
        self.bad_lines = 0

    def poll(self) -> tuple[list[dict], bool]:
        """(new events, reset): on reset the consumer drops what it had and starts over."""
        lines, reset = self.lines()
        events = []
        for line in lines:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except (ValueError, UnicodeDecodeError):
                self.bad_lines += 1
                continue
            if isinstance(event, dict):
                events.append(event)
            else:
                self.bad_lines += 1
        return events, reset


@dataclass
class RunMetrics:
    """What the metrics of one run say so far; `feed` it events in file order."""

    start: dict = field(default_factory=dict)
    loss: dict[int, float] = field(default_factory=dict)  # the last value logged per step
    lr: dict[int, float] = field(default_factory=dict)
    last_train: dict = field(default_factory=dict)
    eval: dict | None = None
    done: dict | None = None
    error: str | None = None
    resumes: int = 0
    checkpoints: int = 0

    def feed(self, events: list[dict]) -> None:
        for e in events:
            kind = e.get("event")
            if kind == "train" and isinstance(e.get("step"), int):
                if isinstance(e.get("loss"), int | float):
                    self.loss[e["step"]] = float(e["loss"])
                if isinstance(e.get("lr"), int | float):
                    self.lr[e["step"]] = float(e["lr"])
                self.last_train = e
            elif kind == "start":
                self.start = e
            elif kind == "resume":
                self.resumes += 1
            elif kind == "checkpoint":
                self.checkpoints += 1
            elif kind == "eval":
                self.eval = e
            elif kind == "done":
                self.done = e
            elif kind == "error":
                self.error = str(e.get("error", ""))

    @staticmethod
    def series(values: dict[int, float]) -> list[tuple[float, float]]:
        return [(float(k), v) for k, v in sorted(values.items())]

    @property
    def step(self) -> int:
        return max(self.loss, default=int(self.start.get("step", 0) or 0))

    @property
    def total_steps(self) -> int | None:
        return self.start.get("total_steps")

    @property
    def final_loss(self) -> float | None:
        return self.loss[max(self.loss)] if self.loss else None


def read_metrics(run_dir: Path) -> RunMetrics:
    """The whole file at once: for worker threads (the runs table), not the GUI thread."""
    metrics = RunMetrics()
    tail = MetricsTail(Path(run_dir) / "metrics.jsonl", max_chunk=1 << 62)
    events, _ = tail.poll()
    metrics.feed(events)
    return metrics


def pid_alive(pid: int | None) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process holds the number: not ours, but alive
    except OSError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        # The number may have been reused by an unrelated program since the trainer died.
        return b"trainer" in cmdline.read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the signal check


def _windows_pid_alive(pid: int) -> bool:
    # os.kill on Windows terminates the process, so ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def read_status(run_dir: Path) -> dict:
    try:
        status = json.loads((Path(run_dir) / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def effective_state(status: dict, alive=pid_alive) -> str:
    """The state a person should see: an active state whose process is gone is "interrupted"."""
    state = status.get("state")
    if not state:
        return "new"
    if state in ACTIVE_STATES and not alive(status.get("pid")):
        return "interrupted"
    return state


def _overall(block) -> float | None:
    if isinstance(block, dict) and isinstance(block.get("overall"), dict):
        return block["overall"].get("accuracy")
    return None


@dataclass
class RunInfo:
    path: Path
    state: str
    status: dict
    metrics: RunMetrics
    eval: dict | None
    model: str | None = None
    data: str | None = None
    started: float = 0.0

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def accuracy_before(self) -> float | None:
        return _overall((self.eval or {}).get("before"))

    @property
    def accuracy_after(self) -> float | None:
        return _overall((self.eval or {}).get("after"))


def read_run(run_dir: Path) -> RunInfo:
    import yaml

    run_dir = Path(run_dir)
    status = read_status(run_dir)
    metrics = read_metrics(run_dir)
    try:
        ev = json.loads((run_dir / "eval.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        ev = metrics.eval
    config: dict = {}
    for name in ("config.yaml", "train.yaml"):
        try:
            config = yaml.safe_load((run_dir / name).read_text(encoding="utf-8")) or {}
            break
        except (OSError, yaml.YAMLError):
            continue
    started = metrics.start.get("time") or _mtime(run_dir)
    return RunInfo(
        path=run_dir,
        state=effective_state(status),
        status=status,
        metrics=metrics,
        eval=ev if isinstance(ev, dict) else None,
        model=config.get("model") if isinstance(config, dict) else None,
        data=config.get("data") if isinstance(config, dict) else None,
        started=float(started),
    )


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _is_run(folder: Path) -> bool:
    return folder.is_dir() and any(
        (folder / n).is_file() for n in ("status.json", "config.yaml", "train.yaml")
    )


def latest_run_dir(runs_dir: Path) -> Path | None:
    """The most recently touched run folder, found from file times alone (no file is read)."""
    if not Path(runs_dir).is_dir():
        return None
    runs = [f for f in Path(runs_dir).iterdir() if _is_run(f)]
    stamp = {
        f: max(_mtime(f / n) for n in ("status.json", "train.yaml", "config.yaml")) for f in runs
    }
    return max(runs, key=lambda f: (stamp[f], f.name), default=None)


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """Every run folder under runs/ (one with a status or a config), newest first."""
    if not Path(runs_dir).is_dir():
        return []
    out = [read_run(f) for f in Path(runs_dir).iterdir() if _is_run(f)]
    out.sort(key=lambda r: r.started, reverse=True)
    return out
