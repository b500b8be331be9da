"""The Collect tab: search Openverse for openly licensed images of a domain (its keywords
prefilled), see each result's picture, license and attribution before anything is
downloaded, pick all or some, download them into the domain; or import a URL list. Downloads
show progress, can be cancelled, and every URL that did not make it is listed with its reason.
All work runs in desktop.workers.collect_worker over core.collect."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.panels import MenuAction, Panel, register_action, register_panel
from desktop.strings import N_, domain_title, tr, trn
from desktop.workers.collect_worker import PREVIEW_BOX, CollectWorker

LICENSE_CHOICES = (
    ("all", N_("Any open license")),
    ("commercial", N_("Commercial use allowed")),
    ("modification", N_("Modification allowed")),
)
REJECT_COLUMNS = (N_("URL"), N_("Reason"), N_("Detail"))
URL_LIST_FILTER = N_("URL lists (*.txt *.list *.csv *.tsv *.parquet)")


class CollectPanel(QWidget):
    collected = Signal(object)  # a CollectSummary: the library changed

    def __init__(self, project, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = project
        self.worker = CollectWorker(project, self)
        self.runner = self.worker  # MainWindow.shutdown() calls runner.wait()
        self.found = None  # the SearchResults on screen
        self.keywords: dict[str, list[str]] = {}

        self.domain = QComboBox(objectName="collectDomain")
        self.query = QLineEdit(objectName="collectQuery")
        self.query.setPlaceholderText(tr("Search words; commas separate searches"))
        self.license = QComboBox(objectName="collectLicense")
        for value, text in LICENSE_CHOICES:
            self.license.addItem(tr(text), value)
        self.pages = QSpinBox(objectName="collectPages", minimum=1, maximum=20)
        self.pages.setPrefix(tr("pages: "))
        self.search_button = QPushButton(tr("Search Openverse"), objectName="collectSearch")
        self.results = QListWidget(objectName="collectResults")
        self.results.setViewMode(QListWidget.ViewMode.IconMode)
        self.results.setIconSize(QSize(PREVIEW_BOX, PREVIEW_BOX))
        self.results.setGridSize(QSize(PREVIEW_BOX + 24, PREVIEW_BOX + 54))
        self.results.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.results.setMovement(QListWidget.Movement.Static)
        self.results.setWordWrap(True)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.details = QLabel(objectName="collectDetails", wordWrap=True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMinimumWidth(240)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.pick_all = QPushButton(tr("Pick all"), objectName="collectPickAll")
        self.pick_none = QPushButton(tr("Pick none"), objectName="collectPickNone")
        self.download_button = QPushButton(tr("Download picked"), objectName="collectDownload")
        self.url_button = QPushButton(tr("Import URL list…"), objectName="collectUrlList")
        self.bar = QProgressBar(objectName="collectProgress")
        self.cancel_button = QPushButton(tr("Cancel"), objectName="collectCancel")
        self.rejects = QTableWidget(0, len(REJECT_COLUMNS), objectName="collectRejects")
        self.rejects.setHorizontalHeaderLabels([tr(c) for c in REJECT_COLUMNS])
        self.rejects.verticalHeader().hide()
        self.rejects.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rejects.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.message = QLabel(objectName="panelMessage", wordWrap=True)
        self._layout()

        self.domain.currentIndexChanged.connect(self._domain_changed)
        self.search_button.clicked.connect(self.search)
        self.query.returnPressed.connect(self.search)
        self.results.currentItemChanged.connect(self._show_details)
        self.results.itemChanged.connect(lambda _i: self._update_buttons())
        self.pick_all.clicked.connect(lambda: self.pick(True))
        self.pick_none.clicked.connect(lambda: self.pick(False))
        self.download_button.clicked.connect(self.download)
        self.url_button.clicked.connect(self.choose_url_list)
        self.cancel_button.clicked.connect(self.worker.cancel)
        w = self.worker
        w.searched.connect(self._searched)
        w.preview.connect(self._preview)
        w.progress.connect(self._progress)
        w.finished.connect(self._finished)
        w.failed.connect(self._failed)
        self.reload_domains()
        self._update_buttons()

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("Domain")))
        top.addWidget(self.domain, 1)
        top.addWidget(self.query, 3)
        top.addWidget(self.license, 1)
        top.addWidget(self.pages)
        top.addWidget(self.search_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.results)
        split.addWidget(self.details)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        picks = QHBoxLayout()
        for w in (self.pick_all, self.pick_none, self.download_button):
            picks.addWidget(w)
        picks.addStretch(1)
        picks.addWidget(self.url_button)
        run = QHBoxLayout()
        run.addWidget(self.bar, 1)
        run.addWidget(self.cancel_button)
        problems = QGroupBox(tr("URLs that did not make it"))
        QVBoxLayout(problems).addWidget(self.rejects)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 3)
        layout.addLayout(picks)
        layout.addLayout(run)
        layout.addWidget(self.message)
        layout.addWidget(problems, 1)

    # domains -------------------------------------------------------------------------
    def reload_domains(self) -> None:
        from core.domains import list_domains

        current = self.domain.currentData()
        rows = list_domains(self.project.db)
        self.keywords = {d.name: list(d.keywords) or [d.title or d.name] for d in rows}
        self.domain.blockSignals(True)
        self.domain.clear()
        for d in rows:
            self.domain.addItem(domain_title(d.name, d.title), d.name)
        self.domain.blockSignals(False)
        self.choose_domain(current or (rows[0].name if rows else None))

    def choose_domain(self, name: str | None) -> None:
        index = self.domain.findData(name)
        if index >= 0:
            self.domain.setCurrentIndex(index)
        self._domain_changed()

    def _domain_changed(self) -> None:
        self.query.setText(", ".join(self.keywords.get(self.domain.currentData(), [])))

    def queries(self) -> list[str]:
        return [q.strip() for q in self.query.text().split(",") if q.strip()]

    # search --------------------------------------------------------------------------
    def search(self) -> None:
        domain = self.domain.currentData()
        if not domain:
            self.say(tr("Add a domain first (Tools > Domains)"))
            return
        self.results.clear()
        self.found = None
        self.search_button.setEnabled(False)
        self.say(tr("Searching Openverse…"))
        self.worker.search(domain, self.queries(), self.license.currentData(), self.pages.value())

    def _searched(self, found) -> None:
        self.found = found
        self.search_button.setEnabled(True)
        self.results.blockSignals(True)
        for item in found.items:
            meta = item.meta
            text = f"{item.title or item.url.rsplit('/', 1)[-1]}\n{meta.get('license') or '?'}"
            row = QListWidgetItem(text)
            row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            row.setCheckState(Qt.CheckState.Checked)
            row.setToolTip(meta.get("attribution") or item.url)
            row.setSizeHint(QSize(PREVIEW_BOX + 20, PREVIEW_BOX + 50))
            self.results.addItem(row)
        self.results.blockSignals(False)
        text = trn("{n:,} result", "{n:,} results", len(found.items))
        if found.errors:
            text += " — " + tr("some searches failed: {error}", error=found.errors[0]["error"])
        self.say(text)
        if found.items:
            self.results.setCurrentRow(0)
        self._update_buttons()

    def _preview(self, number: int, index: int, image: QImage) -> None:
        if number != self.worker.search_number or index >= self.results.count():
            return
        item = self.results.item(index)
        if image.isNull():
            item.setToolTip(item.toolTip() + "\n" + tr("(no preview)"))
            return
        item.setIcon(QIcon(QPixmap.fromImage(image)))

    def _show_details(self, current, _previous=None) -> None:
        if current is None or self.found is None:
            self.details.setText("")
            return
        item = self.found.items[self.results.row(current)]
        m = item.meta
        lines = [
            item.title or "",
            tr("License: {license}", license=m.get("license") or tr("unknown")),
            tr("By: {creator}", creator=m.get("creator") or tr("unknown")),
            tr("Source: {url}", url=m.get("landing_url") or item.url),
            "",
            m.get("attribution") or "",
        ]
        self.details.setText("\n".join(lines).strip())

    # picking and downloading ---------------------------------------------------------
    def pick(self, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        self.results.blockSignals(True)
        for i in range(self.results.count()):
            self.results.item(i).setCheckState(state)
        self.results.blockSignals(False)
        self._update_buttons()

    def picked(self) -> list:
        if self.found is None:
            return []
        return [
            item
            for i, item in enumerate(self.found.items)
            if self.results.item(i).checkState() == Qt.CheckState.Checked
        ]

    def download(self) -> None:
        items = self.picked()
        if not items:
            self.say(tr("Pick at least one result to download"))
            return
        domain = self.domain.currentData()
        self._begin(tr("Downloading {n:,} image(s) into {domain}…", n=len(items), domain=domain))
        self.worker.download(domain, self.found, items)

    def choose_url_list(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Import a URL list"), "",
                                              tr(URL_LIST_FILTER))  # fmt: skip
        if path:
            self.import_url_list(path)

    def import_url_list(self, path: str) -> None:
        domain = self.domain.currentData()
        if not domain:
            self.say(tr("Add a domain first (Tools > Domains)"))
            return
        self._begin(tr("Importing the URLs of {file} into {domain}…", file=path, domain=domain))
        self.worker.import_list(path, domain)

    def _begin(self, text: str) -> None:
        self.rejects.setRowCount(0)
        self.bar.setRange(0, 0)
        self.say(text)
        self._update_buttons(running=True)

    def _progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(min(done, max(1, total)))

    def _finished(self, summary) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        rows = [(f["url"], f["reason"], f.get("detail") or "") for f in summary.failed]
        rows += [(r["path"], r["reason"], r.get("detail") or "") for r in summary.rejected]
        self.rejects.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                cell = QTableWidgetItem(str(value))
                cell.setToolTip(str(value))
                self.rejects.setItem(r, c, cell)
        imp = summary.imported
        self.say(tr("{imported:,} imported, {dups:,} already in the project, {failed:,} did not "
                    "make it (listed below)", imported=imp.imported if imp else 0,
                    dups=(imp.duplicates if imp else 0) + summary.skipped_known,
                    failed=len(rows)))  # fmt: skip
        self._update_buttons()
        self.collected.emit(summary)

    def _failed(self, text: str) -> None:
        self.search_button.setEnabled(True)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.say(text)
        self._update_buttons()

    def _update_buttons(self, running: bool | None = None) -> None:
        running = self.worker.running if running is None else running
        has = bool(self.picked())
        self.download_button.setEnabled(has and not running)
        self.download_button.setText(
            tr("Download {n:,} picked", n=len(self.picked())) if has else tr("Download picked")
        )
        self.url_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for b in (self.pick_all, self.pick_none):
            b.setEnabled(self.found is not None and bool(self.found.items))

    def say(self, text: str) -> None:
        self.message.setText(text)

    def busy(self) -> bool:
        return self.worker.busy()


def _factory(window) -> CollectPanel:
    panel = CollectPanel(window.project, window)
    panel.collected.connect(lambda _s: (window.refresh_library(), window.model.refresh()))
    return panel


register_panel(Panel("collect", N_("Collect"), _factory, area="tab", order=20))
register_action(MenuAction("View", N_("Collect"), lambda w: w.show_panel("collect"), order=20))
