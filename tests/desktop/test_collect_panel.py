"""The Collect tab in the real window against the loopback fake of Openverse and image hosts:
search with the domain's keywords, previews, license and attribution before download, a
license filter, picking, download with progress, cancel, and a URL list with its reasons."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core.domains import add_domain
from tests.collect.fake_web import FakeWeb, Reply, openverse_result
from tests.core.import_fixtures import jpeg_bytes, photo
from tests.desktop.conftest import wait_idle

pytestmark = pytest.mark.gui
LICENSES = ["by", "by-nc", "by-sa", "cc0", "by-nc-sa", "by-nd"]


@pytest.fixture
def web(monkeypatch):
    w = FakeWeb()
    monkeypatch.setenv("MMSTUDIO_OPENVERSE_URL", w.base)
    yield w
    w.close()


@pytest.fixture
def collect(qtbot, window, web):
    add_domain(window.project.db, "wildlife", "Wildlife", keywords=["red fox"])
    web.catalog["red fox"] = [
        openverse_result(web, n, jpeg_bytes(photo(700 + n)), license=LICENSES[n]) for n in range(6)
    ]
    panel = window.panels["collect"]
    panel.reload_domains()
    panel.choose_domain("wildlife")
    window.show_panel("collect")
    yield panel
    qtbot.waitUntil(lambda: not panel.busy(), timeout=10000)


def _search(qtbot, panel, license_type="all"):
    panel.license.setCurrentIndex(panel.license.findData(license_type))
    panel.search_button.click()
    qtbot.waitUntil(lambda: panel.found is not None, timeout=10000)
    qtbot.waitUntil(lambda: not panel.worker.previews.busy(), timeout=10000)


def test_search_preview_pick_and_download(qtbot, window, collect, web):
    panel = collect
    assert panel.query.text() == "red fox"  # the domain's keywords are prefilled
    _search(qtbot, panel, "commercial")
    codes = [i.meta["license_code"] for i in panel.found.items]
    assert codes == ["by", "by-sa", "cc0", "by-nd"]  # no NC license passes "commercial"
    assert panel.results.count() == 4
    assert all(not panel.results.item(i).icon().isNull() for i in range(4))
    panel.results.setCurrentRow(1)
    assert "creator2" in panel.details.text() and "CC BY-SA 4.0" in panel.details.text()
    before = window.project.db.scalar("SELECT count(*) FROM images")
    assert before == 12  # previews fetched nothing into the project

    panel.pick(False)
    assert not panel.download_button.isEnabled()
    for row in (0, 2):
        panel.results.item(row).setCheckState(Qt.CheckState.Checked)
    assert panel.download_button.isEnabled() and "2" in panel.download_button.text()
    with qtbot.waitSignal(panel.collected, timeout=20000) as got:
        panel.download_button.click()
    summary = got.args[0]
    assert summary.imported.imported == 2
    rows = window.project.db.fetchall(
        "SELECT license, attribution FROM images WHERE domain = 'wildlife' ORDER BY id"
    )
    assert [r[0] for r in rows] == ["CC BY 4.0", "CC0 4.0"] and all(r[1] for r in rows)
    assert panel.bar.value() == panel.bar.maximum()
    wait_idle(qtbot, window)
    assert any(name == "wildlife" and n == 2 for name, _t, n in _entries(window))

    _search(qtbot, panel, "modification")
    assert "by-nd" not in [i.meta["license_code"] for i in panel.found.items]


def _entries(window):
    from core.store import browse

    return browse.domain_entries(window.project.db)


def test_url_list_reasons_and_cancel(qtbot, window, collect, web, tmp_path):
    panel = collect
    ok = [web.add(f"/u{k}.jpg", Reply(body=jpeg_bytes(photo(800 + k)))) for k in range(2)]
    html = web.add("/page.html", Reply(body=b"<html/>", ctype="text/html"))
    gone = web.add("/gone.jpg", Reply(404, b"", "text/plain"))
    listing = tmp_path / "list.csv"
    listing.write_text("url,caption\n" + "\n".join(
        [f"{ok[0]},a fox", f"{ok[1]},a fox", f"{html},page", f"{gone},x", "mailto:me,y"]
    ) + "\n")  # fmt: skip
    with qtbot.waitSignal(panel.collected, timeout=20000):
        panel.import_url_list(str(listing))
    reasons = sorted(panel.rejects.item(r, 1).text() for r in range(panel.rejects.rowCount()))
    assert reasons == ["bad_content_type", "bad_url", "http_error"]
    assert "2 imported" in panel.message.text()

    slow = [web.add(f"/slow{k}.jpg", Reply(body=jpeg_bytes(photo(900 + k)), delay=1.0))
            for k in range(8)]  # fmt: skip
    listing = tmp_path / "slow.txt"
    listing.write_text("\n".join(slow) + "\n")
    with qtbot.waitSignal(panel.collected, timeout=30000) as got:
        panel.import_url_list(str(listing))
        assert panel.cancel_button.isEnabled()
        panel.cancel_button.click()
    cancelled = [f for f in got.args[0].failed if f["reason"] == "cancelled"]
    assert cancelled  # at most the first downloads on the wire finished
    shown = [panel.rejects.item(r, 1).text() for r in range(panel.rejects.rowCount())]
    assert shown.count("cancelled") == len(cancelled)
    assert not panel.cancel_button.isEnabled()


def test_collect_screenshot(qtbot, window, collect):
    from tests.desktop.test_screenshots import save

    _search(qtbot, collect)
    collect.results.setCurrentRow(0)
    wait_idle(qtbot, window)
    save(window, "20_collect_panel")


def test_search_failure_is_a_message(qtbot, window, collect, web):
    web.search_replies = [Reply(500, b"down", "text/plain")] * 8
    collect.search_button.click()
    qtbot.waitUntil(lambda: collect.search_button.isEnabled(), timeout=60000)
    assert "Openverse" in collect.message.text() and "Traceback" not in collect.message.text()
