"""File › New project, Open project, Open recent, Start page: at the top of the File menu.
They act through the window's ProjectSession (desktop.project_session); in a window built
without one (a test, a tool) they show the start page's words and switch nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from desktop.strings import tr


def install_project_menu(window) -> None:
    menu = window.menus["File"]
    first = menu.actions()[0] if menu.actions() else None
    new = QAction(tr("New project…"), window)
    new.setShortcut(QKeySequence("Ctrl+Shift+N"))
    new.triggered.connect(lambda: _start_page(window).new_project())
    opened = QAction(tr("Open project…"), window)
    opened.setShortcut(QKeySequence(QKeySequence.StandardKey.Open))
    opened.triggered.connect(lambda: _start_page(window).open_project())
    recent = QMenu(tr("Open recent"), menu)
    recent.setObjectName("recentMenu")
    recent.aboutToShow.connect(lambda: fill_recent(window, recent))
    start = QAction(tr("Start page"), window)
    start.triggered.connect(lambda: window.show_panel("start"))
    for action in (new, opened):
        menu.insertAction(first, action)
    menu.insertMenu(first, recent)
    menu.insertAction(first, start)
    menu.insertSeparator(first)
    window.project_actions = {"new": new, "open": opened, "recent": recent, "start": start}
    # Panels append their File entries after Quit; Quit belongs last.
    for action in menu.actions():
        if action.text() == tr("Quit"):
            menu.removeAction(action)
            menu.addSeparator()
            menu.addAction(action)
            break


def _start_page(window):
    return window.panels["start"]


def fill_recent(window, menu) -> None:
    """The recent projects, most recent first; the open one is checked and does nothing."""
    menu.clear()
    session = getattr(window, "session", None)
    paths = session.memory.recent() if session is not None else []
    for root in paths:
        action = menu.addAction(f"{root.name}  —  {root}")
        action.setCheckable(True)
        action.setChecked(root == window.project.root)
        action.triggered.connect(lambda _c=False, p=root: _switch(window, p))
    if not paths:
        empty = menu.addAction(tr("No recent projects"))
        empty.setEnabled(False)


def _switch(window, root: Path) -> None:
    session = getattr(window, "session", None)
    if session is not None and root != window.project.root:
        session.switch(root)
