"""Curation of collected images, for the desktop's Curate view: near-duplicate groups
(perceptual hash from the importer, or CLIP embeddings) to settle in one decision,
off-domain candidates by CLIP relevance, and "more like this" over the project.

Decisions are review edits (core.store.review), so the GUI can undo them; keeping a group
whole is remembered so the group is not offered again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.collect.embed import stored_model
from core.collect.errors import CollectError
from core.project import Project
from core.store import curate as store
from core.store import embeddings as estore
from core.store import review
from core.store.review_change import Change

DUP_KINDS = ("phash", "embedding")
DUP_KIND_TITLES = {"phash": "perceptual hash", "embedding": "CLIP embedding"}


@dataclass
class DupGroup:
    kind: str
    members: list[dict]  # image cards (core.store.curate.CARD_KEYS + "file"), best to keep first
    similarity: float | None = None  # embedding groups: the closest pair's cosine

    @property
    def ids(self) -> list[int]:
        return [m["id"] for m in self.members]

    @property
    def key(self) -> str:
        return ",".join(str(i) for i in sorted(self.ids))

    def to_json(self) -> dict:
        return {"kind": self.kind, "ids": self.ids, "similarity": self.similarity}


def cards(project: Project, ids) -> dict[int, dict]:
    """image id -> card, with `file` the absolute path of the image."""
    out = store.image_cards(project.db, list(ids))
    for card in out.values():
        card["file"] = str(project.resolve_media(card["storage"], card["path"]))
    return out


def _keep_order(card: dict) -> tuple:
    # The copy to keep by default: most pixels, then largest file, then the oldest.
    return (-(card["width"] or 0) * (card["height"] or 0), -(card["bytes"] or 0), card["id"])


def duplicate_groups(
    project: Project, kind: str = "phash", domain: str | None = None, model: str | None = None
) -> list[DupGroup]:
    """Groups with at least two members not rejected yet, minus the groups kept whole.
    `embedding` groups are the last ones `group_near_duplicates` stored for the model."""
    if kind not in DUP_KINDS:
        raise CollectError(f"duplicate kind must be one of {', '.join(DUP_KINDS)}")
    db = project.db
    sims: dict[int, float] = {}
    if kind == "phash":
        raw = store.phash_groups(db, domain)
    else:
        row = stored_model(project, model)
        raw = estore.groups(db, row)
        sims = store.clip_similarities(db, row.id)
    info = cards(project, [i for ids in raw.values() for i in ids])
    kept = store.kept_groups(db, kind)
    out = []
    for ids in raw.values():
        live = [info[i] for i in ids if i in info and info[i]["status"] != "rejected"]
        if domain is not None:
            live = [c for c in live if c["domain"] == domain]
        if len(live) < 2:
            continue
        group = DupGroup(kind, sorted(live, key=_keep_order))
        if group.key in kept:
            continue
        if sims:
            group.similarity = round(max(float(sims.get(i, 0.0)) for i in group.ids), 4)
        out.append(group)
    out.sort(key=lambda g: min(g.ids))
    return out


def keep_one(db, group: DupGroup, keep_id: int, author: str | None = None) -> list[Change]:
    """Keep `keep_id` and reject the rest of the group (one edit, undoable as one)."""
    if keep_id not in group.ids:
        raise CollectError(f"image {keep_id} is not in this group")
    return reject_images(db, [i for i in group.ids if i != keep_id], author)


def keep_all(db, group: DupGroup) -> None:
    """These are not duplicates: keep every member and stop offering the group."""
    store.keep_group(db, group.kind, group.key)


def reject_images(db, ids, author: str | None = None) -> list[Change]:
    """Reject images (and their undecided instructions); returns the changes for undo."""
    changes: list[Change] = []
    with db.tx():
        for image_id in ids:
            changes += review.set_image_status(db, int(image_id), "rejected", author)
    return changes


@dataclass
class OffDomain:
    card: dict
    score: float
    threshold: float
    best_domain: str | None
    best_prompt: str | None = None

    def to_json(self) -> dict:
        return {"image_id": self.card["id"], "score": self.score, "threshold": self.threshold,
                "best_domain": self.best_domain, "best_prompt": self.best_prompt}  # fmt: skip


def off_domain_candidates(
    project: Project, domain: str | None = None, model: str | None = None
) -> list[OffDomain]:
    """Images flagged off their domain by the last relevance scoring, least relevant first;
    the rejected ones are left out."""
    from core.collect.relevance import off_domain_images

    rows = off_domain_images(project, model, domain)
    info = cards(project, [r["image_id"] for r in rows])
    out = []
    for r in rows:
        card = info.get(r["image_id"])
        if card is None or card["status"] == "rejected":
            continue
        out.append(OffDomain(card, round(float(r["score"]), 4), float(r["threshold"]),
                             r["best_domain"], r["best_prompt"]))  # fmt: skip
    return out


@dataclass
class Similar:
    card: dict
    score: float


@dataclass
class SimilarResult:
    query: dict  # {"image": id} or {"text": ...} or {"file": path}
    model: str
    hits: list[Similar] = field(default_factory=list)


def more_like_this(
    project: Project,
    image_id: int | None = None,
    *,
    text: str | None = None,
    file: str | None = None,
    k: int = 50,
    min_score: float | None = None,
    domain: str | None = None,
    model: str | None = None,
    encoder=None,
    index=None,
) -> SimilarResult:
    """Project images like image `image_id`, like `text`, or like an image `file`: at most
    `k`, best first, none below `min_score`. With `index` (a vector_index.ProjectIndex of the
    same model) the search runs over vectors held in memory instead of inside DuckDB."""
    from core.collect.similarity import _hits, search_image_file, search_text, similar_images

    if sum(x is not None for x in (image_id, text, file)) != 1:
        raise CollectError("search by exactly one of an image, a text or a file")
    row = stored_model(project, model)
    if image_id is not None:
        query = {"image": int(image_id)}
    else:
        query = {"text": text} if text is not None else {"file": str(file)}
    if index is not None and index.row.id == row.id:
        vec, exclude = _query_vector(project, row, image_id, text, file, encoder)
        hits = _hits(project, index.nearest(vec, _check_k(k), domain, exclude))
    else:
        common = dict(k=k, model=row.name, domain=domain, encoder=encoder)
        if image_id is not None:
            hits = similar_images(project, int(image_id), **common)
        elif text is not None:
            hits = search_text(project, text, **common)
        else:
            hits = search_image_file(project, str(file), **common)
    if min_score is not None:
        hits = [h for h in hits if h.score >= min_score]
    info = cards(project, [h.image_id for h in hits])
    result = SimilarResult(query, row.name)
    result.hits = [Similar(info[h.image_id], h.score) for h in hits if h.image_id in info]
    return result


def _check_k(k: int) -> int:
    if not 1 <= int(k) <= 10_000:
        raise CollectError("k must be between 1 and 10000")
    return int(k)


def _query_vector(project: Project, row, image_id, text, file, encoder):
    """(unit query vector, ids to leave out) for a search over an in-memory index."""
    from core.collect.embed import embed_images, encoder_for
    from core.collect.imageio import ImageProblem, open_rgb

    db = project.db
    if image_id is not None:
        if not store.image_cards(db, [int(image_id)]):
            raise CollectError(f"no image with id {image_id}")
        ids, vecs = estore.load_vectors(db, row, ids=[int(image_id)])
        if not len(ids):
            got = embed_images(project, row.name, ids=[int(image_id)],
                               encoder=encoder_for(row, encoder))  # fmt: skip
            if got.failed:
                raise CollectError(f"image {image_id} cannot be read: {got.failed[0]['reason']}")
            ids, vecs = estore.load_vectors(db, row, ids=[int(image_id)])
        return vecs[0], [int(image_id)]
    enc = encoder_for(row, encoder)
    if text is not None:
        if not text.strip():
            raise CollectError("no text to search for")
        return enc.encode_texts([text.strip()])[0], []
    try:
        img = open_rgb(file, int(project.settings()["max_image_pixels"]))
    except ImageProblem as exc:
        raise CollectError(f"{file}: {exc.reason} {exc.detail}".strip()) from None
    return enc.encode_images([img])[0], []


def move_to_domain(db, ids, domain: str, author: str | None = None) -> list[Change]:
    """Put project images into `domain` (created when new); undoable."""
    from core.domains import ensure_domain

    ensure_domain(db, domain)
    return review.set_image_domain(db, [int(i) for i in ids], domain, author)
