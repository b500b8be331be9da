"""Build real projects for the export tests: real DuckDB files, real PNG files in media/."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image

from core.project import Project

QA = [
    # (itype, lang, question, options, answer)
    ("judgement", "en", "Is there a red square in the picture?", None, "yes"),
    (
        "multiple_choice",
        "en",
        "What colour dominates the image?",
        ["red", "green", "blue", "grey"],
        "A",
    ),
    ("short_vqa", "en", "What shape is drawn?", None, "A square."),
    ("long_vqa", "zh", "请描述这张图片。", None, "图片中央有一个彩色的方块，背景是纯色的。"),
]


def png_bytes(seed: int, size: int = 24) -> bytes:
    im = Image.new("RGB", (size, size), ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256))
    im.putpixel((seed % size, (seed // size) % size), (255, 255, 255))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def add_image(
    p: Project,
    seed: int,
    domain: str | None,
    license: str | None = "CC-BY-4.0",
    status: str = "new",
) -> int:
    data = png_bytes(seed)
    sha = hashlib.sha256(data).hexdigest()
    rel = f"media/{sha[:2]}/{sha}.png"
    (p.root / rel).parent.mkdir(parents=True, exist_ok=True)
    (p.root / rel).write_bytes(data)
    return p.db.scalar(
        "INSERT INTO images (sha256, width, height, format, bytes, domain, storage, path, status, license)"
        " VALUES (?, 24, 24, 'PNG', ?, ?, 'copy', ?, ?, ?) RETURNING id",
        [sha, len(data), domain, rel, status, license],
    )


def add_qa(
    p: Project,
    image_id: int,
    itype,
    lang,
    question,
    options,
    answer,
    status="accepted",
    conversation_id=None,
    round_=None,
) -> int:
    return p.db.scalar(
        "INSERT INTO instructions (image_id, itype, lang, question, options, answer, status, conversation_id, round)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [image_id, itype, lang, question, options, answer, status, conversation_id, round_],
    )


def build_project(
    root: Path, n_images: int = 12, domains=("nature", "charts", "documents")
) -> Project:
    """n_images images spread over `domains`, each with the four QA kinds (accepted), one
    rejected and one new item, a caption, and one image holding a two-round conversation."""
    p = Project.create(root, name="fixture")
    for name in domains:
        p.db.execute("INSERT INTO domains (name, title) VALUES (?, ?)", [name, name.title()])
    for k in range(n_images):
        dom = domains[k % len(domains)]
        img = add_image(p, k, dom, license="CC-BY-4.0" if k % 4 else "CC0")
        p.db.execute(
            "INSERT INTO captions (image_id, version, text, lang) VALUES (?, 1, ?, 'en')",
            [img, f"A small picture number {k}."],
        )
        for itype, lang, q, opts, a in QA:
            add_qa(p, img, itype, lang, f"{q} ({k})", opts, a)
        add_qa(p, img, "short_vqa", "en", f"Rejected question {k}?", None, "x", status="rejected")
        add_qa(p, img, "short_vqa", "en", f"Unreviewed question {k}?", None, "y", status="new")
    first = add_qa(
        p,
        1,
        "long_vqa",
        "en",
        "What is in the picture?",
        None,
        "A square.",
        conversation_id=None,
        round_=1,
    )
    p.db.execute("UPDATE instructions SET conversation_id = ? WHERE id = ?", [first, first])
    add_qa(
        p,
        1,
        "long_vqa",
        "en",
        "And what colour is it?",
        None,
        "It is coloured.",
        conversation_id=first,
        round_=2,
    )
    return p


def all_files(folder: Path) -> dict[str, bytes]:
    return {
        str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()
    }
