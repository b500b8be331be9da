"""Per-item runs from the review: regenerate one item, or verify it again, as a one-item
selection through the stage registry (core/pipeline/stages.py, `instruction_ids`), on its own
JobWorker so it never waits behind a big job. A regenerated item is checked at once (the
check stage on its image), so its flags and risk are fresh when it comes back."""

from __future__ import annotations

import random

from PySide6.QtCore import QObject, Signal

from core.changes import Changes
from core.pipeline import stages
from desktop.models.job_plan import Scope
from desktop.strings import N_, tr
from desktop.workers.job_worker import JobWorker


class ItemRuns(QObject):
    message = Signal(str)
    changed = Signal(object)  # core.changes.Changes of a finished run
    finished = Signal(str, int)  # "regenerate" | "reverify", item id

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(parent)
        self.window = window
        self.worker = JobWorker(window.project, self)
        self._jobs: dict[int, tuple[str, int, int]] = {}  # job id -> (what, image, item)
        self._pending: list[tuple[str, int, int]] = []  # started, job id not known yet
        self._checks: dict[str, tuple[int, int]] = {}  # direct-run key -> (image, item)
        self._checks_pending: tuple[int, int] | None = None  # check asked, key not known yet
        w = self.worker
        w.jobStarted.connect(self._job_started)
        w.jobEnded.connect(self._job_ended)
        w.nothingToDo.connect(self._nothing_to_do)
        w.failed.connect(self._failed)
        w.directStarted.connect(self._check_started)
        w.directEnded.connect(self._check_ended)
        w.changed.connect(self.changed)

    def backend_name(self) -> str | None:
        """The Jobs panel's backend, else the first one configured."""
        jobs = getattr(self.window, "panels", {}).get("jobs")
        form = getattr(jobs, "form", None)
        name = form.backend.currentData() if form is not None else None
        if name:
            return name
        from core.backends.settings import load_backends

        names = list(load_backends())
        return names[0] if names else None

    def regenerate(self, image_id: int, item_id: int, lang: str) -> None:
        # A new sample seed: a new request, never the reply an earlier run cached.
        opts = stages.get("generate").options(
            lang=lang, instruction_ids=[item_id], sample_seed=random.randrange(1, 2**31)
        )
        self._start("regenerate", "generate", opts, image_id, item_id)

    def reverify(self, image_id: int, item_id: int) -> None:
        # force: verify it again even when it was verified before
        opts = stages.get("verify").options(instruction_ids=[item_id], force=True)
        self._start("reverify", "verify", opts, image_id, item_id)

    def _start(self, what: str, stage: str, opts, image_id: int, item_id: int) -> None:
        self._pending.append((what, image_id, item_id))
        self.message.emit(tr("Item #{id}: {what} started", id=item_id, what=tr(WHAT[what])))
        self.worker.start(stage, opts, Scope("images", (image_id,)), self.backend_name())

    def _job_started(self, job_id: int, _info) -> None:
        if self._pending:
            self._jobs[job_id] = self._pending.pop(0)

    def _nothing_to_do(self, _stage: str, skipped: dict) -> None:
        if self._pending:
            what, _image, item = self._pending.pop(0)
            reasons = ", ".join(f"{k} {v}" for k, v in skipped.items() if v) or tr("nothing to do")
            self.message.emit(tr("Item #{id}: not run ({why})", id=item, why=reasons))

    def _failed(self, text: str) -> None:
        if self._pending:
            self._pending.pop(0)
        self.message.emit(tr("Not run: {error}", error=text))

    def _job_ended(self, job_id: int, final) -> None:
        what, image_id, item_id = self._jobs.pop(job_id, (None, 0, 0))
        if what is None:
            return
        status = final.status if final is not None else "failed"
        ok = status == "done" and final.failed == 0
        if not ok:
            reason = final.message if final is not None and final.message else status
            self.message.emit(tr("Item #{id}: {what} failed: {why}", id=item_id,
                                 what=tr(WHAT[what]), why=reason))  # fmt: skip
            self.finished.emit(what, item_id)
            return
        if final.cached:
            self.message.emit(tr("Item #{id}: answered from the cache (same request as before)",
                                 id=item_id))  # fmt: skip
        if what == "regenerate":
            self._checks_pending = (image_id, item_id)
            check = stages.get("check").options()
            self.worker.start("check", check, Scope("images", (image_id,)), None)
            return
        self._done(what, image_id, item_id)

    def _check_started(self, key: str, _stage: str) -> None:
        pending = self._checks_pending
        if pending is not None:
            self._checks[key] = pending
            self._checks_pending = None

    def _check_ended(self, key: str, _summary) -> None:
        if key in self._checks:
            image_id, item_id = self._checks.pop(key)
            self._done("regenerate", image_id, item_id)

    def _done(self, what: str, image_id: int, item_id: int) -> None:
        self.changed.emit(Changes.of(images=[image_id], instructions=[item_id]))
        self.message.emit(tr("Item #{id}: {what} done", id=item_id, what=tr(WHAT[what])))
        self.finished.emit(what, item_id)

    def busy(self) -> bool:
        return self.worker.busy() or bool(self._jobs or self._pending or self._checks)

    def wait(self, msecs: int = -1) -> bool:
        return self.worker.wait(msecs)


WHAT = {"regenerate": N_("regenerate"), "reverify": N_("re-verify")}
