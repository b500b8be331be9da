"""What the desktop remembers between sessions: the recent projects, and per project its
window size, dock layout, splitter positions, filters and open tab.

Kept in the user folder (`desktop-state.ini`, a QSettings INI file; MMSTUDIO_HOME moves it),
keyed by the project's folder, not in the project's own meta table: a layout belongs to one
person's screen, while the project file travels (to another machine, a colleague, a backup),
and writing to it on every resize would mark it changed and take a backup on each close.
A moved project folder starts from the default layout; that is the price.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QSplitter

from core.paths import user_home
from core.store.browse import ImageQuery
from desktop.views.filter_bar import DISAGREE

FILE_NAME = "desktop-state.ini"
MAX_RECENT = 10


def _key(root: Path) -> str:
    return "project-" + hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:16]


def query_to_json(query: ImageQuery) -> str:
    return json.dumps(dataclasses.asdict(query), sort_keys=True)


def query_from_json(text: str) -> ImageQuery:
    """The saved filters; fields this version does not know (or lost) are left out."""
    try:
        raw = json.loads(text)
    except (TypeError, ValueError):
        return ImageQuery()
    if not isinstance(raw, dict):
        return ImageQuery()
    names = {f.name for f in dataclasses.fields(ImageQuery)}
    try:
        return ImageQuery(**{k: v for k, v in raw.items() if k in names})
    except TypeError:
        return ImageQuery()


class ProjectMemory:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else user_home() / FILE_NAME
        self.settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    # recent projects -------------------------------------------------------------------
    def recent(self) -> list[Path]:
        """Most recent first; folders that no longer hold a project are left out."""
        raw = self.settings.value("recent/paths", [])
        paths = [raw] if isinstance(raw, str) else list(raw or [])
        return [Path(p) for p in paths if (Path(p) / "project.duckdb").is_file()]

    def add_recent(self, root: Path) -> None:
        root = Path(root).resolve()
        raw = self.settings.value("recent/paths", [])
        paths = [raw] if isinstance(raw, str) else list(raw or [])
        paths = [str(root)] + [p for p in paths if Path(p) != root]
        self.settings.setValue("recent/paths", paths[:MAX_RECENT])
        self.settings.sync()

    def forget(self, root: Path) -> None:
        raw = self.settings.value("recent/paths", [])
        paths = [raw] if isinstance(raw, str) else list(raw or [])
        self.settings.setValue("recent/paths", [p for p in paths if Path(p) != Path(root)])
        self.settings.sync()

    def last_project(self) -> Path | None:
        recent = self.recent()
        return recent[0] if recent else None

    # one project's window --------------------------------------------------------------
    def save_window(self, root: Path, window) -> None:
        s = self.settings
        s.beginGroup(_key(root))
        s.setValue("path", str(Path(root).resolve()))
        s.setValue("geometry", window.saveGeometry())
        s.setValue("state", window.saveState())
        for name, splitter in _splitters(window):
            s.setValue(f"splitter/{name}", splitter.saveState())
        s.setValue("filters", query_to_json(window.filters.query))
        s.setValue("tab", window.tabs.currentIndex())
        s.endGroup()
        s.sync()

    def window_state(self, root: Path) -> dict:
        s = self.settings
        s.beginGroup(_key(root))
        try:
            out = {k: s.value(k) for k in ("geometry", "state", "filters", "tab") if s.contains(k)}
            s.beginGroup("splitter")
            out["splitters"] = {k: s.value(k) for k in s.childKeys()}
            s.endGroup()
        finally:
            s.endGroup()
        return out

    def restore_window(self, root: Path, window) -> bool:
        """Put the remembered layout and filters back; False when there was none."""
        saved = self.window_state(root)
        if not saved.get("geometry"):
            return False
        window.restoreGeometry(QByteArray(saved["geometry"]))
        if saved.get("state"):
            window.restoreState(QByteArray(saved["state"]))
        if saved.get("filters"):
            apply_query(window, query_from_json(saved["filters"]))
        try:
            tab = int(saved.get("tab", 0))
        except (TypeError, ValueError):
            tab = 0
        if 0 <= tab < window.tabs.count():
            window.tabs.setCurrentIndex(tab)
        return True

    def restore_splitters(self, root: Path, window) -> None:
        """After the window is shown: a splitter restored before that is stretched again
        when the window first lays out."""
        saved = self.window_state(root).get("splitters") or {}
        for name, splitter in _splitters(window):
            if saved.get(name):
                splitter.restoreState(QByteArray(saved[name]))


def _splitters(window) -> list[tuple[str, QSplitter]]:
    """Every splitter of the window by a stable name: its object name, else its place in
    the order the window built them (the same code builds them in the same order)."""
    out = []
    for i, splitter in enumerate(window.findChildren(QSplitter)):
        out.append((splitter.objectName() or f"split{i}", splitter))
    return out


def _pick(combo, value) -> bool:
    """Show `value` in `combo` without telling anyone; False when the combo lacks it."""
    index = combo.findData(value)
    combo.blockSignals(True)
    combo.setCurrentIndex(max(index, 0))
    combo.blockSignals(False)
    return index >= 0


def apply_query(window, query: ImageQuery) -> ImageQuery:
    """Show `query` in the sidebar and the filter bar and make it the grid's; a value the
    project no longer offers (a deleted domain, a check flag not listed yet) is dropped."""
    bar, sidebar = window.filter_bar, window.sidebar
    default = ImageQuery()
    shown = {}
    for combo, field in (
        (bar.status, "status"),
        (bar.itype, "itype"),
        (bar.item_status, "item_status"),
        (bar.caption, "has_caption"),
        (bar.sort, "sort"),
    ):
        value = getattr(query, field)
        shown[field] = value if _pick(combo, value) else getattr(default, field)
    flag = DISAGREE if query.disagree else query.check_flag
    if flag is not None and _pick(bar.flag, flag):
        shown["disagree"] = query.disagree
        shown["check_flag"] = None if query.disagree else query.check_flag
    else:
        _pick(bar.flag, None)
    bar.search.blockSignals(True)
    bar.search.setText(query.text)
    bar.search.blockSignals(False)
    shown["text"] = query.text
    role = Qt.ItemDataRole.UserRole
    domains = {sidebar.list.item(i).data(role) for i in range(sidebar.list.count())}
    shown["domain"] = query.domain if query.domain in domains else None
    sidebar.blockSignals(True)
    sidebar.select(shown["domain"])
    sidebar.blockSignals(False)
    result = ImageQuery(**shown)
    window.filters.reset(result)
    return result
