"""One run, live: state, progress, loss and learning-rate curves, throughput, ETA, GPU memory,
held-out accuracy and the log tail.

A timer polls the run folder: metrics.jsonl through a tail that reads only new bytes, and the
small status.json. The log comes from the child's output when this panel started the run,
otherwise from the run's train.log.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.models.run_metrics import (
    FileTail,
    MetricsTail,
    RunMetrics,
    effective_state,
    read_status,
)
from desktop.strings import N_, tr
from desktop.views.line_chart import LineChart

STATE_COLORS = {
    "starting": "#5b7fa6",
    "running": "#2f6fb0",
    "evaluating": "#7a5fb5",
    "merging": "#7a5fb5",
    "done": "#2e7d4f",
    "failed": "#b3261e",
    "interrupted": "#c77700",
    "new": "#6b6b6b",
}
STATE_TEXT = {
    "new": N_("not started"),
    "starting": N_("starting"),
    "running": N_("running"),
    "evaluating": N_("evaluating"),
    "merging": N_("merging"),
    "done": N_("done"),
    "failed": N_("failed"),
    "interrupted": N_("interrupted (process gone)"),
}
# The progress bar's words for a run with no step done yet, by state.
BEFORE_STEP_1 = {
    "new": N_("not started"),
    "failed": N_("failed before step 1"),
    "interrupted": N_("stopped before step 1"),
}
LOG_LINES = 2000  # the log view keeps this many lines; older ones scroll away for good
LOG_ATTACH_BYTES = 64 << 10


def format_duration(seconds) -> str:
    if not isinstance(seconds, int | float) or seconds < 0:
        return "—"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"


def _num(value, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, int | float) else "—"


def format_accuracy(ev: dict | None) -> str:
    if not ev:
        return ""
    before = (ev.get("before") or {}).get("overall", {}).get("accuracy")
    after = (ev.get("after") or {}).get("overall", {}).get("accuracy")
    text = tr("Held-out accuracy: ")
    if isinstance(before, int | float):
        text += tr("before {acc} → ", acc=f"{before:.1%}")
    text += tr("after {acc}", acc=_num(after, ".1%"))
    if isinstance(before, int | float) and isinstance(after, int | float):
        text += tr(" ({points:+.1f} points)", points=(after - before) * 100)
    kinds = []
    for kind, label in (("multiple_choice", N_("MC")), ("judgement", N_("yes/no")),
                        ("short_vqa", N_("VQA"))):  # fmt: skip
        block = (ev.get("after") or {}).get(kind) or {}
        if block.get("n"):
            acc = f"{block['accuracy']:.0%}"
            kinds.append(tr("{kind} {acc} of {n}", kind=tr(label), acc=acc, n=block["n"]))
    return text + (f"   [{', '.join(kinds)}]" if kinds else "")


class RunMonitor(QWidget):
    stateChanged = Signal(str)

    STATS = (
        ("loss", N_("Loss")),
        ("lr", N_("Learning rate")),
        ("tokens_per_s", N_("Tokens/s")),
        ("samples_per_s", N_("Samples/s")),
        ("elapsed", N_("Elapsed")),
        ("eta", N_("ETA")),
        ("gpu", N_("GPU memory")),
        ("epoch", N_("Epoch")),
    )

    def __init__(self, parent=None, interval_ms: int = 500):
        super().__init__(parent)
        self.run_dir: Path | None = None
        self.own = False
        self.exit_failed = False  # the child ended badly before it wrote any status
        self.state = "new"
        self.metrics = RunMetrics()
        self._tail: MetricsTail | None = None
        self._log_tail: FileTail | None = None
        self.title = QLabel(tr("No run yet: configure one and press Start"))
        self.title.setObjectName("runTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.state_label = QLabel()
        self.state_label.setObjectName("runState")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        for i, (key, name) in enumerate(self.STATS):
            caption = QLabel(tr(name))
            caption.setStyleSheet("color: palette(placeholder-text);")
            value = QLabel("—")
            value.setObjectName(f"stat_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(caption, 0, i)
            grid.addWidget(value, 1, i)
            self.values[key] = value
        self.eval_label = QLabel(wordWrap=True)
        self.eval_label.setObjectName("evalSummary")
        self.loss_chart = LineChart(tr("Training loss"))
        self.lr_chart = LineChart(tr("Learning rate"))
        charts = QHBoxLayout()
        charts.addWidget(self.loss_chart, 3)
        charts.addWidget(self.lr_chart, 2)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setObjectName("logTail")
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log.setPlaceholderText(tr("The trainer's output appears here"))

        top = QWidget()
        upper = QVBoxLayout(top)
        upper.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.state_label)
        upper.addLayout(head)
        upper.addWidget(self.progress)
        upper.addLayout(grid)
        upper.addWidget(self.eval_label)
        upper.addLayout(charts, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.log)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)
        self._set_state("new")

    def follow(self, run_dir: Path, own: bool = False) -> None:
        """Show `run_dir` from its start; `own`: its log arrives through append_log."""
        if self._tail is not None and Path(run_dir) == self.run_dir:
            # The same run again (a resume): keep what was read, read on from there.
            self.own = own
            self._log_tail = None if own else self._log_tail
            self.timer.start()
            return
        self.run_dir, self.own = Path(run_dir), own
        self.exit_failed = False
        self.metrics = RunMetrics()
        self._tail = MetricsTail(self.run_dir / "metrics.jsonl")
        log_path = self.run_dir / "train.log"
        self._log_tail = None if own else FileTail.last_bytes(log_path, LOG_ATTACH_BYTES)
        self.title.setText(self.run_dir.name)
        self.title.setToolTip(str(self.run_dir))
        self.loss_chart.clear()
        self.lr_chart.clear()
        self.eval_label.clear()
        self.log.clear()
        for label in self.values.values():
            label.setText("—")
        self.state = ""
        self.poll()
        self.timer.start()

    def set_own(self, own: bool) -> None:
        """The panel started (own) or no longer runs this run: where its log comes from."""
        self.own = own
        if not own and self.run_dir is not None and self._log_tail is None:
            # From here on the child's output is gone; whatever it logs next is in train.log.
            try:
                end = (self.run_dir / "train.log").stat().st_size
            except OSError:
                end = 0
            self._log_tail = FileTail(self.run_dir / "train.log", start=end)

    def append_log(self, lines: list[str]) -> None:
        for line in lines:
            self.log.appendPlainText(line)

    def poll(self) -> None:
        if self._tail is None:
            return
        events, reset = self._tail.poll()
        if reset:
            self.metrics = RunMetrics()
        if events or reset:
            self.metrics.feed(events)
            self._show_metrics()
        if self._log_tail is not None:
            lines, _ = self._log_tail.lines()
            self.append_log([b.decode("utf-8", errors="replace") for b in lines])
        state = effective_state(read_status(self.run_dir))
        if state == "new" and self.exit_failed:
            state = "failed"  # e.g. a config error: the trainer stopped before its run folder
        self._set_state(state)
        if self._tail.pending():
            QTimer.singleShot(0, self.poll)  # a backlog: keep reading, one chunk per turn

    def mark_exit(self, code: int, how: str) -> None:
        """The panel's own child ended: a bad exit is a failure even without a status file."""
        self.exit_failed = code != 0 and how != "stopped"
        self.poll()

    def has_progress(self) -> bool:
        """Whether the run got past step 0 (Resume has something to continue from)."""
        return self.metrics.step > 0 or self.metrics.checkpoints > 0

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        self._show_progress()
        color = STATE_COLORS.get(state, "#6b6b6b")
        self.state_label.setText(tr(STATE_TEXT.get(state, state)))
        self.state_label.setStyleSheet(
            f"color: white; background: {color}; border-radius: 4px; padding: 2px 8px;"
        )
        self.stateChanged.emit(state)

    def _show_progress(self) -> None:
        m = self.metrics
        total = m.total_steps or 0
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(m.step, total) if total else 0)
        if m.step == 0 and self.state in BEFORE_STEP_1:
            self.progress.setFormat(tr(BEFORE_STEP_1[self.state]))
        elif total:
            self.progress.setFormat(tr("step {step} of {total}", step=m.step, total=total))
        else:
            self.progress.setFormat(tr("waiting for step 1"))

    def _show_metrics(self) -> None:
        m = self.metrics
        self.loss_chart.set_series("loss", RunMetrics.series(m.loss), "#2f6fb0")
        self.lr_chart.set_series("lr", RunMetrics.series(m.lr), "#d9822b")
        self._show_progress()
        t = m.last_train
        peak = t.get("gpu_mem_peak_gb")
        gpu = tr(
            "{gb} GB (peak {peak})", gb=_num(t.get("gpu_mem_gb"), ".1f"), peak=_num(peak, ".1f")
        )
        text = {
            "loss": _num(m.final_loss, ".4f"),
            "lr": _num(t.get("lr"), ".3g"),
            "tokens_per_s": _num(t.get("tokens_per_s"), ",.0f"),
            "samples_per_s": _num(t.get("samples_per_s"), ",.2f"),
            "elapsed": format_duration(t.get("elapsed_s")),
            "eta": tr("done") if m.done else format_duration(t.get("eta_s")),
            "gpu": gpu if "gpu_mem_gb" in t else "— (CPU)" if t else "—",
            "epoch": _num(t.get("epoch"), ".2f"),
        }
        for key, value in text.items():
            self.values[key].setText(value)
        if m.eval:
            self.eval_label.setText(format_accuracy(m.eval))
        if m.error:
            self.eval_label.setText(tr("Error: {error}", error=m.error))
