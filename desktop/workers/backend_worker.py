"""Slow backend work for the Settings dialog, off the GUI thread: the connection test (one
text and one image request, as `mmstudio backend test` sends) and catalog downloads."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.strings import N_, tr
from desktop.workers.tasks import TaskRunner

WHAT = {"text": N_("text"), "image": N_("image")}


def check_backend(name: str) -> dict:
    """Worker thread: the same probe and result shape as `mmstudio backend test --json`."""
    from core.backends.probe import NO_IMAGES, REFUSED, probe
    from core.backends.registry import make_backend

    with make_backend(name) as backend:
        result = probe(backend)
    said = {NO_IMAGES: tr("this backend has no vision projector (mmproj)"),
            REFUSED: tr("the text request was refused")}  # fmt: skip
    skipped = result["image"].get("skipped")
    if skipped in said:
        result["image"]["skipped"] = said[skipped]
    return result


def describe_test(result: dict) -> str:
    lines = []
    for what in ("text", "image"):
        r, name = result[what], tr(WHAT[what])
        if r.get("skipped"):
            lines.append(tr("{what}: skipped ({why})", what=name, why=r["skipped"]))
        elif r["ok"]:
            reply = repr(r["reply"][:100])
            lines.append(
                tr("{what}: ok in {s} s — {reply}", what=name, s=r["latency_s"], reply=reply)
            )
            if r.get("attempts", 1) > 1:
                lines[-1] += tr(" (answered on attempt {n})", n=r["attempts"])
        else:
            lines.append(
                tr(
                    "{what}: FAILED ({kind}): {error}",
                    what=name,
                    kind=r["error_class"],
                    error=r["error"],
                )
            )
    return "\n".join(lines)


class BackendWorker(QObject):
    tested = Signal(object)  # the check_backend() dict
    testFailed = Signal(str)
    progress = Signal(str, object, object)  # file name, bytes done, bytes total (0: unknown)
    downloaded = Signal(object, object, object)  # catalog entry, model path, mmproj path or None
    downloadFailed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = TaskRunner(self, threads=2)
        self.downloading = False
        self.hub_endpoint: str | None = None  # another hub (a mirror; tests use a local one)

    def test(self, name: str) -> None:
        self.runner.submit(
            lambda _report: check_backend(name),
            self.tested.emit,
            lambda exc: self.testFailed.emit(str(exc) or type(exc).__name__),
        )

    def download(self, entry) -> None:
        if self.downloading:
            raise RuntimeError(tr("a download is already running"))
        self.downloading = True
        endpoint = self.hub_endpoint

        def work(report):
            from core.backends.catalog import download

            def progress(name, done, total):
                report((name, int(done), int(total or 0)))

            model, mmproj = download(entry, progress, endpoint)
            return entry, model, mmproj

        def done(result):
            self.downloading = False
            self.downloaded.emit(*result)

        def failed(exc):
            self.downloading = False
            self.downloadFailed.emit(str(exc) or type(exc).__name__)

        self.runner.submit(work, done, failed, lambda p: self.progress.emit(*p))

    def busy(self) -> bool:
        return self.runner.busy()

    def wait(self, msecs: int = -1) -> bool:
        return self.runner.wait(msecs)
