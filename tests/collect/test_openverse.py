"""Keyword collection against a loopback fake of the Openverse API."""

from __future__ import annotations

import pytest

from core.collect.errors import CollectError
from core.collect.openverse import OpenverseClient, Pacer, license_label, search_domain
from core.domains import add_domain
from core.store import collect as cstore
from tests.collect.fake_web import FakeWeb, Reply, openverse_result
from tests.collect.test_urls import FAST
from tests.core.import_fixtures import jpeg_bytes, photo


def client(web: FakeWeb, **kw) -> OpenverseClient:
    return OpenverseClient(web.base, min_interval_s=0.0, **kw)


def search_log(web: FakeWeb) -> list[dict]:
    return [params for path, params in web.log if path == "/v1/images/"]


def test_license_labels():
    assert license_label("by-sa", "2.0") == "CC BY-SA 2.0"
    assert license_label("cc0", "1.0") == "CC0 1.0"
    assert license_label("pdm", "") == "Public Domain Mark 1.0"
    assert license_label(None, "4.0") is None


def test_pacer_spaces_calls():
    now = [100.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    pacer = Pacer(1.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        pacer.wait()
    assert slept == [1.0, 1.0]
    pacer.hold(5.0)
    pacer.wait()
    assert slept[-1] == 5.0


def test_search_pages_licenses_and_attribution(web, project):
    web.catalog["red fox"] = [
        openverse_result(web, n, jpeg_bytes(photo(100 + n)), license="by-nc" if n % 2 else "by")
        for n in range(5)
    ]
    with client(web) as c:
        s = search_domain(
            project, "animals", ["red fox"], pages=3, page_size=2, client=c, policy=FAST, workers=0
        )
    out = s.to_json()
    assert [(p["q"], p["page"], p["page_size"]) for p in search_log(web)] == [
        ("red fox", "1", "2"),
        ("red fox", "2", "2"),
        ("red fox", "3", "2"),
    ]
    assert all("license_type" not in p for p in search_log(web))
    assert (out["results"], out["downloaded"], out["imported"], out["pages_fetched"]) == (
        5,
        5,
        5,
        3,
    )
    assert out["licenses"] == {"CC BY 4.0": 3, "CC BY-NC 4.0": 2}
    assert cstore.license_summary(project.db, "animals") == {"CC BY 4.0": 3, "CC BY-NC 4.0": 2}

    row = project.db.fetchone(
        "SELECT id, title, license, attribution, source_url FROM images WHERE title = 'Picture 3'"
    )
    assert row[1:] == (
        "Picture 3",
        "CC BY-NC 4.0",
        '"Picture 3" by creator3 is licensed under CC BY-NC 4.0.',
        "https://photos.example.org/p/3",
    )
    (prov,) = cstore.collected_for_image(project.db, row[0])
    assert (prov["origin"], prov["creator"], prov["license_code"], prov["license_version"]) == (
        "openverse",
        "creator3",
        "by-nc",
        "4.0",
    )
    assert prov["url"] == web.url("/media/3.jpg") and prov["query"] == "red fox"
    assert prov["source_id"].endswith("000000000003")


def test_commercial_filter_and_domain_keywords(web, project):
    add_domain(project.db, "cars", "Cars", keywords=["blue car", "red car"])
    web.catalog["blue car"] = [
        openverse_result(web, 1, jpeg_bytes(photo(1)), license="by"),
        openverse_result(web, 2, jpeg_bytes(photo(2)), license="by-nc"),
    ]
    web.catalog["red car"] = [
        openverse_result(web, 3, jpeg_bytes(photo(3)), license="cc0", version="1.0")
    ]
    with client(web) as c:
        out = search_domain(
            project, "cars", license_type="commercial", client=c, policy=FAST, workers=0
        ).to_json()
    assert [(p["q"], p["license_type"]) for p in search_log(web)] == [
        ("blue car", "commercial"),
        ("red car", "commercial"),
    ]
    assert out["queries"] == ["blue car", "red car"]
    assert out["licenses"] == {"CC BY 4.0": 1, "CC0 1.0": 1}
    assert project.db.scalar("SELECT count(*) FROM images WHERE domain = 'cars'") == 2


def test_rate_limited_then_served(web, project):
    web.catalog["owl"] = [openverse_result(web, 1, jpeg_bytes(photo(5)))]
    web.search_replies = [Reply(429, b"{}", "application/json", headers={"Retry-After": "0"})]
    with client(web) as c:
        out = search_domain(project, "birds", ["owl"], client=c, policy=FAST, workers=0).to_json()
    assert len(search_log(web)) == 2 and out["imported"] == 1


def test_failures_keep_what_was_found(web, project):
    web.catalog["owl"] = [openverse_result(web, n, jpeg_bytes(photo(20 + n))) for n in range(3)]
    # Page 1 of "owl" works, page 2 keeps failing; "bat" is refused outright.
    with client(web, retries=1) as c:
        first = c.search("owl", 1, 2)
        assert len(first.results) == 2 and first.page_count == 2
        web.log.clear()
        web.search_replies = [
            Reply(
                200,
                b'{"page_count": 2, "page": 1, "results": ' + _results_json(first.results) + b"}",
                "application/json",
            )
        ]
        web.search_replies += [Reply(502, b"bad gateway", "text/plain")] * 2
        web.search_replies += [Reply(403, b"forbidden", "text/plain")]
        out = search_domain(
            project, "birds", ["owl", "bat"], pages=3, page_size=2, client=c, policy=FAST, workers=0
        ).to_json()
    assert out["imported"] == 2
    assert [(e["query"], e["page"]) for e in out["search_errors"]] == [("owl", 2), ("bat", 1)]
    assert "HTTP 502" in out["search_errors"][0]["error"]
    assert "HTTP 403" in out["search_errors"][1]["error"]


def _results_json(results) -> bytes:
    import json

    return json.dumps(results).encode()


def test_nothing_found_at_all_is_an_error(web, project):
    web.search_replies = [Reply(200, b"<html>maintenance</html>", "text/html")]
    with client(web) as c, pytest.raises(CollectError, match="unexpected answer"):
        search_domain(project, "birds", ["owl"], client=c, policy=FAST, workers=0)
    with pytest.raises(CollectError, match="license type"):
        search_domain(project, "birds", ["owl"], license_type="free", client=None)
    with pytest.raises(Exception, match="no domain named"):
        search_domain(project, "nosuch", None, base_url=web.base)
    assert project.db.scalar("SELECT count(*) FROM images") == 0


def test_base_url_from_environment(web, project, monkeypatch):
    monkeypatch.setenv("MMSTUDIO_OPENVERSE_URL", web.base + "/")
    c = OpenverseClient(min_interval_s=0.0)
    assert c.base_url == web.base
    assert c.search("nothing").results == []
    c.close()
