"""The trainer and the environment check as QProcess children, never blocking the GUI thread.

Both run in the Python environment the user picked (default: this interpreter), with an
environment cleaned of the packaged app's library paths (core.childenv).
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from core.trainer_launch import LaunchSpec, launch_spec, trainer_env
from desktop.strings import tr

ENV_TAG = "MMSTUDIO_ENV "
ENV_SCRIPT = f"""
import importlib, importlib.util, json, sys
out = {{"python": sys.version.split()[0], "executable": sys.executable, "errors": {{}}}}
for name in ("torch", "transformers", "peft", "accelerate"):
    try:
        out[name] = importlib.import_module(name).__version__
    except Exception as exc:
        out[name] = None
        out["errors"][name] = f"{{type(exc).__name__}}: {{exc}}"
out["bitsandbytes"] = importlib.util.find_spec("bitsandbytes") is not None
out["trainer"] = importlib.util.find_spec("trainer") is not None
out["cuda"], out["devices"] = False, []
if out["torch"]:
    import torch
    out["cuda"] = bool(torch.cuda.is_available())
    if out["cuda"]:
        out["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        out["devices_memory_gb"] = [
            round(torch.cuda.get_device_properties(i).total_memory / 1e9, 1)
            for i in range(torch.cuda.device_count())
        ]
    out["mps"] = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
print({ENV_TAG!r} + json.dumps(out), flush=True)
"""


def describe_env(info: dict) -> tuple[bool, str]:
    """(ready to train, one line for people) from the environment check's dict."""
    needed = ("torch", "transformers", "peft")
    missing = [m for m in needed if not info.get(m)]
    parts = [f"Python {info.get('python')}"] + [f"{m} {info[m]}" for m in needed if info.get(m)]
    if info.get("cuda"):
        parts.append(f"CUDA: {', '.join(info.get('devices') or [])}")
    elif info.get("mps"):
        parts.append(tr("CUDA: not available (CPU / MPS)"))
    else:
        parts.append(tr("CUDA: not available (CPU only)"))
    if not info.get("trainer"):
        parts.append(tr("the `trainer` package is not importable there"))
    for name in missing:
        why = info.get("errors", {}).get(name) or tr("not installed")
        parts.append(tr("{name} missing: {why}", name=name, why=why))
    return not missing and bool(info.get("trainer")), " · ".join(parts)


def _qenv(env: dict) -> QProcessEnvironment:
    qenv = QProcessEnvironment()
    for key, value in env.items():
        qenv.insert(key, value)
    return qenv


class LineSplitter:
    """Bytes from a child into display lines; a carriage return (progress bars) rewrites the
    line instead of adding one."""

    def __init__(self):
        self._partial = ""

    def feed(self, data: bytes) -> list[str]:
        text = self._partial + data.decode("utf-8", errors="replace")
        lines = text.split("\n")
        self._partial = lines.pop()
        return [line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines]

    def flush(self) -> list[str]:
        rest, self._partial = self._partial, ""
        rest = rest.rsplit("\r", 1)[-1]
        return [rest] if rest.strip() else []


class TrainerProcess(QObject):
    """`PY -m trainer CONFIG`; stop() asks politely, then kills after a grace period."""

    started = Signal(int)  # pid
    output = Signal(list)  # complete lines of stdout + stderr, merged in order
    finished = Signal(int, str)  # exit code, "exit" | "crash" | "stopped" | "failed to start"

    def __init__(self, parent: QObject | None = None, grace_ms: int = 8000):
        super().__init__(parent)
        self.grace_ms = grace_ms
        self.proc: QProcess | None = None
        self.config: Path | None = None
        self._split = LineSplitter()
        self._stopping = False
        self.error_message = ""
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill)

    def running(self) -> bool:
        return self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning

    def pid(self) -> int | None:
        return int(self.proc.processId()) if self.running() else None

    @staticmethod
    def spec(python: str, config: Path) -> LaunchSpec:
        """What start() runs (core's launch spec, the same as `mmstudio train --python`)."""
        return launch_spec(Path(config), python)

    def start(self, python: str, config: Path) -> None:
        if self.running():
            raise RuntimeError("a training run is already going")
        self.config = Path(config)
        spec = self.spec(python, self.config)
        self._split = LineSplitter()
        self._stopping = False
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.setProcessEnvironment(_qenv(spec.env))
        proc.setWorkingDirectory(str(spec.cwd))
        proc.readyReadStandardOutput.connect(self._read)
        proc.started.connect(lambda: self.started.emit(int(proc.processId())))
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._error)
        self.proc = proc
        proc.start(spec.argv[0], spec.argv[1:])

    def stop(self) -> None:
        if not self.running():
            return
        self._stopping = True
        self.proc.terminate()  # SIGTERM; a Windows console child ignores it, hence the timer
        self._kill_timer.start(self.grace_ms)

    def shutdown(self, wait_ms: int = 3000) -> None:
        """Stop and wait (window closing): the run stays resumable from its checkpoint."""
        if not self.running():
            return
        self._stopping = True
        self.proc.terminate()
        if not self.proc.waitForFinished(wait_ms):
            self.proc.kill()
            self.proc.waitForFinished(wait_ms)

    def _kill(self) -> None:
        if self.running():
            self.proc.kill()

    def _read(self) -> None:
        lines = self._split.feed(bytes(self.proc.readAllStandardOutput()))
        if lines:
            self.output.emit(lines)

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._kill_timer.stop()
        self._read()
        rest = self._split.flush()
        if rest:
            self.output.emit(rest)
        if self._stopping:
            how = "stopped"
        else:
            how = "crash" if status == QProcess.ExitStatus.CrashExit else "exit"
        self.finished.emit(int(code), how)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            message = tr(
                "cannot start {program}: {error}",
                program=self.proc.program(),
                error=self.proc.errorString(),
            )
            self.error_message = message
            self.output.emit([message])
            self.finished.emit(-1, "failed to start")


class EnvCheck(QObject):
    """`PY -c ...`: Python, torch, transformers, peft versions and CUDA, as one dict."""

    done = Signal(dict)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, timeout_ms: int = 180_000):
        super().__init__(parent)
        self.timeout_ms = timeout_ms
        self.proc: QProcess | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._timeout)
        self._reported = False

    def running(self) -> bool:
        return self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning

    def start(self, python: str) -> None:
        if self.running():
            return
        self._reported = False
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.setProcessEnvironment(_qenv(trainer_env()))
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._error)
        self.proc = proc
        self._timer.start(self.timeout_ms)
        proc.start(python, ["-c", ENV_SCRIPT])

    def _report(self, ok: bool, value) -> None:
        if self._reported:
            return
        self._reported = True
        self._timer.stop()
        (self.done if ok else self.failed).emit(value)

    def _finished(self, code: int, _status) -> None:
        text = bytes(self.proc.readAllStandardOutput()).decode("utf-8", errors="replace")
        for line in reversed(text.splitlines()):
            if line.startswith(ENV_TAG):
                try:
                    self._report(True, json.loads(line[len(ENV_TAG) :]))
                    return
                except ValueError:
                    break
        tail = "\n".join(text.strip().splitlines()[-6:])
        self._report(
            False,
            tr(
                "{program} exited with code {code}: {tail}",
                program=self.proc.program(),
                code=code,
                tail=tail,
            ).strip(),
        )

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._report(
                False,
                tr(
                    "cannot start {program}: {error}",
                    program=self.proc.program(),
                    error=self.proc.errorString(),
                ),
            )

    def _timeout(self) -> None:
        if self.running():
            self.proc.kill()
        self._report(
            False,
            tr(
                "no answer from {program} in {s} s",
                program=self.proc.program(),
                s=self.timeout_ms // 1000,
            ),
        )
