"""Curation and balance over real projects: duplicate groups settled by review edits,
off-domain candidates, "more like this" in the project and in a cached pool index, balance
gaps, and the cancel / resume / offline behaviour the desktop relies on."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.collect import curate
from core.collect.balance import Target, balance, get_target, set_target
from core.collect.embed import embed_images
from core.collect.errors import CollectError
from core.collect.pool_index import add_pool_images, cache_file, index_pool, pool_like
from core.collect.relevance import score_relevance
from core.collect.similarity import group_near_duplicates
from core.store import review
from tests.collect.test_clip import variant
from tests.core.import_fixtures import photo, save


def test_phash_groups_keep_one_undo_and_keep_all(project, library):
    groups = curate.duplicate_groups(project, "phash")
    assert sorted(sorted(g.ids) for g in groups) == sorted(
        [sorted([library["a0"], library["a0v"]]), sorted([library["c0"], library["c0v"]])]
    )
    first = next(g for g in groups if library["a0"] in g.ids)
    assert first.members[0]["id"] == library["a0"]  # the larger original is offered to keep
    assert all(m["file"].endswith((".png", ".jpg")) or m["file"] for m in first.members)

    changes = curate.keep_one(project.db, first, library["a0"])
    status = dict(project.db.fetchall("SELECT id, status FROM images"))
    assert status[library["a0v"]] == "rejected" and status[library["a0"]] == "new"
    assert [g.key for g in curate.duplicate_groups(project, "phash")] == [
        g.key for g in groups if g is not first
    ]
    review.apply_changes(project.db, review.inverse(changes))  # undo brings the group back
    assert len(curate.duplicate_groups(project, "phash")) == 2

    curate.keep_all(project.db, first)
    left = curate.duplicate_groups(project, "phash")
    assert [g.ids for g in left] == [g.ids for g in groups if g is not first]
    assert curate.duplicate_groups(project, "phash", domain="cars")[0].members[0]["domain"] == (
        "cars"
    )
    with pytest.raises(CollectError, match="not in this group"):
        curate.keep_one(project.db, first, 99999)
    with pytest.raises(CollectError, match="duplicate kind"):
        curate.duplicate_groups(project, "colour")


def test_embedding_groups_and_off_domain(project, library, encoder):
    embed_images(project, encoder=encoder)
    group_near_duplicates(project, threshold=0.99)
    groups = curate.duplicate_groups(project, "embedding")
    assert groups and all(len(g.ids) >= 2 and g.similarity >= 0.99 for g in groups)

    score_relevance(project, encoder=encoder, threshold=1.0)  # every image is "off" at 1.0
    cands = curate.off_domain_candidates(project)
    assert len(cands) == len(library)
    scores = [c.score for c in cands]
    assert scores == sorted(scores)
    curate.reject_images(project.db, [cands[0].card["id"], cands[1].card["id"]])
    assert len(curate.off_domain_candidates(project)) == len(library) - 2
    assert {c.card["domain"] for c in curate.off_domain_candidates(project, "cars")} == {"cars"}


def test_more_like_this_threshold_and_move(project, library, encoder, tmp_path):
    embed_images(project, encoder=encoder)
    got = curate.more_like_this(project, library["a0"], k=50, encoder=encoder)
    assert got.hits and library["a0"] not in [h.card["id"] for h in got.hits]
    best = got.hits[0].score
    cut = curate.more_like_this(project, library["a0"], min_score=best, encoder=encoder)
    assert [h.score for h in cut.hits] == [h.score for h in got.hits if h.score >= best]
    text = curate.more_like_this(project, text="a photo of a red car", k=3, encoder=encoder)
    assert len(text.hits) == 3 and text.query == {"text": "a photo of a red car"}
    file = save(photo(0), tmp_path / "outside.png")
    assert curate.more_like_this(project, file=str(file), k=2, encoder=encoder).hits
    with pytest.raises(CollectError, match="exactly one"):
        curate.more_like_this(project, library["a0"], text="x")

    changes = curate.move_to_domain(project.db, [library["c1"]], "animals")
    assert project.db.scalar("SELECT domain FROM images WHERE id = ?", [library["c1"]]) == (
        "animals"
    )
    review.apply_changes(project.db, review.inverse(changes))
    assert project.db.scalar("SELECT domain FROM images WHERE id = ?", [library["c1"]]) == "cars"


def test_pool_index_is_cached_resumable_and_adds_to_a_domain(project, library, encoder, tmp_path):
    embed_images(project, encoder=encoder)
    pool = tmp_path / "pool"
    for i in range(6):
        save(photo(200 + i), pool / f"p{i}.png")
    save(variant(photo(1)), pool / "near_a1.jpg")
    save(photo(2), pool / "same_as_a2.png")  # already in the project, byte for byte
    (pool / "broken.png").write_bytes(b"not an image")

    stop = threading.Event()
    stop.set()
    cancelled = index_pool(project, pool, encoder=encoder, cancel=stop)
    assert cancelled.cancelled and len(cancelled) == 0

    seen = []
    index = index_pool(project, pool, encoder=encoder, batch_size=3,
                       progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    assert len(index) == 8 and [f["reason"] for f in index.failed] == ["not_an_image"]
    assert seen[-1] == (9, 9) and cache_file(project, index.folder, index.model).is_file()
    again = []
    index2 = index_pool(project, pool, encoder=encoder, progress=lambda d, t: again.append(t))
    assert again == [1, 1]  # only the broken file is tried again; the rest comes from the cache
    assert np.allclose(index2.vecs, index.vecs)

    hits = pool_like(project, index, library["a1"], k=8)
    assert hits[0].path.endswith("near_a1.jpg")
    assert [h.in_project for h in hits if h.path.endswith("same_as_a2.png")] == [True]
    assert pool_like(project, index, library["a1"], k=8, min_score=hits[1].score - 1e-6) == hits[:2]

    out = add_pool_images(project, index, hits[:3], "animals", library["a1"])
    assert out["imported"] == sum(1 for h in hits[:3] if not h.in_project)
    rows = project.db.fetchall(
        "SELECT origin, seed_image_id FROM collected WHERE origin = 'expand'"
    )
    assert rows and all(r == ("expand", library["a1"]) for r in rows)
    # Their vectors are stored: they show up in project searches at once.
    like = curate.more_like_this(project, library["a1"], k=50, encoder=encoder)
    assert len(like.hits) == len(library) - 1 + out["imported"]


def test_embedding_cancel_and_resume(project, library, encoder):
    stop = threading.Event()
    calls = []

    def progress(done, total):
        calls.append(done)
        if done >= 2:
            stop.set()

    first = embed_images(project, encoder=encoder, batch_size=2, progress=progress, cancel=stop)
    assert first.cancelled and first.embedded == 2 and "cancelled" in first.describe()
    rest = embed_images(project, encoder=encoder, batch_size=2)
    assert (rest.embedded, rest.already, rest.cancelled) == (len(library) - 2, 2, False)


def test_offline_catalog_model_fails_at_once(monkeypatch, tmp_path):
    from core.collect.encoder import load_encoder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(CollectError, match="offline.*clip-vit-b32.*605 MB"):
        load_encoder("clip-vit-b32", progress=lambda *a: None)


def test_balance_counts_gaps_and_target(project, library):
    assert get_target(project) == Target()
    target = set_target(project, Target(images=5, captions=3,
                                        instructions={"judgement": 2, "long_vqa": 1}))  # fmt: skip
    assert get_target(project) == target and target.instructions["short_vqa"] == 0
    a0 = library["a0"]
    project.db.execute(
        "INSERT INTO captions (image_id, version, text) VALUES (?, 1, 'a fox'), (?, 1, 'a dog')",
        [a0, library["a1"]],
    )
    project.db.execute(
        "INSERT INTO instructions (image_id, itype, lang, question, answer, status) VALUES "
        "(?, 'judgement', 'en', 'q', 'a', 'new'), (?, 'judgement', 'en', 'q2', 'a', 'rejected')",
        [a0, a0],
    )
    curate.reject_images(project.db, [library["a3"]])
    rows = {b.domain: b for b in balance(project)}
    animals, cars = rows["animals"], rows["cars"]
    assert (animals.images, animals.captions, animals.instructions["judgement"]) == (4, 2, 1)
    assert (animals.image_gap, animals.caption_gap) == (1, 1)
    assert animals.type_gaps() == {"judgement": 1, "multiple_choice": 0, "short_vqa": 0,
                                   "long_vqa": 1}  # fmt: skip
    assert animals.fill_action() == "collect" and cars.fill_action() == "collect"
    full = {b.domain: b for b in balance(project, Target(images=4, captions=2))}
    assert full["animals"].fill_action() == "generate"
    assert full["animals"].under_filled() == ["judgement", "multiple_choice", "short_vqa",
                                              "long_vqa"]  # fmt: skip
    assert full["cars"].fill_action() == "caption"
    assert animals.to_json()["gaps"]["images"] == 1
    with pytest.raises(CollectError, match="whole number"):
        Target(images=-1)
    with pytest.raises(CollectError, match="unknown instruction"):
        Target(instructions={"essay": 3})


def test_in_memory_index_answers_like_duckdb_and_follows_changes(project, library, encoder):
    from core.collect.embed import stored_model
    from core.collect.vector_index import ProjectIndex
    from core.store import embeddings as estore

    embed_images(project, encoder=encoder)
    index = ProjectIndex(project, stored_model(project))
    for kw in ({"image_id": library["a0"]}, {"text": "a photo of a fox"}):
        for domain in (None, "cars"):
            plain = curate.more_like_this(project, k=5, domain=domain, encoder=encoder, **kw)
            fast = curate.more_like_this(project, k=5, domain=domain, encoder=encoder,
                                         index=index, **kw)  # fmt: skip
            assert [(h.card["id"], round(h.score, 5)) for h in fast.hits] == [
                (h.card["id"], round(h.score, 5)) for h in plain.hits
            ]
    assert len(index) == len(library)
    row = stored_model(project)
    estore.write_vectors(project.db, row, [library["a1"]], -index._mat[:1])
    project.db.execute(f"DELETE FROM clip_vectors_{row.dim} WHERE image_id = ?", [library["c1"]])
    assert len(index) == len(library) - 1  # reloaded: the count changed
    with pytest.raises(CollectError, match="no image with id"):
        curate.more_like_this(project, 999999, index=index, encoder=encoder)


def test_the_encoder_in_a_child_process_gives_the_same_vectors(tiny_clip, encoder, tmp_path):
    from core.collect.encoder_process import ProcessEncoder, shared_encoder

    enc = shared_encoder(str(tiny_clip), "cpu", 1)
    assert shared_encoder(str(tiny_clip), "cpu", 1) is enc  # one child per model
    assert (enc.key, enc.dim) == (encoder.key, encoder.dim)
    images = [photo(1), photo(2)]
    assert np.allclose(enc.encode_images(images), encoder.encode_images(images), atol=1e-5)
    assert np.allclose(enc.encode_texts(["a red car"]), encoder.encode_texts(["a red car"]),
                       atol=1e-5)  # fmt: skip
    assert enc.encode_images([]).shape == (0, enc.dim)
    with pytest.raises(CollectError, match="holds no model"):
        ProcessEncoder(str(tmp_path), "cpu", 1)
