"""The fields each backend kind needs, built from the kind's class: `settings_fields` names
the BackendConfig fields it reads (in form order), `uses_api_key` adds the keyring field and
`catalog_models` the catalog download rows. Here lives only how each config field is edited
(FIELDS), so a new kind gets its form with no change to this page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from core.backends.settings import BackendConfig
from desktop.strings import N_, tr

_DEFAULTS = BackendConfig(name="-", kind="-")


def _text(edit: QLineEdit) -> str | None:
    return edit.text().strip() or None


class PathField(QWidget):
    def __init__(self, name: str, caption: str, parent=None):
        super().__init__(parent)
        self.edit = QLineEdit(objectName=name)
        self.caption = caption
        browse = QPushButton(tr("Browse…"))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.caption, "", tr("GGUF files (*.gguf)"))
        if path:
            self.edit.setText(path)


@dataclass(frozen=True)
class Field:
    """How one BackendConfig field is edited: its label, the attribute the widget is kept under
    (tests and the page reach it by that name) and the widget's make/load/value."""

    attr: str
    label: str  # shown through tr(); technical words (GGUF) have no table entry on purpose
    make: Callable[[], QWidget]
    load: Callable[[QWidget, object], None]
    value: Callable[[QWidget], object]


def _line(object_name: str, placeholder: Callable[[], str]) -> Callable[[], QLineEdit]:
    def make() -> QLineEdit:
        edit = QLineEdit(objectName=object_name)
        edit.setPlaceholderText(placeholder())
        return edit

    return make


def _spin(low: int, high: int, step: int = 1, special=None, name: str = "") -> Callable:
    def make() -> QSpinBox:
        box = QSpinBox(objectName=name) if name else QSpinBox()
        box.setRange(low, high)
        box.setSingleStep(step)
        if special:
            box.setSpecialValueText(special())
        return box

    return make


def _detail() -> QComboBox:
    box = QComboBox()
    for text, value in ((N_("(server default)"), None), (N_("low"), "low"),
                        (N_("high"), "high"), (N_("auto"), "auto")):  # fmt: skip
        box.addItem(tr(text), value)
    return box


def _server_box() -> QComboBox:
    box = QComboBox(objectName="llamaServer")
    box.addItem(tr("llama_cpp.server (one request at a time)"), "python")
    box.addItem(tr("llama-server (parallel slots)"), "native")
    return box


def _text_field(attr, label, make) -> Field:
    return Field(attr, label, make, lambda w, v: w.setText(v or ""), _text)


def _path_field(attr, label, object_name, caption) -> Field:
    return Field(
        attr, label, lambda: PathField(object_name, caption()),
        lambda w, v: w.edit.setText(v or ""), lambda w: _text(w.edit),
    )  # fmt: skip


def _preset_box() -> QComboBox:
    from core.backends.presets import PRESETS

    box = QComboBox(objectName="backendPreset")
    box.addItem(tr("(none: fill in below)"), None)
    for p in PRESETS.values():
        box.addItem(p.title, p.name)
    return box


# BackendConfig field -> how it is edited. A field a kind names but this table lacks gets a
# plain line edit (labelled with the field's name), so a new kind is never left without one.
FIELDS: dict[str, Field] = {
    "preset": Field(
        "preset", N_("Preset"), _preset_box,
        lambda w, v: w.setCurrentIndex(max(0, w.findData(v))), lambda w: w.currentData(),
    ),
    "api_version": _text_field(
        "api_version", N_("API version"),
        _line("apiVersion", lambda: tr("Azure only: the REST api-version")),
    ),
    "base_url": _text_field(
        "base_url", N_("Base URL"),
        _line("baseUrl", lambda: tr("https://api.openai.com/v1 (empty: OpenAI)")),
    ),
    "model": _text_field(
        "model", N_("Model"), _line("modelName", lambda: "gpt-4o-mini, Qwen/Qwen2.5-VL-7B-Instruct, …")
    ),
    "api_key_env": _text_field(
        "api_key_env", N_("Key variable"),
        _line("apiKeyEnv", lambda: tr("or: the environment variable holding it")),
    ),
    "image_detail": Field(
        "detail", N_("Image detail"), _detail,
        lambda w, v: w.setCurrentIndex(max(0, w.findData(v))), lambda w: w.currentData(),
    ),
    "gguf": _path_field("gguf", "GGUF", "ggufPath", lambda: tr("The model GGUF")),
    "mmproj": _path_field(
        "mmproj", "mmproj", "mmprojPath", lambda: tr("The vision projector (mmproj) GGUF")
    ),
    "chat_format": _text_field(
        "chat_format", N_("Chat format"),
        _line("chatFormat", lambda: tr("mtmd (from the GGUF), llava-1-5, qwen2.5-vl, …")),
    ),
    "n_ctx": Field(
        "n_ctx", N_("Context"), _spin(512, 262_144, 1024, name="nCtx"),
        lambda w, v: w.setValue(v), lambda w: w.value(),
    ),
    "n_gpu_layers": Field(
        "n_gpu_layers", N_("GPU layers"), _spin(-1, 999, special=lambda: tr("all (-1)")),
        lambda w, v: w.setValue(v), lambda w: w.value(),
    ),
    "n_threads": Field(
        "threads", N_("Threads"), _spin(0, 256, special=lambda: tr("auto")),
        lambda w, v: w.setValue(v or 0), lambda w: w.value() or None,
    ),
    "server": Field(
        "server", N_("Server"), _server_box,
        lambda w, v: w.setCurrentIndex(max(0, w.findData(v))), lambda w: w.currentData(),
    ),
    "server_path": _text_field(
        "server_path", N_("llama-server file"),
        _line("serverPath", lambda: tr("empty: $MMSTUDIO_LLAMA_SERVER or PATH")),
    ),
    "parallel": Field(
        "parallel", N_("Slots"), _spin(1, 64, name="parallelSlots"),
        lambda w, v: w.setValue(v or 1), lambda w: w.value(),
    ),
}  # fmt: skip


def field_for(name: str) -> Field:
    found = FIELDS.get(name)
    if found is not None:
        return found
    return _text_field(name, name, _line(name, lambda: ""))


class KindFields(QWidget):
    """The form for one backend kind, from its class (see the module docstring)."""

    downloadRequested = Signal(object)  # core.backends.catalog.CatalogEntry

    def __init__(self, kind_cls, parent=None):
        super().__init__(parent)
        self.kind_cls = kind_cls
        self.catalog: dict = {}
        self.uses_catalog = bool(kind_cls.catalog_models)
        self._fields = [(name, field_for(name)) for name in kind_cls.settings_fields]
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        if self.uses_catalog:
            self._catalog_rows(form)
        self.api_key = None
        for name, field in self._fields:
            if name == "api_key_env" and kind_cls.uses_api_key:
                self._key_row(form)
            widget = field.make()
            setattr(self, field.attr, widget)
            form.addRow(tr(field.label), widget)
            if name == "preset":
                self.preset_note = QLabel(objectName="presetNote", wordWrap=True)
                form.addRow("", self.preset_note)
                widget.activated.connect(self._preset_chosen)
        if kind_cls.uses_api_key and self.api_key is None:
            self._key_row(form)
        if self.uses_catalog:
            self.from_catalog.toggled.connect(self._source_changed)
            self._source_changed()

    def _key_row(self, form: QFormLayout) -> None:
        self.api_key = QLineEdit(objectName="apiKey")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText(tr("saved in the OS keyring, never in a file"))
        form.addRow(tr("API key"), self.api_key)

    def _catalog_rows(self, form: QFormLayout) -> None:
        self.from_catalog = QRadioButton(tr("A model from the catalog"), objectName="fromCatalog")
        self.from_files = QRadioButton(tr("Local GGUF files"), objectName="fromFiles")
        self.from_files.setChecked(True)
        self.catalog_box = QComboBox(objectName="catalogModel")
        self.download_button = QPushButton(tr("Download"), objectName="downloadModel")
        self.download_button.clicked.connect(self._download)
        self.download_bar = QProgressBar(objectName="downloadProgress")
        self.download_bar.setVisible(False)
        self.download_note = QLabel(objectName="downloadNote", wordWrap=True)
        pick = QHBoxLayout()
        pick.addWidget(self.catalog_box, 1)
        pick.addWidget(self.download_button)
        form.addRow(self.from_catalog)
        form.addRow(tr("Model"), pick)
        form.addRow("", self.download_bar)
        form.addRow("", self.download_note)
        form.addRow(self.from_files)

    # values ------------------------------------------------------------------------------
    def load(self, cfg: BackendConfig | None) -> None:
        for name, field in self._fields:
            value = getattr(cfg if cfg is not None else _DEFAULTS, name, None)
            field.load(getattr(self, field.attr), value)
        if self.api_key is not None:
            self.api_key.clear()
        if self.uses_catalog:
            self.from_files.setChecked(True)
            self.download_note.clear()
        if hasattr(self, "preset"):
            self._show_note(self.preset.currentData())

    # presets (core.backends.presets): conventions filled in, the user may still edit them ---
    def _preset_chosen(self) -> None:
        from core.backends.presets import get_preset

        name = self.preset.currentData()
        self._show_note(name)
        if name is None:
            return
        p = get_preset(name)
        for attr, value in (("base_url", p.base_url), ("api_key_env", p.api_key_env),
                            ("api_version", p.fields.get("api_version"))):  # fmt: skip
            if hasattr(self, attr):
                getattr(self, attr).setText(value or "")

    def _show_note(self, name: str | None) -> None:
        from core.backends.presets import get_preset

        if name is None:
            self.preset_note.clear()
            return
        p = get_preset(name)
        self.preset_note.setText(
            tr("key: {key} · images: {images} · output constraints: {c}",
               key=tr("needed") if p.needs_key else tr("not needed"), images=p.images,
               c=", ".join(p.constraints) or "—")
            + (f" · {p.notes}" if p.notes else "")
        )  # fmt: skip

    def values(self) -> dict:
        return {name: field.value(getattr(self, field.attr)) for name, field in self._fields}

    def secret(self) -> str | None:
        # A kind without a key (the managed server gets a random one each start) has none.
        return (self.api_key.text().strip() or None) if self.api_key is not None else None

    def show_key_state(self, source: str | None, env_var: str | None = None) -> None:
        """Where the saved backend's key comes from (core.backends.keys.key_source)."""
        if self.api_key is None:
            return
        if source == "env":
            text = tr("the key comes from the environment variable {var}", var=env_var)
        elif source == "keyring":
            text = tr("a key is saved in the OS keyring (type to replace it)")
        elif env_var:
            text = tr("{var} is not set in this environment: set it, or type a key", var=env_var)
        else:
            text = tr("saved in the OS keyring, never in a file")
        self.api_key.setPlaceholderText(text)

    # catalog downloads -------------------------------------------------------------------
    def set_catalog(self, catalog: dict) -> None:
        self.catalog = catalog
        self.catalog_box.clear()
        for entry in catalog.values():
            self.catalog_box.addItem(
                tr("{title} — {mb:,.0f} MB", title=entry.title, mb=entry.size_mb), entry.id
            )

    def _source_changed(self) -> None:
        catalog = self.from_catalog.isChecked()
        self.catalog_box.setEnabled(catalog)
        self.download_button.setEnabled(catalog)

    def _download(self) -> None:
        entry = self.catalog.get(self.catalog_box.currentData())
        if entry is not None:
            self.downloadRequested.emit(entry)

    def download_progress(self, name: str, done: int, total: int) -> None:
        self.download_bar.setVisible(True)
        self.download_bar.setRange(0, 1000 if total else 0)
        if total:
            self.download_bar.setValue(int(1000 * done / total))
        self.download_bar.setFormat(
            tr(
                "{name}: {done:,.1f} / {total:,.1f} MB",
                name=name,
                done=done / 1e6,
                total=total / 1e6,
            )
        )

    def download_done(self, entry, model, mmproj) -> None:
        self.download_bar.setVisible(False)
        self.gguf.edit.setText(str(model))
        self.mmproj.edit.setText(str(mmproj) if mmproj else "")
        self.chat_format.setText((entry.chat_format if mmproj else None) or "")
        self.n_ctx.setValue(entry.n_ctx)
        self.download_note.setText(
            tr("Downloaded {title}. Save to keep this backend.", title=entry.title)
        )

    def download_failed(self, message: str) -> None:
        self.download_bar.setVisible(False)
        self.download_note.setText(message)


# Titles of the built-in kinds, translated; another kind shows its class's own title.
KIND_TITLES = {
    "openai": N_("OpenAI-compatible server (OpenAI, vLLM, Ollama, LM Studio, …)"),
    "llama_cpp": N_("Local model on a managed llama.cpp server"),
}


def kind_title(kind: str, kind_cls) -> str:
    return tr(KIND_TITLES.get(kind, kind_cls.title or kind))
