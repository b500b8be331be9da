"""The Curate tab: the embedding job (CLIP model from the catalog or a local folder, CPU by
default, progress, cancel, resumable), and pages to settle near-duplicate groups, reject
off-domain images, find more like an image (project or a pool folder) and search by text.
Every decision is a review edit through the window's undo history."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.panels import MenuAction, Panel, register_action, register_panel
from desktop.strings import N_, tr
from desktop.workers.clip_worker import GUI_BATCH, ClipWorker

PHASES = {"download": N_("downloading the model"), "load": N_("loading the model"),
          "embed": N_("embedding"),
          "pool": N_("indexing the pool"), "import": N_("importing")}  # fmt: skip
FOLDER = "\x00folder"  # the combo entry that asks for a model folder


class CuratePanel(QWidget):
    libraryChanged = Signal()  # images were added, moved or decided
    jobDone = Signal(str, object)  # job name, summary (pages listen for theirs)

    def __init__(self, project, history, thumbs, parent: QWidget | None = None):
        super().__init__(parent)
        from desktop.views.curate_pages import DuplicatesPage, OffDomainPage
        from desktop.views.curate_similar import SimilarPage, TextSearchPage

        self.project, self.history, self.thumbs = project, history, thumbs
        self.worker = ClipWorker(project, self)
        self.runner = self.worker  # MainWindow.shutdown() calls runner.wait()
        self.model = QComboBox(objectName="clipModel")
        self.batch = QSpinBox(objectName="clipBatch", minimum=1, maximum=512)
        self.batch.setValue(GUI_BATCH)
        self.batch.setPrefix(tr("batch: "))
        self.batch.setToolTip(tr("Images per step on the CPU; smaller keeps the window livelier"))
        self.embed_button = QPushButton(tr("Embed images"), objectName="clipEmbed")
        self.bar = QProgressBar(objectName="clipProgress")
        self.cancel_button = QPushButton(tr("Cancel"), objectName="clipCancel")
        self.status = QLabel(objectName="clipStatus", wordWrap=True)
        self.message = QLabel(objectName="panelMessage", wordWrap=True)
        self.pages = QTabWidget(objectName="curatePages")
        self.dups = DuplicatesPage(self)
        self.off_domain = OffDomainPage(self)
        self.similar = SimilarPage(self)
        self.text_search = TextSearchPage(self)
        self.pages.addTab(self.dups, tr("Near duplicates"))
        self.pages.addTab(self.off_domain, tr("Off-domain"))
        self.pages.addTab(self.similar, tr("More like this"))
        self.pages.addTab(self.text_search, tr("Search by text"))

        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("CLIP model")))
        bar.addWidget(self.model, 2)
        bar.addWidget(self.batch)
        bar.addWidget(self.embed_button)
        bar.addWidget(self.bar, 2)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.message)

        self.model.activated.connect(self._model_activated)
        self.embed_button.clicked.connect(self.embed)
        self.cancel_button.clicked.connect(self.worker.cancel)
        self.worker.jobProgress.connect(self._progress)
        self.worker.jobFinished.connect(self._finished)
        self.worker.jobFailed.connect(self._job_failed)
        self.worker.failed.connect(self.say)
        self.reload_models()
        self._running(False)

    # models ------------------------------------------------------------------------------
    def reload_models(self) -> None:
        from core.collect.catalog import catalog
        from core.store import embeddings as estore

        current = self.current_model()
        default, specs = catalog()
        stored = estore.list_models(self.project.db)
        self.model.clear()
        for row in sorted(stored, key=lambda r: -r.id):
            self.model.addItem(tr("{name} — {n:,} vectors", name=row.name, n=row.vectors),
                               row.name)  # fmt: skip
        for name, spec in specs.items():
            if all(r.name != name for r in stored):
                self.model.addItem(tr("{name} — download about {mb:,} MB", name=name,
                                      mb=spec.size_mb or 0), name)  # fmt: skip
        self.model.addItem(tr("Choose a model folder…"), FOLDER)
        self.set_model(current or (stored[-1].name if stored else default))

    def set_model(self, name: str) -> None:
        index = self.model.findData(name)
        if index < 0:
            self.model.insertItem(0, name, name)
            index = 0
        self.model.setCurrentIndex(index)
        self.update_status()

    def current_model(self) -> str | None:
        value = self.model.currentData()
        return None if value in (None, FOLDER) else value

    def _model_activated(self, _index: int) -> None:
        if self.model.currentData() != FOLDER:
            self.update_status()
            return
        folder = QFileDialog.getExistingDirectory(self, tr("Choose a CLIP model folder"))
        if folder:
            self.set_model(folder)
        else:
            self.model.setCurrentIndex(0)
        self.update_status()

    def update_status(self) -> None:
        from core.collect.embed import model_key
        from core.store import embeddings as estore
        from core.store.stats import image_count

        name = self.current_model()
        db = self.project.db
        total = image_count(db)
        row = estore.get_model(db, model_key(name)) if name else None
        have = row.vectors if row else 0
        self.status.setText(tr("{have:,} of {total:,} images have a vector from {model}",
                               have=have, total=total, model=name or "?"))  # fmt: skip

    # the embedding job -------------------------------------------------------------------
    def embed(self) -> None:
        if self.worker.embed(self.current_model(), self.batch.value()):
            self._running(True)
            self.say(tr("Embedding with {model}…", model=self.current_model()))

    def start_job(self, started: bool, text: str) -> None:
        """Pages start their jobs through the worker and report here."""
        if started:
            self._running(True)
            self.say(text)

    def _running(self, on: bool) -> None:
        self.embed_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        if on:
            self.bar.setRange(0, 0)

    def _progress(self, phase: str, done: int, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(min(done, max(1, total)))
        self.bar.setFormat(f"{tr(PHASES.get(phase, phase))} — %v / %m")

    def _finished(self, name: str, summary) -> None:
        self._running(False)
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.bar.setFormat(tr("done"))
        describe = getattr(summary, "describe", None)
        if describe is not None:
            self.say(describe())
        elif name == "pool":
            self.say(tr("{n:,} pool image(s) indexed, {failed:,} unreadable", n=len(summary),
                        failed=len(summary.failed)))  # fmt: skip
        self.reload_models()
        self.jobDone.emit(name, summary)

    def _job_failed(self, name: str, text: str) -> None:
        self._running(self.worker.job is not None)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.say(text)

    def say(self, text: str) -> None:
        self.message.setText(text)

    def busy(self) -> bool:
        return self.worker.busy()


def _factory(window) -> CuratePanel:
    panel = CuratePanel(window.project, window.history, window.thumbs, window)
    panel.libraryChanged.connect(lambda: (window.refresh_library(), window.model.refresh()))
    return panel


def more_like_current(window) -> None:
    """From any image: the current one in the grid, in the Curate tab's More like this."""
    image_id = window.grid.current_image()
    panel = window.panels["curate"]
    window.show_panel("curate")
    panel.pages.setCurrentWidget(panel.similar)
    if image_id is not None:
        panel.similar.search_like(image_id)


register_panel(Panel("curate", N_("Curate"), _factory, area="tab", order=22))
register_action(MenuAction("View", N_("Curate"), lambda w: w.show_panel("curate"), order=22))
register_action(MenuAction("Review", N_("More like this image"), more_like_current,
                           shortcut="Ctrl+M", order=60))  # fmt: skip
