"""Expansion from a local pool: the k nearest pool images of each seed join the domain."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.collect import CollectError, expand_domain
from core.domains import add_domain
from core.store import collect as cstore
from core.store import embeddings as estore
from tests.collect.fake_web import FakeWeb, Reply
from tests.collect.test_clip import add_images, variant
from tests.collect.test_urls import FAST
from tests.core.import_fixtures import jpeg_bytes, photo, save


@pytest.fixture
def seeded(project, tmp_path):
    add_domain(project.db, "animals", "Animals", keywords=["fox"])
    ids = add_images(project, tmp_path, {f"s{i}": photo(i) for i in range(3)}, "animals")
    return ids


def png_bytes(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_folder_pool_picks_each_seeds_nearest(project, seeded, encoder, tmp_path):
    pool = tmp_path / "pool"
    near0 = save(variant(photo(0)), pool / "a" / "near0.jpg")
    near1 = save(variant(photo(1)), pool / "near1.jpg")
    for n in range(4):
        save(photo(200 + n), pool / f"other{n}.png")
    save(photo(2), pool / "copy_of_seed.png")  # already in the project
    (pool / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    (pool / "notes.txt").write_text("not an image")
    seeds = [seeded["s0"], seeded["s1"]]

    dry = expand_domain(project, "animals", pool, seeds=seeds, k=1, encoder=encoder, dry_run=True)
    assert project.db.scalar("SELECT count(*) FROM images") == 3
    assert {(c["source"], c["seed_id"]) for c in dry.candidates} == {
        (str(near0), seeded["s0"]),
        (str(near1), seeded["s1"]),
    }
    assert dry.already_in_project == 1 and dry.pool == 8
    assert [(f["label"], f["reason"]) for f in dry.pool_failed] == [
        (str(pool / "broken.jpg"), "not_an_image")
    ]

    out = expand_domain(
        project, "animals", pool, seeds=seeds, k=1, encoder=encoder, workers=0
    ).to_json()
    assert out["imported"] == 2 and out["candidates"] == dry.to_json()["candidates"]
    rows = project.db.fetchall(
        "SELECT c.seed_image_id, c.score, s.path, i.domain FROM collected c "
        "JOIN images i ON i.id = c.image_id JOIN image_sources s ON s.image_id = i.id "
        "WHERE c.origin = 'expand' ORDER BY c.seed_image_id"
    )
    assert [(r[0], r[2], r[3]) for r in rows] == [
        (seeded["s0"], str(near0), "animals"),
        (seeded["s1"], str(near1), "animals"),
    ]
    assert all(r[1] > 0.99 for r in rows)
    # The new images are searchable at once: their vectors were stored with the import.
    assert estore.get_model(project.db).vectors == 4  # two seeds, two new images

    # k=3 with a floor: nothing below min_score is taken, whatever k says.
    top = max(c["score"] for c in dry.candidates)
    strict = expand_domain(
        project,
        "animals",
        pool,
        seeds=seeds,
        k=3,
        min_score=top + 1e-4,
        encoder=encoder,
        dry_run=True,
    )
    assert strict.candidates == []


def test_seeds_default_to_accepted_images(project, seeded, encoder, tmp_path):
    pool = tmp_path / "pool"
    save(variant(photo(2)), pool / "near2.jpg")
    with pytest.raises(CollectError, match="no accepted images"):
        expand_domain(project, "animals", pool, encoder=encoder, dry_run=True)
    project.db.execute("UPDATE images SET status = 'accepted' WHERE id = ?", [seeded["s2"]])
    out = expand_domain(project, "animals", pool, k=5, encoder=encoder, dry_run=True)
    assert out.seeds == [seeded["s2"]]
    assert [c["source"] for c in out.candidates] == [str(pool / "near2.jpg")]


def test_parquet_pools_of_bytes_and_of_urls(project, seeded, encoder, tmp_path):
    blobs = tmp_path / "pool.parquet"
    pq.write_table(
        pa.table(
            {
                "image": [
                    {"bytes": png_bytes(variant(photo(0))), "path": "x.png"},
                    {"bytes": png_bytes(photo(300)), "path": "y.png"},
                    None,
                ],
                "caption": ["a fox at dusk", "something else", "missing"],
            }
        ),
        blobs,
    )
    out = expand_domain(
        project, "animals", blobs, seeds=[seeded["s0"]], k=1, encoder=encoder, workers=0
    ).to_json()
    assert [c["source"] for c in out["candidates"]] == [f"{blobs}#row=0"]
    assert out["pool_failed"] == [
        {"label": f"{blobs}#row=2", "reason": "empty", "detail": "no image bytes"}
    ]
    new_id = project.db.scalar(
        "SELECT image_id FROM image_sources WHERE path = ?", [f"{blobs}#row=0"]
    )
    assert project.db.scalar("SELECT title FROM images WHERE id = ?", [new_id]) == "a fox at dusk"

    web = FakeWeb()
    try:
        near = web.add("/near.jpg", Reply(body=jpeg_bytes(variant(photo(1)))))
        far = web.add("/far.jpg", Reply(body=jpeg_bytes(photo(301))))
        gone = web.url("/gone.jpg")
        urls = tmp_path / "urls.parquet"
        pq.write_table(pa.table({"url": [near, far, gone], "title": ["Near", "Far", "Gone"]}), urls)
        out = expand_domain(
            project,
            "animals",
            urls,
            seeds=[seeded["s1"]],
            k=1,
            encoder=encoder,
            policy=FAST,
            workers=0,
        ).to_json()
    finally:
        web.close()
    assert [c["source"] for c in out["candidates"]] == [near]
    assert [(f["label"], f["reason"]) for f in out["pool_failed"]] == [(gone, "http_error")]
    image_id = project.db.scalar("SELECT image_id FROM image_sources WHERE path = ?", [near])
    (prov,) = cstore.collected_for_image(project.db, image_id)
    assert (prov["url"], prov["title"], prov["seed_image_id"]) == (near, "Near", seeded["s1"])


def test_bad_pools_and_seeds(project, seeded, encoder, tmp_path):
    with pytest.raises(CollectError, match="no such folder"):
        expand_domain(project, "animals", tmp_path / "nope", seeds=[seeded["s0"]], encoder=encoder)
    (tmp_path / "pool.csv").write_text("url\n")
    with pytest.raises(CollectError, match="folder of images or a .parquet"):
        expand_domain(
            project, "animals", tmp_path / "pool.csv", seeds=[seeded["s0"]], encoder=encoder
        )
    pq.write_table(pa.table({"label": ["x"]}), tmp_path / "p.parquet")
    with pytest.raises(CollectError, match="no image column"):
        expand_domain(
            project, "animals", tmp_path / "p.parquet", seeds=[seeded["s0"]], encoder=encoder
        )
    with pytest.raises(CollectError, match="no image with id 77"):
        expand_domain(project, "animals", tmp_path, seeds=[77], encoder=encoder)
    with pytest.raises(Exception, match="no domain named"):
        expand_domain(project, "plants", tmp_path, seeds=[seeded["s0"]], encoder=encoder)
