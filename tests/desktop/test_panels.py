"""The seams other parts use: panels (tabs, docks) and menu actions from desktop.panels."""

import pytest
from PySide6.QtWidgets import QDockWidget, QLabel

from desktop import panels
from desktop.workers.thumbnails import LRUCache

pytestmark = pytest.mark.gui


@pytest.fixture
def registry(monkeypatch):
    # The real parts register on their first import; done inside the copy, their panels
    # would vanish with it and later tests would find no "jobs" tab.
    panels.load_panel_modules()
    monkeypatch.setattr(panels, "PANELS", dict(panels.PANELS))
    monkeypatch.setattr(panels, "ACTIONS", list(panels.ACTIONS))
    return panels


def test_registered_panels_and_actions_appear(qtbot, registry, review_project):
    from desktop.main_window import MainWindow

    ran = []
    # names of their own: the real jobs, training and settings parts register theirs too
    registry.register_panel(registry.Panel("probe", "Probe", lambda w: QLabel("here"), order=49))
    registry.register_panel(
        registry.Panel("probe_log", "Log", lambda w: QLabel("log"), area="bottom")
    )
    registry.register_action(registry.MenuAction("Tools", "Probe action…", lambda w: ran.append(w)))
    with pytest.raises(ValueError, match="area must be one of"):
        registry.register_panel(registry.Panel("bad", "Bad", lambda w: QLabel(), area="top"))

    window = MainWindow(review_project)
    qtbot.addWidget(window)
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs[0] == "Browse && review"
    assert tabs.index("Probe") == tabs.index("Stats") - 1  # by order: probe 49, stats 50
    dock = window.findChild(QDockWidget, "dock_probe_log")
    assert dock is not None and dock.widget() is window.panels["probe_log"]
    window.show_panel("probe")
    assert window.tabs.currentWidget() is window.panels["probe"]
    probe = next(a for a in window.menu("Tools").actions() if a.text() == "Probe action…")
    probe.trigger()
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


def test_real_window_menus_hold_the_panel_actions(review_project):
    """In a fresh interpreter (no test has imported the panel modules), the window loads them
    before building its menus, so their actions reach Tools and View."""
    import json
    import subprocess
    import sys
    import textwrap

    from tests.conftest import REPO

    path = review_project.root
    review_project.close()
    code = textwrap.dedent(
        f"""
        import json, sys
        from PySide6.QtWidgets import QApplication
        assert "desktop.views.jobs_panel" not in sys.modules
        app = QApplication([])
        from core.project import Project
        from desktop.main_window import MainWindow
        project = Project.open({str(path)!r})
        window = MainWindow(project)
        menus = {{name: [a.text() for a in window.menu(name).actions() if a.text()]
                  for name in ("Tools", "View")}}
        window.shutdown()
        project.close()
        print(json.dumps(menus))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    menus = json.loads(out.stdout.strip().splitlines()[-1])
    assert "Settings…" in menus["Tools"]
    assert "Jobs" in menus["View"]
