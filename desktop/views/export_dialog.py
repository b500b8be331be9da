"""Export training data: format, filters, train/val split, progress, and the folder at the end."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from core.export.formats.wds import DEFAULT_SHARD_SIZE
from core.export.suffix import AUTO
from core.store import browse
from core.store.review import INSTRUCTION_STATUSES
from desktop.strings import ITYPES, N_, domain_label, label, tr
from desktop.workers.export_worker import ExportWorker, export_formats

UNSAFE_MODES = [
    (N_("Escape them (reversible)"), "escape"),
    (N_("Leave those records out"), "skip"),
    (N_("Stop the export"), "fail"),
]
IMAGE_MODES = [  # the first is the default, as in `mmstudio export`
    (N_("Hard-link images"), "hardlink"),
    (N_("Copy images"), "copy"),
    (N_("Symlink images"), "symlink"),
]


def _checklist(entries, checked) -> QListWidget:
    box = QListWidget()
    for text, value in entries:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if value in checked else Qt.CheckState.Unchecked)
        box.addItem(item)
    rows = min(len(entries), 6) or 1
    box.setFixedHeight(box.sizeHintForRow(0) * rows + 2 * box.frameWidth() + 4)
    return box


def _checked(box: QListWidget) -> list:
    return [
        box.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(box.count())
        if box.item(i).checkState() == Qt.CheckState.Checked
    ]


class ExportDialog(QDialog):
    exported = Signal(object)  # ExportResult

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr("Export training data"))
        self.project = project
        self.result = None
        self.worker = ExportWorker(project, self)
        self.worker.progress.connect(
            lambda text: self.status.setText(tr("Exporting… {step}", step=text))
        )
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(self._failed)

        self.format = QComboBox(self)
        self.format.setObjectName("exportFormat")
        for name in export_formats():
            self.format.addItem(name, name)
        self.format.currentIndexChanged.connect(lambda _i: self._format_changed())
        statuses = [(label("status", s), s) for s in INSTRUCTION_STATUSES]
        self.statuses = _checklist(statuses, {"accepted"})
        domains = [(domain_label(d), d) for d, _n in browse.domain_counts(project.db) if d]
        self.domains = _checklist(domains, {d for _, d in domains})
        self.types = _checklist([(tr(v), k) for k, v in ITYPES.items()], set(ITYPES))
        self.langs = _checklist([(tr("English"), "en"), (tr("Chinese"), "zh")], {"en", "zh"})
        self.val = QDoubleSpinBox(self)
        self.val.setRange(0.0, 0.5)
        self.val.setSingleStep(0.05)
        self.val.setValue(0.05)
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 2**31 - 1)
        self.images = QComboBox(self)
        for text, value in IMAGE_MODES:
            self.images.addItem(tr(text), value)
        self.multi_turn = QCheckBox(tr("One multi-turn record per image"), self)
        self.unsafe = QComboBox(self)
        for text, value in UNSAFE_MODES:
            self.unsafe.addItem(tr(text), value)
        self.original = QCheckBox(tr("Keep image files as imported (no normalizing)"), self)
        self.max_side = QSpinBox(self)  # --max-side; 0 (shown as "no limit") leaves it out
        self.max_side.setObjectName("exportMaxSide")
        self.max_side.setRange(0, 16384)
        self.max_side.setSingleStep(64)
        self.max_side.setSpecialValueText(tr("no limit"))
        self.max_side.setSuffix(tr(" px"))
        self.original.toggled.connect(lambda on: self.max_side.setEnabled(not on))
        self.shard_size = QSpinBox(self)  # --shard-size, webdataset only
        self.shard_size.setObjectName("exportShardSize")
        self.shard_size.setRange(1, 1_000_000)
        self.shard_size.setValue(DEFAULT_SHARD_SIZE)  # the writer's own default
        self.suffixes = QCheckBox(tr("Append answer-format suffixes to questions"), self)
        self.suffixes.setChecked(True)  # --no-suffix unchecks it
        self.hub_repo = QLineEdit(self)
        self.hub_repo.setObjectName("hubRepo")
        self.hub_repo.setPlaceholderText(
            tr("user/dataset (HF format; token from HF_TOKEN or keyring)")
        )
        self.hub_private = QCheckBox(tr("Private repository"), self)
        self.out = QLineEdit(self)
        self.out.setObjectName("exportFolder")
        browse_button = QPushButton(tr("Choose…"), self)
        browse_button.clicked.connect(self._choose_folder)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out, 1)
        out_row.addWidget(browse_button)

        form = QFormLayout()
        form.addRow(tr("Format"), self.format)
        form.addRow(tr("Instruction status"), self.statuses)
        form.addRow(tr("Domains"), self.domains)
        form.addRow(tr("Types"), self.types)
        form.addRow(tr("Languages"), self.langs)
        form.addRow(tr("Validation fraction"), self.val)
        form.addRow(tr("Split seed"), self.seed)
        form.addRow(tr("Images"), self.images)
        form.addRow("", self.multi_turn)
        form.addRow(tr("Chat-template tokens in text"), self.unsafe)
        form.addRow("", self.original)
        form.addRow(tr("Longest image side"), self.max_side)
        form.addRow(tr("Samples per shard"), self.shard_size)
        form.addRow("", self.suffixes)
        form.addRow(tr("Push to the Hugging Face Hub"), self.hub_repo)
        form.addRow("", self.hub_private)
        form.addRow(tr("Folder"), out_row)

        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)
        self.bar.setVisible(False)
        self.status = QLabel(self)
        self.status.setObjectName("exportStatus")
        self.status.setWordWrap(True)
        self.run_button = QPushButton(tr("Export"), self)
        self.run_button.setObjectName("runExport")
        self.run_button.clicked.connect(self.start)
        self.open_button = QPushButton(tr("Open folder"), self)
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_folder)
        self.close_button = QPushButton(tr("Close"), self)
        self.close_button.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        for b in (self.open_button, self.run_button, self.close_button):
            bottom.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(bottom)
        if not self.format.count():
            self.run_button.setEnabled(False)
            self.status.setText(
                tr("Export is not available in this build (core.export is missing).")
            )
        self._format_changed()
        self.resize(560, 640)

    def _format_changed(self) -> None:
        self.shard_size.setEnabled(self.format.currentData() == "webdataset")
        self._suggest_folder()

    def _suggest_folder(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        fmt = self.format.currentData() or "export"
        self.out.setText(str(self.project.exports_dir / f"{fmt}-{stamp}"))

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, tr("Export into"), str(self.project.exports_dir)
        )
        if folder:
            self.out.setText(folder)

    def options(self) -> dict:
        """The ExportOptions fields the form describes."""
        domains = _checked(self.domains)
        return {
            "format": self.format.currentData(),
            "statuses": _checked(self.statuses),
            "domains": None if len(domains) == self.domains.count() else domains,
            "itypes": _checked(self.types),
            "langs": _checked(self.langs),
            "val_fraction": round(self.val.value(), 4),
            "seed": self.seed.value(),
            "images": self.images.currentData(),
            "multi_turn": self.multi_turn.isChecked(),
            "unsafe_text": self.unsafe.currentData(),
            "original_bytes": self.original.isChecked(),
            "max_side": (self.max_side.value() or None) if self.max_side.isEnabled() else None,
            "shard_size": self.shard_size.value() if self.shard_size.isEnabled() else None,
            "suffix": AUTO if self.suffixes.isChecked() else None,
        }

    def hub_options(self) -> dict:
        repo = self.hub_repo.text().strip()
        return {"push_to_hub": repo, "private": self.hub_private.isChecked()} if repo else {}

    def start(self) -> None:
        out = self.out.text().strip()
        if not out:
            self.status.setText(tr("Choose a folder to export into."))
            return
        if self.hub_options() and self.format.currentData() != "hf":
            self.status.setText(tr("Pushing to the Hub needs the HF parquet format."))
            return
        self.run_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.bar.setVisible(True)
        self.status.setText(tr("Exporting…"))
        self.worker.start(Path(out), self.options() | self.hub_options())

    def _finished(self, result) -> None:
        self.result = result
        self.bar.setVisible(False)
        self.run_button.setEnabled(True)
        self.close_button.setEnabled(True)
        self.open_button.setEnabled(True)
        info = result.to_json()
        counts = info.get("counts", {})
        parts = ", ".join(f"{k}: {v}" for k, v in counts.items() if not isinstance(v, dict))
        self.status.setText(
            tr(
                "Exported to {folder} ({files} files). {counts}",
                folder=info["out"],
                files=info.get("files", 0),
                counts=parts,
            )
        )
        hub = result.hub
        if hub:
            self.status.setText(self.status.text() + " " + tr("Pushed to {url}.", url=hub["url"]))
        self._suggest_folder()
        self.exported.emit(result)

    def _failed(self, message: str) -> None:
        self.bar.setVisible(False)
        self.run_button.setEnabled(True)
        self.close_button.setEnabled(True)
        self.status.setText(tr("Export failed: {error}", error=message))

    def open_folder(self) -> None:
        if self.result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.result.out)))

    def reject(self) -> None:
        if not self.worker.running:
            super().reject()
