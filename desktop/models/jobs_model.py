"""The jobs table: jobs stored in the project (core.store.jobs) merged with the live progress
events of the ones running now, plus the direct runs (check, embedded OCR) of this session."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from desktop.strings import N_, tr

# A job in one of these states has work left that Resume picks up.
RESUMABLE = ("pending", "stopped", "budget", "cancelled", "failed", "paused")
ACTIVE = ("running", "paused")

STATUS_COLORS = {
    "running": "#2f7ed8",
    "paused": "#e0a030",
    "done": "#3c9a5f",
    "failed": "#c8463d",
    "cancelled": "#8a8f98",
    "stopped": "#9b59b6",
    "budget": "#9b59b6",
}
JOB_STATUSES = {
    "pending": N_("pending"),
    "running": N_("running"),
    "paused": N_("paused"),
    "done": N_("done"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
    "stopped": N_("stopped"),
    "budget": N_("budget spent"),
    "nothing to do": N_("nothing to do"),
}


STAGE_NAMES = {
    "ocr": N_("ocr"),
    "caption": N_("caption"),
    "caption_retry": N_("caption retry"),
    "generate": N_("generate"),
    "check": N_("check"),
    "verify": N_("verify"),
    "verify_caption": N_("verify against caption"),
    "blind": N_("blind check"),
    "expand": N_("expand"),
    "rephrase": N_("rephrase"),
    "translate": N_("translate"),
}


def stage_text(stage: str) -> str:
    return tr(STAGE_NAMES.get(stage, stage))


# Why planning left items out (the `skipped` keys of the pipeline planners).
SKIP_REASONS = {
    "already_captioned": N_("already captioned"),
    "no_caption": N_("no caption"),
    "already_generated": N_("already generated"),
    "already_verified": N_("already verified"),
    "already_expanded": N_("already expanded"),
    "already_done": N_("already done"),
}


def skipped_text(skipped: dict, sep: str = ": ") -> str:
    return ", ".join(
        f"{tr(SKIP_REASONS.get(k, k.replace('_', ' ')))}{sep}{v}" for k, v in skipped.items() if v
    )


def status_text(status: str) -> str:
    return tr(JOB_STATUSES.get(status, status))


@dataclass
class JobRow:
    key: int | str  # job id, or "check-1" for a direct run
    stage: str
    backend: str = ""
    scope: str = ""
    status: str = "pending"
    reason: str | None = None
    total: int = 0
    done: int = 0
    failed: int = 0
    in_flight: int = 0
    cached: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    eta_s: float | None = None
    rate_per_s: float = 0.0
    direct: bool = False
    window: int | None = None  # adaptive concurrency, from the engine's events
    limit_per_s: float | None = None
    throttled: int = 0

    @property
    def pending(self) -> int:
        return max(0, self.total - self.done - self.failed)

    @property
    def resumable(self) -> bool:
        """Work is left (pending items or failures to retry) and nothing runs it now."""
        return not self.direct and self.status in RESUMABLE and self.pending > 0

    def summary(self) -> str:
        parts = [tr("{done:,} / {total:,} done", done=self.done, total=self.total)]
        if self.failed:
            parts.append(tr("{n:,} failed", n=self.failed))
        if self.in_flight:
            parts.append(tr("{n} in flight", n=self.in_flight))
        if self.cached:
            parts.append(tr("{n:,} from cache", n=self.cached))
        if not self.direct:
            parts.append(tr("{n:,} tokens", n=self.tokens))
            parts.append(f"${self.cost_usd:.4f}")
        if self.status == "running" and self.rate_per_s > 0:
            parts.append(f"{self.rate_per_s:.1f}/s")
        if self.status == "running" and self.window is not None:
            limit = f", {self.limit_per_s:.1f}/s" if self.limit_per_s else ""
            parts.append(tr("limits: {w} at once{limit}", w=self.window, limit=limit))
        if self.throttled:
            parts.append(tr("{n} rate-limited", n=self.throttled))
        if self.status in ACTIVE:
            parts.append(tr("ETA {eta}", eta=format_eta(self.eta_s)))
        return " · ".join(parts)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def scope_text(params: dict | None) -> str:
    scope = (params or {}).get("scope") or {}
    kind = scope.get("kind")
    if kind == "images":
        return tr("{n:,} images", n=scope.get("images", 0))
    if kind == "domain":
        return tr("domain {domain}", domain=scope.get("domain"))
    if kind == "all":
        return tr("everything")
    domain = (params or {}).get("domain")
    return tr("domain {domain}", domain=domain) if domain else ""


def row_from_stored(job: dict, usage: dict | None) -> JobRow:
    """A row from core.store.jobs.list_jobs (+ job_usage)."""
    counts = job.get("counts") or {}
    usage = usage or {}
    return JobRow(
        key=job["id"], stage=job["stage"], backend=job.get("backend") or "",
        scope=scope_text(job.get("params")), status=job["status"],
        reason=job.get("status_reason"), total=counts.get("total", 0),
        done=counts.get("done", 0), failed=counts.get("failed", 0),
        cached=counts.get("cached", 0),
        tokens=int(usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)),
        cost_usd=float(usage.get("cost_usd", 0.0)),
    )  # fmt: skip


COLUMNS = (N_("Job"), N_("Stage"), N_("Backend"), N_("Scope"), N_("Status"), N_("Progress"),
           N_("Failed"), N_("In flight"), N_("Tokens"), N_("Cost"), N_("ETA"))  # fmt: skip
PROGRESS_COLUMN = COLUMNS.index("Progress")


class JobsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[JobRow] = []

    # reading -----------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(COLUMNS[section])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, col)
        if role == Qt.ItemDataRole.UserRole:
            return row
        if role == Qt.ItemDataRole.ForegroundRole and COLUMNS[col] == "Status":
            return QColor(STATUS_COLORS.get(row.status, "#444444"))
        if role == Qt.ItemDataRole.ToolTipRole and row.reason:
            return row.reason
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= PROGRESS_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(row: JobRow, col: int) -> str:
        name = COLUMNS[col]
        if name == "Job":
            return str(row.key) if not row.direct else "—"
        if name == "Status":
            status = status_text(row.status)
            return f"{status} ({row.reason})" if row.reason else status
        if name == "Progress":
            failed = tr(" · {n:,} failed", n=row.failed) if row.failed else ""
            return f"{row.done:,} / {row.total:,}{failed}"
        if name == "Failed":
            return f"{row.failed:,}"
        if name == "In flight":
            return str(row.in_flight) if row.status in ACTIVE else ""
        if name == "Tokens":
            return "" if row.direct else f"{row.tokens:,}"
        if name == "Cost":
            return "" if row.direct else f"${row.cost_usd:.4f}"
        if name == "ETA":
            return format_eta(row.eta_s) if row.status in ACTIVE else ""
        if name == "Stage":
            return stage_text(row.stage)
        return str(getattr(row, name.lower()))

    def row_of(self, key) -> int | None:
        for i, r in enumerate(self.rows):
            if r.key == key:
                return i
        return None

    def job(self, key) -> JobRow | None:
        i = self.row_of(key)
        return None if i is None else self.rows[i]

    # writing -----------------------------------------------------------------------------
    def set_stored(self, rows: list[JobRow], live: set) -> None:
        """Replace the stored rows; rows of jobs running now keep their live numbers."""
        keep = {r.key: r for r in self.rows if r.key in live or r.direct}
        merged = [keep.pop(r.key, r) for r in rows]
        merged = list(keep.values()) + merged
        merged.sort(key=lambda r: (not r.direct, -(r.key if isinstance(r.key, int) else 0)))
        self.beginResetModel()
        self.rows = merged
        self.endResetModel()

    def upsert(self, row: JobRow) -> int:
        i = self.row_of(row.key)
        if i is None:
            self.beginInsertRows(QModelIndex(), 0, 0)
            self.rows.insert(0, row)
            self.endInsertRows()
            return 0
        self.rows[i] = row
        self.changed(i)
        return i

    def apply_event(self, ev) -> int:
        """Fold a core.jobs.JobEvent into its row (made when the job is new to the table)."""
        i = self.row_of(ev.job_id)
        row = self.rows[i] if i is not None else JobRow(ev.job_id, "")
        row.status = ev.status
        row.total, row.done, row.failed = ev.total, ev.done, ev.failed
        row.in_flight, row.cached = ev.in_flight, ev.cached
        row.tokens = ev.prompt_tokens + ev.completion_tokens
        row.cost_usd, row.eta_s, row.rate_per_s = ev.cost_usd, ev.eta_s, ev.rate_per_s
        row.window, row.limit_per_s, row.throttled = ev.window, ev.limit_per_s, ev.throttled
        if ev.kind == "status":
            row.reason = ev.message
        return self.upsert(row)

    def changed(self, i: int) -> None:
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
