"""Import images: folders, files or zip archives into a domain, with progress and a summary
that lists every rejected file and why."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core.store import browse
from desktop.strings import tr, trn
from desktop.workers.import_worker import ImportWorker

PATTERNS = "*.jpg *.jpeg *.png *.webp *.gif *.bmp *.tif *.tiff *.zip"


def describe_import(summary) -> str:
    """The summary's counts in the interface language (core's describe() speaks English)."""
    text = trn("Imported {n} image", "Imported {n} images", summary.imported)
    if summary.domain:
        text += tr(" into domain {domain}", domain=summary.domain)
    text += tr(
        ": {duplicates} exact duplicate(s), {near} near duplicate(s), {rejected} rejected",
        duplicates=summary.duplicates,
        near=summary.near_duplicates,
        rejected=len(summary.rejected),
    )
    if summary.ignored:
        text += tr(", {n} system file(s) ignored", n=summary.ignored)
    if summary.rejected:
        reasons: dict[str, int] = {}
        for r in summary.rejected:
            reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
        text += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) + ")"
    return text + tr(".")


class ImportDialog(QDialog):
    imported = Signal(object)  # the ImportSummary, after rows were written

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr("Import images"))
        self.project = project
        self.summary = None
        self.worker = ImportWorker(project, self)
        self.worker.progress.connect(self._progress)
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(self._failed)

        self.paths = QListWidget(self)
        self.paths.setObjectName("importPaths")
        add_folder = QPushButton(tr("Add folder…"), self)
        add_folder.clicked.connect(self._add_folder)
        add_files = QPushButton(tr("Add files or zip…"), self)
        add_files.clicked.connect(self._add_files)
        remove = QPushButton(tr("Remove"), self)
        remove.clicked.connect(self._remove_selected)
        buttons = QHBoxLayout()
        for b in (add_folder, add_files, remove):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.domain = QComboBox(self)
        self.domain.setObjectName("importDomain")
        self.domain.setEditable(True)
        self.domain.addItem("")
        for name, _n in browse.domain_counts(project.db):
            if name:
                self.domain.addItem(name)
        self.domain.lineEdit().setPlaceholderText(tr("no domain (or type a new one)"))
        self.reference = QCheckBox(
            tr("Keep files where they are (do not copy into the project)"), self
        )
        form = QFormLayout()
        form.addRow(tr("Domain"), self.domain)
        form.addRow("", self.reference)

        self.bar = QProgressBar(self)
        self.bar.setVisible(False)
        self.status = QLabel(self)
        self.status.setObjectName("importStatus")
        self.status.setWordWrap(True)
        self.rejected = QTableWidget(0, 3, self)
        self.rejected.setObjectName("rejectedTable")
        self.rejected.setHorizontalHeaderLabels([tr("File"), tr("Reason"), tr("Detail")])
        self.rejected.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.rejected.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.rejected.setVisible(False)

        self.start_button = QPushButton(tr("Import"), self)
        self.start_button.setObjectName("startImport")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.close_button = QPushButton(tr("Close"), self)
        self.close_button.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.start_button)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(tr("Folders are searched recursively; zip archives are unpacked safely."))
        )
        layout.addWidget(self.paths)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.rejected, 1)
        layout.addLayout(bottom)
        self.resize(720, 520)

    # inputs --------------------------------------------------------------------------
    def add_paths(self, paths) -> None:
        existing = {self.paths.item(i).text() for i in range(self.paths.count())}
        for p in paths:
            text = str(p)
            if text and text not in existing:
                self.paths.addItem(text)
                existing.add(text)

    def _remove_selected(self) -> None:
        for item in self.paths.selectedItems():
            self.paths.takeItem(self.paths.row(item))

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Add a folder of images"))
        if folder:
            self.add_paths([folder])

    def _add_files(self) -> None:
        patterns = tr("Images and zip archives ({patterns});;All files (*)", patterns=PATTERNS)
        files, _ = QFileDialog.getOpenFileNames(
            self, tr("Add images or zip archives"), "", patterns
        )
        self.add_paths(files)

    # running -------------------------------------------------------------------------
    def start(self) -> None:
        paths = [Path(self.paths.item(i).text()) for i in range(self.paths.count())]
        if not paths:
            self.status.setText(tr("Add at least one folder, file or zip archive."))
            return
        self.start_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)
        self.status.setText(tr("Scanning…"))
        self.worker.start(
            paths, self.domain.currentText().strip() or None, self.reference.isChecked()
        )

    def _progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.status.setText(tr("Importing… {done:,} of {total:,} files", done=done, total=total))

    def _finished(self, summary) -> None:
        self.summary = summary
        self.start_button.setEnabled(True)
        self.start_button.setText(tr("Import more"))
        self.close_button.setEnabled(True)
        self.bar.setVisible(False)
        self.status.setText(describe_import(summary))
        rows = summary.to_json().get("rejected", [])
        self.rejected.setRowCount(len(rows))
        for r, entry in enumerate(rows):
            for c, key in enumerate(("path", "reason", "detail")):
                cell = QTableWidgetItem(str(entry.get(key) or ""))
                cell.setToolTip(cell.text())
                self.rejected.setItem(r, c, cell)
        self.rejected.setVisible(bool(rows))
        self.paths.clear()
        self.imported.emit(summary)

    def _failed(self, message: str) -> None:
        self.start_button.setEnabled(True)
        self.close_button.setEnabled(True)
        self.bar.setVisible(False)
        self.status.setText(
            tr("Import failed: {error}\nRows already written are kept.", error=message)
        )

    def reject(self) -> None:  # Escape / window close
        if not self.worker.running:
            super().reject()

    def closeEvent(self, event) -> None:
        if self.worker.running:
            event.ignore()
        else:
            super().closeEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self.worker.running:
            event.accept()
            return
        super().keyPressEvent(event)
