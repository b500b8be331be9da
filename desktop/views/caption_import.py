"""File → Import captions…: bring your own captions (core.export.captions) from the GUI."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from desktop.panels import MenuAction, register_action
from desktop.strings import N_, tr
from desktop.workers.tasks import TaskRunner

KEYS = [
    (N_("Any: image id, sha256, source path or file name"), "auto"),
    (N_("Image id"), "id"),
    (N_("sha256"), "sha256"),
    (N_("Source path"), "path"),
    (N_("File name"), "name"),
]


class CaptionImportDialog(QDialog):
    imported = Signal(object)  # core.export.captions.CaptionImportSummary

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr("Import captions"))
        self.project = project
        self.summary = None
        self.runner = TaskRunner(self, threads=1)
        self.file = QLineEdit(self)
        self.file.setObjectName("captionFile")
        choose = QPushButton(tr("Choose…"), self)
        choose.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(choose)
        self.lang = QComboBox(self)
        for text, value in (
            (tr("Guess per row"), None),
            (tr("English"), "en"),
            (tr("Chinese"), "zh"),
        ):
            self.lang.addItem(text, value)
        self.model = QLineEdit(self)
        self.model.setPlaceholderText(tr("e.g. gpt-4-vision-preview"))
        self.key = QComboBox(self)
        for text, value in KEYS:
            self.key.addItem(tr(text), value)
        self.require_all = QCheckBox(tr("Import nothing if a row matches no image"), self)
        form = QFormLayout()
        form.addRow(tr("File"), row)
        form.addRow(tr("Language"), self.lang)
        form.addRow(tr("Model"), self.model)
        form.addRow(tr("Rows name images by"), self.key)
        form.addRow("", self.require_all)
        self.status = QLabel(
            tr("JSON Lines, JSON or CSV; existing captions stay as versions."), self
        )
        self.status.setObjectName("captionStatus")
        self.status.setWordWrap(True)
        self.run_button = QPushButton(tr("Import"), self)
        self.run_button.setObjectName("runCaptionImport")
        self.run_button.clicked.connect(self.start)
        close = QPushButton(tr("Close"), self)
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.run_button)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addLayout(bottom)
        self.resize(560, 280)

    def _choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, tr("Captions file"), str(self.project.root), "Captions (*.jsonl *.json *.csv)"
        )
        if name:
            self.file.setText(name)

    def options(self) -> dict:
        return {
            "lang": self.lang.currentData(),
            "model": self.model.text().strip() or None,
            "key": self.key.currentData(),
            "require_all": self.require_all.isChecked(),
        }

    def start(self) -> None:
        path = self.file.text().strip()
        if not path:
            self.status.setText(tr("Choose a captions file."))
            return
        from core.export.captions import import_captions

        self.run_button.setEnabled(False)
        self.status.setText(tr("Importing…"))
        project, options = self.project, self.options()
        self.runner.submit(
            lambda _report: import_captions(project, Path(path), **options),
            self._done,
            self._failed,
        )

    def _done(self, summary) -> None:
        self.summary = summary
        self.run_button.setEnabled(True)
        self.status.setText(summary.describe())
        self.imported.emit(summary)

    def _failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.status.setText(tr("Import failed: {error}", error=str(exc) or type(exc).__name__))


def open_caption_import(window) -> None:
    dialog = CaptionImportDialog(window.project, window)
    dialog.imported.connect(lambda _s: window.model.refresh())
    dialog.open()
    window.caption_import_dialog = dialog


register_action(MenuAction("File", N_("Import captions…"), open_caption_import, order=30))
