"""Search before download: results with licenses and previews, a license filter that holds
even when the server ignores it, downloading only the picked results, and cancel."""

from __future__ import annotations

import threading

import pytest

from core.collect.download import fetch_preview
from core.collect.errors import CollectError
from core.collect.ingest import collect_url_list
from core.collect.openverse import collect_results, license_permits, search_results
from core.domains import add_domain
from tests.collect.fake_web import Reply
from tests.collect.test_openverse import client
from tests.collect.test_urls import FAST
from tests.core.import_fixtures import jpeg_bytes, photo


def test_license_permits():
    assert license_permits("by-nc-sa", "all")
    assert not license_permits("by-nc-sa", "commercial")
    assert license_permits("by-nc-sa", "modification")
    assert not license_permits("by-nd", "modification") and license_permits("by-nd", "commercial")
    assert license_permits("cc0", "commercial") and license_permits("pdm", "modification")
    assert not license_permits(None, "commercial")
    with pytest.raises(CollectError, match="license type"):
        license_permits("by", "free")


def catalog(web, query="red fox", n=6):
    from tests.collect.fake_web import openverse_result

    licenses = ["by", "by-nc", "by-nd", "cc0", "by-sa", "by-nc-nd"]
    web.catalog[query] = [
        openverse_result(web, k, jpeg_bytes(photo(300 + k)), license=licenses[k % 6])
        for k in range(n)
    ]
    return web.catalog[query]


def test_search_downloads_nothing_and_filters(web, project):
    add_domain(project.db, "animals", "Animals", keywords=["red fox"])
    catalog(web)
    with client(web) as c:
        found = search_results(project, "animals", client=c)
    assert found.queries == ["red fox"] and len(found.items) == 6
    assert not [p for p, _ in web.log if p.startswith("/media/")]  # nothing fetched yet
    item = found.items[0]
    assert item.meta["license"] == "CC BY 4.0" and "creator0" in item.meta["attribution"]
    assert project.db.scalar("SELECT count(*) FROM images") == 0
    # The fake server ignores license_type=modification: the client-side check still holds.
    with client(web) as c:
        mod = search_results(project, "animals", license_type="modification", client=c)
    assert sorted(i.meta["license_code"] for i in mod.items) == ["by", "by-nc", "by-sa", "cc0"]
    with client(web) as c:
        com = search_results(project, "animals", license_type="commercial", client=c)
    assert sorted(i.meta["license_code"] for i in com.items) == ["by", "by-nd", "by-sa", "cc0"]


def test_picked_results_are_downloaded_with_licenses(web, project):
    add_domain(project.db, "animals", "Animals", keywords=["red fox"])
    catalog(web)
    with client(web) as c:
        found = search_results(project, "animals", client=c)
    picked = found.items[:2]
    s = collect_results(project, "animals", found, picked, policy=FAST, workers=0)
    assert (s.requested, s.imported.imported) == (2, 2)
    assert s.to_json()["results"] == 2 and s.to_json()["licenses"] == {
        "CC BY 4.0": 1,
        "CC BY-NC 4.0": 1,
    }
    rows = project.db.fetchall("SELECT license, attribution FROM images ORDER BY id")
    assert [r[0] for r in rows] == ["CC BY 4.0", "CC BY-NC 4.0"] and all(r[1] for r in rows)


def test_cancel_stops_downloads_not_started(web, project):
    add_domain(project.db, "animals", "Animals", keywords=["red fox"])
    catalog(web)
    with client(web) as c:
        found = search_results(project, "animals", client=c)
    stop = threading.Event()
    stop.set()
    s = collect_results(project, "animals", found, policy=FAST, workers=0, cancel=stop)
    assert s.downloaded == 0 and {f["reason"] for f in s.failed} == {"cancelled"}
    assert project.db.scalar("SELECT count(*) FROM images") == 0


def test_url_list_reasons_and_cancel_midway(web, project, tmp_path):
    ok = [web.add(f"/ok{k}.jpg", Reply(body=jpeg_bytes(photo(400 + k)))) for k in range(3)]
    html = web.add("/page.html", Reply(body=b"<html/>", ctype="text/html"))
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join([*ok, html, "ftp://example.org/x.jpg", ok[0]]) + "\n")
    s = collect_url_list(project, listing, domain="web", policy=FAST, workers=0)
    reasons = sorted(f["reason"] for f in s.failed)
    assert reasons == ["bad_content_type", "bad_url", "duplicate_url"]
    assert s.imported.imported == 3

    more = [web.add(f"/more{k}.jpg", Reply(body=jpeg_bytes(photo(500 + k)))) for k in range(6)]
    listing.write_text("\n".join(more) + "\n")
    stop = threading.Event()

    def progress(done, total):
        if done >= 1:
            stop.set()

    policy = type(FAST)(**{**FAST.__dict__, "concurrency": 1})
    s = collect_url_list(project, listing, domain="web", policy=policy, workers=0,
                         progress=progress, cancel=stop)  # fmt: skip
    cancelled = [f for f in s.failed if f["reason"] == "cancelled"]
    assert cancelled and s.downloaded + len(cancelled) == 6 and s.imported.imported == s.downloaded


def test_preview_bytes_and_errors(web):
    body = jpeg_bytes(photo(1))
    url = web.add("/thumb.jpg", Reply(body=body))
    assert fetch_preview(url) == body
    with pytest.raises(CollectError, match="no preview.*http_error"):
        fetch_preview(web.url("/missing.jpg"))
    with pytest.raises(CollectError, match="too_large"):
        fetch_preview(url, max_bytes=10)
