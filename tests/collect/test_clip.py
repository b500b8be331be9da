"""CLIP mechanics with a tiny random model: vectors in DuckDB, search, relevance, duplicates."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.collect import (
    CollectError,
    domain_prompts,
    embed_images,
    group_near_duplicates,
    off_domain_images,
    score_relevance,
    search_image_file,
    search_text,
    similar_images,
)
from core.collect.catalog import resolve
from core.collect.imageio import open_rgb
from core.domains import get_domain
from core.library.importer import import_paths
from core.store import embeddings as estore
from tests.core.import_fixtures import photo, save


def variant(img: Image.Image) -> Image.Image:
    """The same picture re-encoded smaller: another file, nearly the same content."""
    buf = io.BytesIO()
    img.resize((300, 225)).save(buf, "JPEG", quality=60)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def add_images(project, tmp_path, images: dict[str, Image.Image], domain: str) -> dict[str, int]:
    folder = tmp_path / f"in-{domain}"
    paths = [save(img, folder / f"{name}.png") for name, img in images.items()]
    import_paths(project, paths, domain=domain, workers=0)
    rows = project.db.fetchall("SELECT path, image_id FROM image_sources")
    by_path = {p: i for p, i in ((r[0], r[1]) for r in rows)}
    return {name: by_path[str(p)] for name, p in zip(images, paths, strict=True)}


def test_embed_stores_unit_vectors_in_a_fixed_size_array(project, library, encoder):
    s = embed_images(project, encoder=encoder)
    assert (s.embedded, s.already, s.failed, s.dim) == (len(library), 0, [], 16)
    model = estore.get_model(project.db, encoder.key)
    assert model.vectors == len(library)
    dtype = project.db.scalar(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'clip_vectors_16' AND column_name = 'vec'"
    )
    assert dtype == "FLOAT[16]"
    ids, vecs = estore.load_vectors(project.db, model)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # The stored vector is the model's output for that file, not some other row's.
    storage, path = project.db.fetchone(
        "SELECT storage, path FROM images WHERE id = ?", [int(ids[2])]
    )
    direct = encoder.encode_images([open_rgb(project.resolve_media(storage, path), 10**8)])[0]
    assert np.allclose(vecs[2], direct, atol=1e-5)

    again = embed_images(project, encoder=encoder)
    assert (again.embedded, again.already) == (0, len(library))


def test_unreadable_media_is_reported_and_the_rest_embedded(project, library, encoder):
    storage, path = project.db.fetchone(
        "SELECT storage, path FROM images WHERE id = ?", [library["a1"]]
    )
    project.resolve_media(storage, path).unlink()
    s = embed_images(project, encoder=encoder, domain="animals")
    assert s.embedded == 4
    assert [(f["image_id"], f["reason"]) for f in s.failed] == [(library["a1"], "not_found")]


def test_text_search_ranks_by_cosine(project, library, encoder):
    embed_images(project, encoder=encoder)
    hits = search_text(project, "a photo of a red car", k=3)
    model = estore.get_model(project.db)
    ids, vecs = estore.load_vectors(project.db, model)
    expected = vecs @ encoder.encode_texts(["a photo of a red car"])[0]
    order = np.argsort(-expected, kind="stable")[:3]
    assert [h.image_id for h in hits] == [int(ids[i]) for i in order]
    assert [h.score for h in hits] == pytest.approx([float(expected[i]) for i in order], abs=1e-5)
    assert all(h.path and h.domain for h in hits)
    in_cars = search_text(project, "fox", k=50, domain="cars")
    assert {h.domain for h in in_cars} == {"cars"} and len(in_cars) == 4


def test_similar_images_finds_the_reencoded_copy(project, library, encoder, tmp_path):
    embed_images(project, encoder=encoder)
    for name in ("a0", "c0"):
        hits = similar_images(project, library[name], k=3)
        assert library[name] not in [h.image_id for h in hits]
        assert hits[0].image_id == library[name + "v"]
        assert hits[0].score > hits[1].score
    outside = save(variant(photo(2)), tmp_path / "query.jpg")
    assert search_image_file(project, str(outside), k=1)[0].image_id == library["a2"]


def test_near_duplicate_groups(project, library, encoder):
    embed_images(project, encoder=encoder)
    out = group_near_duplicates(project, threshold=0.999)
    assert out["groups"] == sorted(
        [sorted([library["a0"], library["a0v"]]), sorted([library["c0"], library["c0v"]])]
    )
    model = estore.get_model(project.db)
    assert estore.groups(project.db, model) == {g[0]: g for g in out["groups"]}
    # A looser threshold merges more; the stored groups follow the latest run.
    loose = group_near_duplicates(project, threshold=1e-6)
    assert loose["groups"] == [sorted(library.values())]
    assert estore.groups(project.db, model) == {min(library.values()): sorted(library.values())}


def test_relevance_flags_below_threshold_and_deletes_nothing(project, library, encoder):
    everything = score_relevance(project, encoder=encoder, threshold=-1.0)
    assert (everything.scored, everything.flagged) == (len(library), 0)
    model = estore.get_model(project.db)
    # Each score is the best cosine to one of the domain's own prompts.
    prompts = domain_prompts(get_domain(project.db, "animals"))
    text = encoder.encode_texts(prompts)
    ids, vecs = estore.load_vectors(project.db, model, domain="animals")
    best = (vecs @ text.T).max(axis=1)
    rows = {r["image_id"]: r for r in estore.relevance(project.db, model, "animals")}
    assert [rows[int(i)]["score"] for i in ids] == pytest.approx(best.tolist(), abs=1e-5)
    assert {r["best_prompt"] for r in rows.values()} <= set(prompts)
    assert {r["best_domain"] for r in rows.values()} <= {"animals", "cars"}

    all_scores = sorted(r["score"] for r in estore.relevance(project.db, model))
    cut = (all_scores[3] + all_scores[4]) / 2
    s = score_relevance(project, encoder=encoder, threshold=cut)
    assert s.flagged == 4 and s.threshold == pytest.approx(cut)
    flagged = off_domain_images(project)
    assert len(flagged) == 4 and all(r["score"] < cut for r in flagged)
    assert project.db.scalar("SELECT count(*) FROM images") == len(library)
    only_cars = score_relevance(project, encoder=encoder, threshold=1.0, domain="cars")
    assert only_cars.by_domain.keys() == {"cars"} and only_cars.flagged == 4


def test_errors_are_clear(project, library, encoder, tiny_clip, tmp_path):
    with pytest.raises(CollectError, match="clip embed"):
        search_text(project, "fox")
    embed_images(project, encoder=encoder)
    with pytest.raises(CollectError, match="no text"):
        search_text(project, "  ")
    with pytest.raises(CollectError, match="k must be"):
        search_text(project, "fox", k=0)
    with pytest.raises(CollectError, match="no image with id 999"):
        similar_images(project, 999)
    with pytest.raises(CollectError, match="threshold"):
        score_relevance(project, encoder=encoder, threshold=3)
    with pytest.raises(CollectError, match="unknown CLIP model"):
        resolve("no-such-model")
    with pytest.raises(CollectError, match="holds no model"):
        resolve(str(tmp_path))
    # No network in tests: a catalog model that is not cached says so at once, and how to get it.
    with pytest.raises(CollectError, match="cannot download CLIP model 'clip-vit-b32'"):
        resolve("clip-vit-b32")
    assert resolve(str(tiny_clip)).key == str(tiny_clip.resolve())


def test_a_folder_without_weights_is_a_clear_error(tiny_clip, tmp_path):
    import shutil

    from core.collect.encoder import load_encoder

    broken = tmp_path / "broken-clip"
    shutil.copytree(tiny_clip, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(CollectError, match="cannot load CLIP model"):
        load_encoder(str(broken))
