"""The seams other parts use: panels (tabs, docks) and menu actions from desktop.panels."""

import pytest
from PySide6.QtWidgets import QDockWidget, QLabel

from desktop import panels
from desktop.workers.thumbnails import LRUCache

pytestmark = pytest.mark.gui


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(panels, "PANELS", dict(panels.PANELS))
    monkeypatch.setattr(panels, "ACTIONS", list(panels.ACTIONS))
    return panels


def test_registered_panels_and_actions_appear(qtbot, registry, review_project):
    from desktop.main_window import MainWindow

    ran = []
    registry.register_panel(registry.Panel("jobs", "Jobs", lambda w: QLabel("jobs here"), order=20))
    registry.register_panel(registry.Panel("log", "Log", lambda w: QLabel("log"), area="bottom"))
    registry.register_action(registry.MenuAction("Tools", "Settings…", lambda w: ran.append(w)))
    with pytest.raises(ValueError, match="area must be one of"):
        registry.register_panel(registry.Panel("bad", "Bad", lambda w: QLabel(), area="top"))

    window = MainWindow(review_project)
    qtbot.addWidget(window)
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs[0] == "Browse && review"
    assert tabs.index("Jobs") < tabs.index("Stats")  # by order: jobs 20, stats 50
    dock = window.findChild(QDockWidget, "dock_log")
    assert dock is not None and dock.widget() is window.panels["log"]
    window.show_panel("jobs")
    assert window.tabs.currentWidget() is window.panels["jobs"]
    settings = next(a for a in window.menu("Tools").actions() if a.text() == "Settings…")
    settings.trigger()
    assert ran == [window]
    assert window.menu("Plugins").title() == "Plugins"  # a new menu on demand
    window.shutdown()


def test_lru_cache_evicts_least_recently_used():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and "a" in cache and "c" in cache and len(cache) == 2


def test_filter_state_emits_only_on_change(qtbot):
    from desktop.models.filter_state import FilterState

    state = FilterState()
    seen = []
    state.changed.connect(seen.append)
    state.update(domain="art")
    state.update(domain="art")
    state.update(text="")
    assert [q.domain for q in seen] == ["art"]
