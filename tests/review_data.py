"""A small, deterministic review project: real image files, thumbnails and rows made with SQL.

Shared by tests/core (browse, review) and tests/desktop (the GUI over the same data).
"""

from __future__ import annotations

import hashlib

from PIL import Image, ImageDraw

DOMAINS = [("art", "Art"), ("science", "Science"), ("street", "Street view")]
COLORS = [(200, 80, 60), (60, 140, 200), (80, 170, 90), (220, 180, 50), (150, 90, 180)]


def _picture(index: int, size: tuple[int, int]) -> Image.Image:
    img = Image.new("RGB", size, COLORS[index % len(COLORS)])
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.ellipse((w // 5, h // 5, w * 3 // 5, h * 3 // 5), fill=(250, 250, 245))
    draw.rectangle((w // 2, h // 2, w - w // 8, h - h // 8), fill=(30, 30, 40))
    draw.text((8, 8), f"#{index + 1}", fill=(0, 0, 0))
    return img


def populate(project, n_images: int = 12, files: bool = True) -> list[int]:
    """Insert `n_images` images spread over DOMAINS (the last one without a domain), each with a
    caption (except every 4th), 1-5 instructions of the four types, some flagged by checks and
    some where the verify stage disagreed. Returns the image ids in import order."""
    db = project.db
    ids = []
    with db.tx() as cur:
        for pos, (name, title) in enumerate(DOMAINS):
            cur.execute(
                "INSERT INTO domains (name, title, position) VALUES (?, ?, ?)", [name, title, pos]
            )
        for k in range(n_images):
            sha = hashlib.sha256(f"image-{k}".encode()).hexdigest()
            domain = None if k == n_images - 1 else DOMAINS[k % len(DOMAINS)][0]
            size = (640, 480) if k % 2 == 0 else (480, 640)
            media = f"media/{sha[:2]}/{sha}.png"
            thumb = f"thumbs/{sha[:2]}/{sha}.webp"
            if files:
                img = _picture(k, size)
                (project.root / media).parent.mkdir(parents=True, exist_ok=True)
                img.save(project.root / media)
                (project.root / thumb).parent.mkdir(parents=True, exist_ok=True)
                img.thumbnail((256, 256))
                img.save(project.root / thumb, "WEBP")
            image_id = cur.execute(
                "INSERT INTO images (sha256, width, height, format, domain, storage, path, thumb) "
                "VALUES (?, ?, ?, 'PNG', ?, 'copy', ?, ?) RETURNING id",
                [sha, size[0], size[1], domain, media, thumb],
            ).fetchone()[0]
            ids.append(image_id)
            if k % 4 != 3:
                cur.execute(
                    "INSERT INTO captions (image_id, version, text, lang, model) "
                    "VALUES (?, 1, ?, 'en', 'test-vlm')",
                    [
                        image_id,
                        f"Picture number {k + 1} ({domain or 'no domain'}) with a white disc.",
                    ],
                )
            _instructions(cur, image_id, k)
    return ids


def _instructions(cur, image_id: int, k: int) -> None:
    rows = [
        ("judgement", f"Is there a white disc in picture {k + 1}?", None, "yes"),
        (
            "multiple_choice",
            "What colour is the square?",
            ["Red", "Black", "Green", "Blue"],
            "B",
        ),
        ("short_vqa", "What shape is white?", None, "A disc"),
        ("long_vqa", "Describe the picture.", None, "A coloured background with a disc."),
        ("judgement", "Is the square red?", None, "no"),
    ]
    for j, (itype, question, options, answer) in enumerate(rows[: 1 + k % 5]):
        flags = ["answer_leak"] if (k + j) % 4 == 1 else []
        if (k + j) % 6 == 2:
            flags.append("too_short")
        messages = [f"{f}: found by test rule" for f in flags]
        disagree = (k + j) % 5 == 3
        cur.execute(
            "INSERT INTO instructions (image_id, itype, lang, question, options, answer, status, "
            "check_flags, check_messages, verify_answer, verify_agree) "
            "VALUES (?, ?, 'en', ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                image_id,
                itype,
                question,
                options,
                answer,
                "needs_review" if flags else "ok",
                flags,
                messages,
                _other_answer(itype, answer) if disagree else None,
                False if disagree else (True if j % 2 == 0 else None),
            ],
        )


def _other_answer(itype: str, answer: str) -> str:
    """What a verifier that disagrees would have answered."""
    if itype == "judgement":
        return "no" if answer == "yes" else "yes"
    if itype == "multiple_choice":
        return "C" if answer != "C" else "A"
    return "Something else"
