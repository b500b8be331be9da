"""What the review pane shows about an image beyond its own rows: the file it came from and
where that was, and every verifier's answer on its items (read in one query per image)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import urlsplit

from core.store.db import Database
from core.store.pipeline import MODEL_FLAGS


@dataclass(frozen=True)
class ImageOrigin:
    file_name: str  # the name the file had where it was imported or downloaded from
    location: str  # the folder, the URL, or the page it was found on
    source: str  # how it came: "file", or the collect origin/provider (openverse, url_list...)
    other_paths: int  # more places the same bytes were seen (exact duplicates)


def _name_of(path_or_url: str) -> str:
    if "://" in path_or_url:
        return PurePath(urlsplit(path_or_url).path).name or path_or_url
    return PurePath(path_or_url).name


def image_origin(db: Database, image_id: int) -> ImageOrigin | None:
    cur = db.cursor()
    image = cur.execute("SELECT path, source_url FROM images WHERE id = ?", [image_id]).fetchone()
    if image is None:
        return None
    collected = cur.execute(
        "SELECT origin, provider, url, landing_url FROM collected WHERE image_id = ? "
        "ORDER BY collected_at LIMIT 1",
        [image_id],
    ).fetchone()
    paths = [
        r[0]
        for r in cur.execute(
            "SELECT path FROM image_sources WHERE image_id = ? ORDER BY imported_at, path",
            [image_id],
        ).fetchall()
    ]
    if collected is not None:
        origin, provider, url, landing = collected
        first = url or (paths[0] if paths else image[0])
        return ImageOrigin(
            _name_of(first), landing or url or "", provider or origin, max(0, len(paths) - 1)
        )
    if paths:
        first = paths[0]
        where = image[1] or (str(PurePath(first).parent) if "://" not in first else first)
        return ImageOrigin(_name_of(first), where, "file", len(paths) - 1)
    return ImageOrigin(_name_of(image[0]), image[1] or "", "file", 0)


def verifier_answers(db: Database, ids: Sequence[int]) -> dict[int, dict]:
    """Per item (those with any verifier answer): the image verifier's and the caption
    verifier's answer and agreement, blind answers and risk, as core.store.quality's
    `quality_detail` names them."""
    if not ids:
        return {}
    rows = db.fetchall(
        "SELECT id, verify_answer, verify_agree, caption_verify_answer, caption_verify_agree, "
        "caption_untellable, blind_answers, blind_score, risk FROM instructions "
        "WHERE list_contains(?, id) AND (verify_answer IS NOT NULL "
        "OR caption_verify_answer IS NOT NULL OR blind_answers IS NOT NULL OR risk IS NOT NULL)",
        [list(ids)],
    )
    keys = ("image_answer", "image_agree", "caption_answer", "caption_agree",
            "caption_untellable", "blind_answers", "blind_score", "risk")  # fmt: skip
    out = {}
    for row in rows:
        detail = dict(zip(keys, row[1:], strict=True))
        if detail["blind_answers"] is not None:
            detail["blind_answers"] = list(detail["blind_answers"])
        out[row[0]] = detail
    return out


def is_model_flag(flag: str) -> bool:
    """A flag a verifier set: the pane shows the verifier's answer instead of the flag."""
    return flag in MODEL_FLAGS
