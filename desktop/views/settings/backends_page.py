"""Settings > Backends: add, edit, remove and test model endpoints (core.backends.settings).

Keys go to the OS keyring through core.backends.keys, never to backends.yaml or any other
file. The connection test and catalog downloads run off the GUI thread (BackendWorker).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.backends.settings import BackendConfig
from core.errors import StudioError
from desktop.strings import tr
from desktop.views.settings.backend_fields import KindFields, kind_title
from desktop.workers.backend_worker import BackendWorker, describe_test


class BackendsPage(QWidget):
    saved = Signal(str)  # a backend was added, changed or removed (its name)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.worker = BackendWorker(self)
        self.configs: dict[str, BackendConfig] = {}
        self.editing: str | None = None  # the saved name of the backend in the form

        self.list = QListWidget(objectName="backendList")
        self.list.currentItemChanged.connect(self._picked)
        self.new_button = QPushButton(tr("New"), objectName="newBackend")
        self.remove_button = QPushButton(tr("Remove"), objectName="removeBackend")
        self.name = QLineEdit(objectName="backendName")
        self.name.setPlaceholderText(tr("a short name: gpt4o, local-qwen, …"))
        self.kind = QComboBox(objectName="backendKind")
        self.fields: dict[str, QWidget] = {}
        self.boxes: dict[str, QGroupBox] = {}
        from core.backends.registry import KIND_MODULES, kind_class

        for kind in KIND_MODULES:
            cls = kind_class(kind)
            title = kind_title(kind, cls)
            self.kind.addItem(title, kind)
            self.fields[kind] = KindFields(cls, self)
            box = self.boxes[kind] = QGroupBox(title)
            QVBoxLayout(box).addWidget(self.fields[kind])
        # The kind whose form downloads catalog models (at most one: downloads land in it).
        self.catalog_kind = next((k for k, f in self.fields.items() if f.uses_catalog), None)
        if self.catalog_kind is not None:
            catalog = self.fields[self.catalog_kind]
            catalog.downloadRequested.connect(self._download)
            self.worker.progress.connect(catalog.download_progress)
            self.worker.downloaded.connect(self._downloaded)
            self.worker.downloadFailed.connect(catalog.download_failed)
        self.concurrency = QSpinBox(objectName="maxConcurrency")
        self.concurrency.setRange(1, 1024)
        self.rpm = QSpinBox(objectName="rpm")
        self.rpm.setRange(0, 1_000_000)
        self.rpm.setSpecialValueText(tr("no limit"))
        self.timeout = QSpinBox()
        self.timeout.setRange(1, 3600)
        self.timeout.setSuffix(tr(" s"))
        self.save_button = QPushButton(tr("Save"), objectName="saveBackend")
        self.test_button = QPushButton(tr("Test connection"), objectName="testBackend")
        self.result = QLabel(objectName="backendTestResult", wordWrap=True)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.new_button.clicked.connect(self.new)
        self.remove_button.clicked.connect(self.remove)
        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test)
        self.worker.tested.connect(self._tested)
        self.worker.testFailed.connect(
            lambda m: self._show_result(tr("Test failed: {error}", error=m), False)
        )

        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addWidget(self.remove_button)
        left.addLayout(row)
        form = QFormLayout()
        form.addRow(tr("Name"), self.name)
        form.addRow(tr("Kind"), self.kind)
        for box in self.boxes.values():
            form.addRow(box)
        form.addRow(tr("Requests at once"), self.concurrency)
        form.addRow(tr("Requests / minute"), self.rpm)
        form.addRow(tr("Timeout"), self.timeout)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(buttons)
        right.addWidget(self.result)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 3)
        self.reload()

    # loading -----------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        from core.backends.settings import load_backends

        try:
            self.configs = load_backends()
        except StudioError as exc:
            self.configs = {}
            self._show_result(str(exc), False)
        if self.catalog_kind is not None:
            self._load_catalog(self.fields[self.catalog_kind])
        self.list.blockSignals(True)
        self.list.clear()
        for cfg in self.configs.values():
            item = QListWidgetItem(
                f"{cfg.name}   ({cfg.kind}{', ' + cfg.model if cfg.model else ''})"
            )
            item.setData(256, cfg.name)
            self.list.addItem(item)
        self.list.blockSignals(False)
        names = list(self.configs)
        target = select if select in self.configs else (names[0] if names else None)
        if target is None:
            self.new()
        else:
            self.list.setCurrentRow(names.index(target))

    def _load_catalog(self, llama) -> None:
        if llama.catalog:
            return
        from core.backends.catalog import load_catalog

        try:
            llama.set_catalog(load_catalog())
        except StudioError as exc:
            llama.download_failed(str(exc))

    def _picked(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.show_config(self.configs[item.data(256)])

    def show_config(self, cfg: BackendConfig | None) -> None:
        self.editing = cfg.name if cfg else None
        self.name.setText(cfg.name if cfg else "")
        kind = cfg.kind if cfg else self.kind.itemData(0)
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.kind.blockSignals(False)
        self._kind_changed()
        for k, fields in self.fields.items():
            fields.load(cfg if cfg and cfg.kind == k else None)
        default = cfg.max_concurrency if cfg else self._default_concurrency(kind)
        self.concurrency.setValue(default)
        self.rpm.setValue((cfg.rpm if cfg else None) or 0)
        self.timeout.setValue(int(cfg.timeout_s if cfg else 120))
        self.remove_button.setEnabled(cfg is not None)
        self.result.clear()
        if cfg is not None:
            self._ask_key_state(cfg)

    def _ask_key_state(self, cfg: BackendConfig) -> None:
        # The OS keyring may answer slowly (D-Bus, a locked wallet): ask on the worker pool.
        from core.backends.keys import key_source

        fields = self.fields[cfg.kind]
        self.worker.runner.submit(
            lambda _r: key_source(cfg.name, cfg.api_key_env),
            lambda source: (
                self.editing == cfg.name and fields.show_key_state(source, cfg.api_key_env)
            ),
            lambda _e: None,
        )

    @staticmethod
    def _default_concurrency(kind: str) -> int:
        from core.backends.registry import kind_class

        return kind_class(kind).default_concurrency

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        for k, box in self.boxes.items():
            box.setVisible(k == kind)
        if self.editing is None:
            self.concurrency.setValue(self._default_concurrency(kind))

    # editing -----------------------------------------------------------------------------
    def new(self) -> None:
        self.list.blockSignals(True)
        self.list.clearSelection()
        self.list.setCurrentRow(-1)
        self.list.blockSignals(False)
        self.show_config(None)
        self.name.setFocus()

    def config_from_form(self) -> BackendConfig:
        kind = self.kind.currentData()
        fields = self.fields[kind].values()
        base = self.configs.get(self.editing) if self.editing else None
        extra = {}
        if base is not None and base.kind == kind:  # keep settings this form does not show
            extra = {k: v for k, v in base.__dict__.items() if k not in fields}
        extra |= {
            "name": self.name.text().strip(),
            "kind": kind,
            "max_concurrency": self.concurrency.value(),
            "rpm": self.rpm.value() or None,
            "timeout_s": float(self.timeout.value()),
        }
        return BackendConfig(**(extra | fields))

    def save(self) -> bool:
        """Validate and save the form, all or nothing: the key (if typed) goes to the keyring
        first, and where it cannot, no backend is written (it would be one without its key)."""
        from core.backends import keys
        from core.backends.settings import add_backend, load_backends, remove_backend

        try:
            cfg = self.config_from_form()
            cfg.validate()
            renamed = self.editing is not None and self.editing != cfg.name
            self.configs = load_backends()  # what is on disk, not what the list last showed
            if cfg.name in self.configs and cfg.name != self.editing:
                raise StudioError(tr("a backend named {name!r} exists already", name=cfg.name))
            secret = self.fields[cfg.kind].secret()
            old_key = keys.get_key(self.editing) if renamed and not secret else None
            try:
                if secret or old_key:
                    keys.set_key(cfg.name, secret or old_key)
            except keys.KeyStoreError:
                raise StudioError(
                    tr(
                        "Not saved: there is no OS keyring on this machine to keep the key. "
                        "Put the key in an environment variable, type the variable's name in "
                        "Key variable, and leave API key empty."
                    )
                ) from None
            add_backend(cfg, replace=cfg.name in self.configs)
            if renamed:
                remove_backend(self.editing)
                keys.delete_key(self.editing)
        except StudioError as exc:
            self._show_result(str(exc), False)
            return False
        self.reload(select=cfg.name)
        self._show_result(tr("Saved backend {name}.", name=cfg.name), True)
        self.saved.emit(cfg.name)
        return True

    def remove(self) -> None:
        name = self.editing
        if name is None:
            return
        answer = QMessageBox.question(
            self,
            tr("Remove backend"),
            tr("Remove the backend {name!r} and its saved key?", name=name),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.remove_now(name)

    def remove_now(self, name: str) -> None:
        from core.backends import keys
        from core.backends.settings import remove_backend

        try:
            remove_backend(name)
        except StudioError as exc:
            self._show_result(str(exc), False)
            return
        keys.delete_key(name)
        self.reload()
        self._show_result(tr("Removed backend {name}.", name=name), True)
        self.saved.emit(name)

    # slow work ---------------------------------------------------------------------------
    def test(self) -> None:
        """Save the form, then send one text and one image request from a worker thread."""
        if not self.save():
            return
        self.test_button.setEnabled(False)
        self._show_result(tr("Testing {name}…", name=self.editing), True)
        self.worker.test(self.editing)

    def _tested(self, result: dict) -> None:
        self.test_button.setEnabled(True)
        head = tr("Connection works.") if result["ok"] else tr("Connection FAILED.")
        self._show_result(f"{head}\n{describe_test(result)}", result["ok"])

    def _download(self, entry) -> None:
        try:
            self.worker.download(entry)
        except RuntimeError as exc:
            self.fields[self.catalog_kind].download_failed(str(exc))
            return
        if not self.name.text().strip():
            self.name.setText(entry.id)
        self.fields[self.catalog_kind].download_note.setText(
            tr("Downloading {title}…", title=entry.title)
        )

    def _downloaded(self, entry, model, mmproj) -> None:
        self.fields[self.catalog_kind].download_done(entry, model, mmproj)
        self.concurrency.setValue(self._default_concurrency(self.catalog_kind))

    def _show_result(self, text: str, ok: bool) -> None:
        if not ok:
            self.test_button.setEnabled(True)
        self.result.setStyleSheet("" if ok else "color: #c8463d;")
        self.result.setText(text)

    def busy(self) -> bool:
        return self.worker.busy()
