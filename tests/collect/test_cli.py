"""The collect and clip commands end to end: real project, loopback server, tiny CLIP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.cli import main
from core.domains import add_domain
from core.project import Project
from tests.collect.fake_web import FakeWeb, Reply, openverse_result
from tests.collect.test_clip import variant
from tests.core.import_fixtures import jpeg_bytes, photo, save


@pytest.fixture
def web():
    w = FakeWeb()
    yield w
    w.close()


@pytest.fixture
def proj(tmp_path):
    root = tmp_path / "proj"
    with Project.create(root) as p:
        add_domain(p.db, "animals", "Animals", keywords=["red fox"])
    return root


def run(capsys, *argv) -> dict:
    capsys.readouterr()
    assert main([str(a) for a in argv]) == 0
    return json.loads(capsys.readouterr().out)


def fails(capsys, *argv) -> str:
    capsys.readouterr()
    assert main([str(a) for a in argv]) == 1
    return capsys.readouterr().err


def test_collect_urls_search_and_licenses(capsys, web, proj, tmp_path):
    good = web.add("/a.jpg", Reply(body=jpeg_bytes(photo(1))))
    bad = web.add("/a.html", Reply(body=b"<p>", ctype="text/html"))
    lst = tmp_path / "list.txt"
    lst.write_text(f"{good}\tA fox\n{bad}\n")
    out = run(
        capsys,
        "collect",
        "urls",
        proj,
        lst,
        "--domain",
        "animals",
        "--workers",
        "0",
        "--retries",
        "0",
        "--json",
    )
    assert {k: out[k] for k in ("origin", "requested", "downloaded", "imported")} == {
        "origin": "url_list",
        "requested": 2,
        "downloaded": 1,
        "imported": 1,
    }
    assert out["failed"] == [
        {"url": bad, "reason": "bad_content_type", "detail": "content type 'text/html'"}
    ]
    assert set(out) >= {
        "skipped_known",
        "duplicates",
        "near_duplicates",
        "rejected",
        "batch_id",
        "domain",
        "list",
    }

    web.catalog["red fox"] = [openverse_result(web, n, jpeg_bytes(photo(40 + n))) for n in range(3)]
    out = run(
        capsys,
        "collect",
        "search",
        proj,
        "--domain",
        "animals",
        "--base-url",
        web.base,
        "--interval",
        "0",
        "--license-type",
        "commercial",
        "--workers",
        "0",
        "--json",
    )
    assert (out["queries"], out["imported"], out["licenses"]) == (["red fox"], 3, {"CC BY 4.0": 3})
    assert out["search_errors"] == [] and out["license_type"] == "commercial"

    out = run(capsys, "collect", "licenses", proj, "--json")
    assert out == {"domain": None, "licenses": {"CC BY 4.0": 3, "unknown": 1}}


def test_bad_list_is_a_clear_error(capsys, proj, tmp_path):
    (tmp_path / "e.txt").write_text("\n")
    assert "no URLs found" in fails(
        capsys, "collect", "urls", proj, tmp_path / "e.txt", "--domain", "animals"
    )


def test_clip_commands(capsys, proj, tmp_path, tiny_clip):
    assert "clip embed" in fails(capsys, "clip", "search", proj, "--text", "fox")
    photos = [save(photo(i), tmp_path / "in" / f"{i}.png") for i in range(4)]
    run(capsys, "import", proj, *photos, "--domain", "animals", "--workers", "0", "--json")

    out = run(capsys, "clip", "embed", proj, "--model", tiny_clip, "--json")
    assert (out["embedded"], out["already"], out["dim"], out["failed"]) == (4, 0, 16, [])
    assert out["model"] == str(tiny_clip.resolve())

    out = run(capsys, "clip", "relevance", proj, "--threshold", "1", "--list", "--json")
    assert (out["scored"], out["flagged"]) == (4, 4) and len(out["off_domain"]) == 4
    assert set(out["off_domain"][0]) == {
        "image_id",
        "domain",
        "score",
        "threshold",
        "off_domain",
        "best_prompt",
        "best_domain",
    }
    assert out["by_domain"]["animals"]["flagged"] == 4

    out = run(capsys, "clip", "search", proj, "--text", "a red fox", "--k", "2", "--json")
    assert out["query"] == {"text": "a red fox"} and len(out["hits"]) == 2
    assert set(out["hits"][0]) == {"image_id", "score", "domain", "status", "title", "path"}
    out = run(capsys, "clip", "search", proj, "--image", "1", "--json")
    assert len(out["hits"]) == 3 and 1 not in [h["image_id"] for h in out["hits"]]
    query = save(variant(photo(3)), tmp_path / "q.jpg")
    out = run(capsys, "clip", "search", proj, "--file", query, "--k", "1", "--json")
    assert out["hits"][0]["image_id"] == 4

    out = run(capsys, "clip", "dups", proj, "--threshold", "0.999", "--json")
    assert out["groups"] == [] and out["images"] == 4

    pool = tmp_path / "pool"
    save(variant(photo(0)), pool / "near.jpg")
    save(photo(99), pool / "far.png")
    out = run(
        capsys,
        "clip",
        "expand",
        proj,
        "--domain",
        "animals",
        "--pool",
        pool,
        "--seeds",
        "1",
        "--k",
        "1",
        "--model",
        tiny_clip,
        "--workers",
        "0",
        "--json",
    )
    assert [c["source"] for c in out["candidates"]] == [str(pool / "near.jpg")]
    assert out["imported"] == 1 and out["seeds"] == [1]
    out = run(capsys, "clip", "forget", proj, "--model", tiny_clip, "--json")
    assert out == {"forgotten": str(tiny_clip.resolve()), "vectors": 5}
    assert "clip embed" in fails(capsys, "clip", "search", proj, "--text", "fox")
    assert "--seeds takes image ids" in fails_usage(
        capsys, "clip", "expand", proj, "--domain", "animals", "--pool", pool, "--seeds", "x"
    )


def fails_usage(capsys, *argv) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main([str(a) for a in argv])
    return capsys.readouterr().err


def test_cli_and_core_collect_load_without_torch():
    code = (
        "import sys, core.cli, core.collect; core.cli.build_parser(); "
        "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; "
        "sys.exit(str(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
