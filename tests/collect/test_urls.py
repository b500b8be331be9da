"""URL lists: parsing, downloads against a real loopback server, and the import that follows."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.collect.download import Downloader, DownloadPolicy
from core.collect.errors import CollectError
from core.collect.ingest import collect_url_list
from core.collect.urllist import UrlItem, read_url_list
from core.jobs.retry import RetryPolicy
from core.store import collect as cstore
from tests.collect.fake_web import FakeWeb, Reply
from tests.core.import_fixtures import jpeg_bytes, photo

FAST = DownloadPolicy(
    timeout_s=2.0,
    total_timeout_s=5.0,
    retries=2,
    concurrency=3,
    backoff=RetryPolicy(base_s=0.01, cap_s=0.02),
)


@pytest.fixture
def web():
    w = FakeWeb()
    yield w
    w.close()


# parsing ------------------------------------------------------------------------------------
def test_text_list_with_comments_and_titles(tmp_path):
    f = tmp_path / "list.txt"
    f.write_text(
        "# my list\n\nhttp://a.example/1.jpg\nhttp://a.example/2.jpg\tA title\tA caption\n"
    )
    items = read_url_list(f)
    assert items == [
        UrlItem("http://a.example/1.jpg"),
        UrlItem("http://a.example/2.jpg", "A title", "A caption"),
    ]


def test_csv_laion_columns_and_parquet(tmp_path):
    f = tmp_path / "list.csv"
    f.write_text("URL,TEXT,other\nhttp://a.example/1.jpg,a red fox,x\nftp://b/2.png,,y\n")
    items = read_url_list(f)
    assert [(i.url, i.caption) for i in items] == [
        ("http://a.example/1.jpg", "a red fox"),
        ("ftp://b/2.png", None),  # kept, so the download reports it as a bad URL
    ]
    p = tmp_path / "list.parquet"
    pq.write_table(
        pa.table({"image_url": ["http://a.example/3.jpg"], "title": ["Three"], "n": [3]}), p
    )
    assert read_url_list(p) == [UrlItem("http://a.example/3.jpg", "Three", None)]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("list.csv", "link_to_image,title\nhttp://x/1.jpg,a\n", "no URL column"),
        ("list.json", "[]", "unknown list format"),
        ("list.txt", "# nothing\n\n", "no URLs found"),
        ("missing.txt", None, "no such file"),
    ],
)
def test_bad_lists_say_why(tmp_path, name, content, message):
    f = tmp_path / name
    if content is not None:
        f.write_text(content)
    with pytest.raises(CollectError, match=message):
        read_url_list(f)


def test_not_a_parquet_file(tmp_path):
    f = tmp_path / "list.parquet"
    f.write_bytes(b"PAR1 but not really")
    with pytest.raises(CollectError, match="not a readable parquet"):
        read_url_list(f)


# downloads ----------------------------------------------------------------------------------
def test_download_outcomes(web, tmp_path):
    jpg = jpeg_bytes(photo(1))
    big = jpeg_bytes(photo(2, (800, 600)), quality=95)
    urls = {
        "ok": web.add("/ok.jpg", Reply(body=jpg)),
        "flaky": web.add("/flaky.jpg", Reply(503), Reply(503), Reply(body=jpg)),
        "throttled": web.add(
            "/slowdown.jpg", Reply(429, headers={"Retry-After": "0"}), Reply(body=jpg)
        ),
        "down": web.add("/down.jpg", Reply(503)),
        "missing": web.url("/nothing-here.jpg"),
        "html": web.add("/page.jpg", Reply(body=b"<html>hi</html>", ctype="text/html")),
        "announced_big": web.add("/big.jpg", Reply(body=big)),
        "unannounced_big": web.add("/big2.jpg", Reply(body=big, length=False)),
        "empty": web.add("/empty.jpg", Reply(body=b"")),
        "stalled": web.add("/stall.jpg", Reply(body=jpg, delay=1.5)),
        "bad": "ftp://files.example/x.jpg",
    }
    policy = DownloadPolicy(
        timeout_s=0.5,
        total_timeout_s=5.0,
        retries=2,
        concurrency=4,
        max_bytes=len(big) - 1,
        backoff=RetryPolicy(base_s=0.01, cap_s=0.02),
    )
    seen = []
    items = [UrlItem(u) for u in urls.values()]
    got = Downloader(tmp_path / "dl", policy).fetch_all(items, lambda d, t: seen.append((d, t)))
    by = dict(zip(urls, got, strict=True))
    assert [r.index for r in got] == list(range(len(items)))
    for name in ("ok", "flaky", "throttled"):
        assert by[name].ok, by[name]
        assert open(by[name].path, "rb").read() == jpg
        assert by[name].content_type == "image/jpeg"
    assert by["flaky"].attempts == 3 and web.hits("/flaky.jpg") == 3
    assert by["throttled"].attempts == 2
    expected = {
        "down": "http_error",
        "missing": "http_error",
        "html": "bad_content_type",
        "announced_big": "too_large",
        "unannounced_big": "too_large",
        "empty": "empty",
        "stalled": "timeout",
        "bad": "bad_url",
    }
    assert {k: by[k].reason for k in expected} == expected
    assert web.hits("/down.jpg") == 3  # retried twice
    assert web.hits("/nothing-here.jpg") == 1  # a 404 is final
    assert "HTTP 404" in by["missing"].detail
    assert seen[-1] == (len(items), len(items))
    # Only the finished files remain: no partial downloads.
    assert sorted(os.listdir(tmp_path / "dl")) == sorted(
        os.path.basename(by[n].path) for n in ("ok", "flaky", "throttled")
    )


def test_slow_drip_is_cut_off(web, tmp_path):
    url = web.add("/drip.jpg", Reply(body=b"\xff" * 64 * 1024, drip=0.05))
    policy = DownloadPolicy(timeout_s=2.0, total_timeout_s=0.3, retries=0)
    (res,) = Downloader(tmp_path, policy).fetch_all([UrlItem(url)])
    assert res.reason == "timeout"


# the whole flow -----------------------------------------------------------------------------
def test_url_list_import_keeps_titles_and_reports_failures(web, project, tmp_path):
    a, b = jpeg_bytes(photo(11)), jpeg_bytes(photo(12))
    ua = web.add("/a.jpg", Reply(body=a))
    ub = web.add("/b.jpg", Reply(body=b))
    same_as_a = web.add("/mirror/a.jpg", Reply(body=a))
    broken = web.add("/broken.jpg", Reply(body=b"\xff\xd8 definitely not a jpeg"))
    html = web.add("/html.jpg", Reply(body=b"<html/>", ctype="text/html"))
    lst = tmp_path / "urls.csv"
    lst.write_text(
        "url,title,caption\n"
        f"{ua},Fox,a red fox in snow\n{ub},,a blue car\n{same_as_a},Fox again,\n"
        f"{broken},,\n{html},,\n{ua},dup row,\nnot-a-url,,\n"
    )
    s = collect_url_list(project, lst, domain="animals", policy=FAST, workers=0)
    out = s.to_json()
    assert (out["requested"], out["downloaded"], out["imported"], out["duplicates"]) == (7, 4, 2, 1)
    failed = {(f["url"], f["reason"]) for f in out["failed"]}
    assert failed == {(html, "bad_content_type"), (ua, "duplicate_url"), ("not-a-url", "bad_url")}
    assert [(r["path"], r["reason"]) for r in out["rejected"]] == [(broken, "not_an_image")]

    db = project.db
    rows = db.fetchall("SELECT sha256, title, source_url, domain FROM images ORDER BY id")
    assert [r[1:] for r in rows] == [("Fox", ua, "animals"), ("a blue car", ub, "animals")]
    # Every place an image was seen is its URL, not a temporary file.
    sources = sorted(r[0] for r in db.fetchall("SELECT path FROM image_sources"))
    assert sources == sorted([ua, ub, same_as_a])
    rejected = dict(
        db.fetchall("SELECT path, reason FROM rejected WHERE batch_id = ?", [out["batch_id"]])
    )
    assert rejected == {
        broken: "not_an_image",
        html: "bad_content_type",
        ua: "duplicate_url",
        "not-a-url": "bad_url",
    }
    fox_id = db.scalar("SELECT id FROM images WHERE source_url = ?", [ua])
    prov = cstore.collected_for_image(db, fox_id)
    assert {(p["url"], p["title"], p["caption"]) for p in prov} == {
        (ua, "Fox", "a red fox in snow"),
        (same_as_a, "Fox again", None),
    }

    # A second run fetches nothing it already has.
    hits = len(web.log)
    again = collect_url_list(project, lst, domain="animals", policy=FAST, workers=0).to_json()
    assert again["skipped_known"] == 3 and again["imported"] == 0
    assert len(web.log) - hits == 2  # only the two URLs that failed before are retried


def test_bad_domain_name_fails_before_any_download(web, project, tmp_path):
    lst = tmp_path / "u.txt"
    lst.write_text(web.add("/a.jpg", Reply(body=jpeg_bytes(photo(1)))) + "\n")
    with pytest.raises(Exception, match="invalid domain name"):
        collect_url_list(project, lst, domain="Bad Name!", policy=FAST, workers=0)
    assert web.log == []
    assert project.db.scalar("SELECT count(*) FROM images") == 0


def test_interrupted_import_keeps_provenance_of_what_got_in(web, project, tmp_path):
    urls = [web.add(f"/{i}.jpg", Reply(body=jpeg_bytes(photo(60 + i)))) for i in range(2)]
    lst = tmp_path / "u.txt"
    lst.write_text("\n".join(urls) + "\n")
    calls = []

    def progress(done, total):
        calls.append((done, total))
        # Downloads report 0, 1, 2; the import then reports 0, 1, ...: stop after its first.
        if len(calls) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        collect_url_list(project, lst, domain="animals", policy=FAST, workers=0, progress=progress)
    rows = project.db.fetchall(
        "SELECT c.url, i.source_url FROM collected c JOIN images i ON i.id = c.image_id"
    )
    assert len(rows) == project.db.scalar("SELECT count(*) FROM images") == 1
    assert rows[0][0] == rows[0][1] and rows[0][0] in urls
