"""The fields each backend kind needs, one widget per kind (KIND_FIELDS), so the Backends page
shows the right form without switching on kind names."""

from __future__ import annotations

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


def _text(edit: QLineEdit) -> str | None:
    return edit.text().strip() or None


class OpenAIFields(QWidget):
    """Any OpenAI-compatible server: base URL, model, and a key kept in the OS keyring."""

    def __init__(self, parent=None):
        from core.backends.presets import PRESETS

        super().__init__(parent)
        self.preset = QComboBox(objectName="backendPreset")
        self.preset.addItem(tr("(none: fill in below)"), None)
        for p in PRESETS.values():
            self.preset.addItem(p.title, p.name)
        self.preset_note = QLabel(objectName="presetNote", wordWrap=True)
        self.api_version = QLineEdit(objectName="apiVersion")
        self.api_version.setPlaceholderText(tr("Azure only: the REST api-version"))
        self.base_url = QLineEdit(objectName="baseUrl")
        self.base_url.setPlaceholderText(tr("https://api.openai.com/v1 (empty: OpenAI)"))
        self.model = QLineEdit(objectName="modelName")
        self.model.setPlaceholderText("gpt-4o-mini, Qwen/Qwen2.5-VL-7B-Instruct, …")
        self.api_key = QLineEdit(objectName="apiKey")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText(tr("saved in the OS keyring, never in a file"))
        self.api_key_env = QLineEdit(objectName="apiKeyEnv")
        self.api_key_env.setPlaceholderText(tr("or: the environment variable holding it"))
        self.detail = QComboBox()
        for text, value in ((N_("(server default)"), None), (N_("low"), "low"),
                            (N_("high"), "high"), (N_("auto"), "auto")):  # fmt: skip
            self.detail.addItem(tr(text), value)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(tr("Preset"), self.preset)
        form.addRow("", self.preset_note)
        form.addRow(tr("Base URL"), self.base_url)
        form.addRow(tr("API version"), self.api_version)
        form.addRow(tr("Model"), self.model)
        form.addRow(tr("API key"), self.api_key)
        form.addRow(tr("Key variable"), self.api_key_env)
        form.addRow(tr("Image detail"), self.detail)
        self.preset.activated.connect(self._preset_chosen)

    def _preset_chosen(self) -> None:
        """Fill in the preset's conventions (the user may still edit them)."""
        from core.backends.presets import get_preset

        name = self.preset.currentData()
        self._show_note(name)
        if name is None:
            return
        p = get_preset(name)
        self.base_url.setText(p.base_url)
        self.api_key_env.setText(p.api_key_env or "")
        self.api_version.setText(p.fields.get("api_version", ""))

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

    def load(self, cfg: BackendConfig | None) -> None:
        preset = cfg.preset if cfg else None
        self.preset.setCurrentIndex(max(0, self.preset.findData(preset)))
        self._show_note(preset)
        self.api_version.setText((cfg.api_version if cfg else None) or "")
        self.base_url.setText((cfg.base_url if cfg else None) or "")
        self.model.setText((cfg.model if cfg else None) or "")
        self.api_key.clear()
        self.api_key_env.setText((cfg.api_key_env if cfg else None) or "")
        self.detail.setCurrentIndex(max(0, self.detail.findData(cfg.image_detail if cfg else None)))

    def values(self) -> dict:
        return {
            "base_url": _text(self.base_url),
            "model": _text(self.model),
            "api_key_env": _text(self.api_key_env),
            "image_detail": self.detail.currentData(),
            "preset": self.preset.currentData(),
            "api_version": _text(self.api_version),
        }

    def secret(self) -> str | None:
        return self.api_key.text().strip() or None

    def show_key_state(self, has_key: bool) -> None:
        self.api_key.setPlaceholderText(
            tr("a key is saved in the OS keyring (type to replace it)")
            if has_key
            else tr("saved in the OS keyring, never in a file")
        )


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


class LlamaCppFields(QWidget):
    """A managed llama.cpp server: a catalog model (downloaded here) or local GGUF files."""

    downloadRequested = Signal(object)  # core.backends.catalog.CatalogEntry

    def __init__(self, parent=None):
        super().__init__(parent)
        self.catalog: dict = {}
        self.from_catalog = QRadioButton(tr("A model from the catalog"), objectName="fromCatalog")
        self.from_files = QRadioButton(tr("Local GGUF files"), objectName="fromFiles")
        self.from_files.setChecked(True)
        self.catalog_box = QComboBox(objectName="catalogModel")
        self.download_button = QPushButton(tr("Download"), objectName="downloadModel")
        self.download_button.clicked.connect(self._download)
        self.download_bar = QProgressBar(objectName="downloadProgress")
        self.download_bar.setVisible(False)
        self.download_note = QLabel(objectName="downloadNote", wordWrap=True)
        self.gguf = PathField("ggufPath", tr("The model GGUF"))
        self.mmproj = PathField("mmprojPath", tr("The vision projector (mmproj) GGUF"))
        self.chat_format = QLineEdit(objectName="chatFormat")
        self.chat_format.setPlaceholderText(tr("mtmd (from the GGUF), llava-1-5, qwen2.5-vl, …"))
        self.n_ctx = QSpinBox(objectName="nCtx")
        self.n_ctx.setRange(512, 262_144)
        self.n_ctx.setSingleStep(1024)
        self.n_gpu_layers = QSpinBox()
        self.n_gpu_layers.setRange(-1, 999)
        self.n_gpu_layers.setSpecialValueText(tr("all (-1)"))
        self.threads = QSpinBox()
        self.threads.setRange(0, 256)
        self.threads.setSpecialValueText(tr("auto"))
        pick = QHBoxLayout()
        pick.addWidget(self.catalog_box, 1)
        pick.addWidget(self.download_button)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.from_catalog)
        form.addRow(tr("Model"), pick)
        form.addRow("", self.download_bar)
        form.addRow("", self.download_note)
        form.addRow(self.from_files)
        form.addRow("GGUF", self.gguf)
        form.addRow("mmproj", self.mmproj)
        form.addRow(tr("Chat format"), self.chat_format)
        form.addRow(tr("Context"), self.n_ctx)
        form.addRow(tr("GPU layers"), self.n_gpu_layers)
        form.addRow(tr("Threads"), self.threads)
        self.from_catalog.toggled.connect(self._source_changed)
        self._source_changed()

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

    def load(self, cfg: BackendConfig | None) -> None:
        self.gguf.edit.setText((cfg.gguf if cfg else None) or "")
        self.mmproj.edit.setText((cfg.mmproj if cfg else None) or "")
        self.chat_format.setText((cfg.chat_format if cfg else None) or "")
        self.n_ctx.setValue(cfg.n_ctx if cfg else 4096)
        self.n_gpu_layers.setValue(cfg.n_gpu_layers if cfg else 0)
        self.threads.setValue((cfg.n_threads if cfg else None) or 0)
        self.from_files.setChecked(True)
        self.download_note.clear()

    def values(self) -> dict:
        return {
            "gguf": _text(self.gguf.edit),
            "mmproj": _text(self.mmproj.edit),
            "chat_format": _text(self.chat_format),
            "n_ctx": self.n_ctx.value(),
            "n_gpu_layers": self.n_gpu_layers.value(),
            "n_threads": self.threads.value() or None,
        }

    def secret(self) -> str | None:
        return None  # the managed server gets a random key of its own each start

    def show_key_state(self, has_key: bool) -> None:
        return None


# kind -> its fields widget (core.backends.registry.KIND_MODULES lists the kinds)
KIND_FIELDS: dict[str, type[QWidget]] = {"openai": OpenAIFields, "llama_cpp": LlamaCppFields}
KIND_TITLES = {
    "openai": N_("OpenAI-compatible server (OpenAI, vLLM, Ollama, LM Studio, …)"),
    "llama_cpp": N_("Local model on a managed llama.cpp server"),
}
