"""Tools > Settings…: backends, prompts, seed questions, prices and the interface language."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTabWidget, QVBoxLayout, QWidget

from desktop.strings import tr
from desktop.views.settings.backends_page import BackendsPage
from desktop.views.settings.interface_page import InterfacePage
from desktop.views.settings.prices_page import PricesPage
from desktop.views.settings.prompts_page import PromptsPage
from desktop.views.settings.seeds_page import SeedsPage


class SettingsDialog(QDialog):
    backendsChanged = Signal()

    def __init__(self, project, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(tr("Settings"))
        self.backends = BackendsPage(self)
        self.prompts = PromptsPage(project, self)
        self.seeds = SeedsPage(project, self)
        self.prices = PricesPage(self)
        self.interface = InterfacePage(self)
        self.tabs = QTabWidget(objectName="settingsTabs")
        self.tabs.addTab(self.backends, tr("Backends"))
        self.tabs.addTab(self.prompts, tr("Prompts"))
        self.tabs.addTab(self.seeds, tr("Seed questions"))
        self.tabs.addTab(self.prices, tr("Prices"))
        self.tabs.addTab(self.interface, tr("Interface"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.backends.saved.connect(lambda _name: self.backendsChanged.emit())
        self.resize(980, 660)

    def busy(self) -> bool:
        return self.backends.busy()

    def wait(self, msecs: int = -1) -> bool:
        return self.backends.worker.wait(msecs)
