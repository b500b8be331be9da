"""A project whose model replies hold every chat-template token of the issue, Chinese text,
and (tests/export/test_images.py) images of every odd kind."""

from __future__ import annotations

from pathlib import Path

from core.project import Project
from tests.export.helpers import add_image, add_qa, build_project

# Every token of core.export.safetext that the issue names, each in a question, an option
# or an answer; the Chinese rows keep CJK text around the tokens.
HOSTILE = [
    ("short_vqa", "en", "Which HTML tag is shown, <image> or <video>?", None, "The <image> tag."),
    ("long_vqa", "en", "What does the log end with?", None, "It prints done</s> then <s> again."),
    ("short_vqa", "en", "What is in the prompt box?", None, "<|im_start|>user hi<|im_end|>"),
    ("short_vqa", "en", "What marks the end of the text?", None, "<|endoftext|> and <|eot_id|>"),
    ("long_vqa", "en", "What does the transcript show?", None, "USER: hello ASSISTANT: hi [INST]"),
    ("multiple_choice", "en", "Which token appears?", ["<image>", "</s>", "USER:", "none"], "D"),
    ("long_vqa", "zh", "截图中的对话写了什么？", None, "对话里写着 USER: 你好 ASSISTANT: 您好</s>"),
    ("judgement", "zh", "图中是否出现了 <|im_end|> 标记？", None, "是"),
]
TOKENS_NAMED = ["<image>", "<video>", "</s>", "<s>", "<|im_start|>", "<|im_end|>",
                "<|endoftext|>", "<|eot_id|>", "[INST]", "USER:", "ASSISTANT:"]  # fmt: skip


def add_hostile(p: Project, seed: int = 500, domain: str = "documents") -> int:
    img = add_image(p, seed, domain)
    for itype, lang, q, opts, a in HOSTILE:
        add_qa(p, img, itype, lang, q, opts, a)
    return img


def hostile_project(root: Path) -> Project:
    p = build_project(root, n_images=4)
    add_hostile(p)
    return p


def odd_images(folder: Path) -> dict[str, Path]:
    """One file of every odd kind, each with a different picture (so none is a near duplicate)."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    ramp = (np.arange(40 * 30).reshape(30, 40) * 54).astype(np.uint16)  # up to 64746
    im16 = Image.fromarray(ramp)  # mode I;16
    out["gray16"] = folder / "gray16.png"
    im16.save(out["gray16"])
    cmyk = Image.new("CMYK", (36, 28), (0, 200, 255, 30))
    cmyk.paste((255, 0, 60, 0), (0, 0, 18, 14))
    out["cmyk"] = folder / "cmyk.jpg"
    cmyk.save(out["cmyk"], "JPEG", quality=95)
    pal = Image.new("P", (32, 32), 0)
    pal.putpalette([10, 200, 30, 250, 20, 20] + [0, 0, 0] * 254)
    pal.paste(1, (8, 8, 24, 24))
    pal.info["transparency"] = 0
    out["palette_alpha"] = folder / "palette_alpha.png"
    pal.save(out["palette_alpha"], transparency=0)
    rgba = Image.new("RGBA", (30, 20), (20, 40, 220, 0))
    rgba.paste((240, 200, 10, 128), (5, 5, 25, 15))
    out["rgba"] = folder / "rgba.png"
    rgba.save(out["rgba"])
    wide = Image.new("RGB", (48, 24), (200, 30, 30))
    wide.paste((30, 30, 200), (0, 0, 12, 24))  # a blue band on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90° clockwise
    out["exif_rotated"] = folder / "exif_rotated.jpg"
    wide.save(out["exif_rotated"], "JPEG", quality=95, exif=exif)
    frames = [Image.new("RGB", (26, 26), c) for c in ((250, 120, 0), (0, 120, 250))]
    frames[0].paste((0, 0, 0), (0, 0, 13, 13))
    out["animated"] = folder / "animated.gif"
    frames[0].save(out["animated"], save_all=True, append_images=frames[1:], duration=100, loop=0)
    plain = Image.new("RGB", (34, 22), (90, 160, 70))
    plain.paste((255, 255, 255), (3, 3, 9, 9))
    out["plain"] = folder / "plain.jpg"
    plain.save(out["plain"], "JPEG", quality=90)
    return out


def odd_project(root: Path) -> tuple[Project, dict[str, int]]:
    """The hostile project plus one image of every odd kind, imported by the library, each
    with a hostile and a Chinese question."""
    from core.library.importer import import_paths

    p = hostile_project(root)
    files = odd_images(root.parent / "odd")
    import_paths(p, list(files.values()), domain="documents", workers=0, near_threshold=0)
    ids = {}
    for name, path in files.items():
        from core.export.manifest import file_sha256

        ids[name] = p.db.scalar("SELECT id FROM images WHERE sha256 = ?", [file_sha256(path)])
        add_qa(
            p,
            ids[name],
            "short_vqa",
            "en",
            f"What is odd about {name}? <image>",
            None,
            "It ends</s>",
        )
        add_qa(
            p, ids[name], "long_vqa", "zh", f"请描述图片 {name}。", None, "图中有色块。<|im_end|>"
        )
    return p, ids
