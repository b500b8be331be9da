import json

import pytest

from core.export.errors import ExportError
from core.export.importer import import_data
from core.export.readers import detect_format, iter_conversations
from core.export.writer import ExportOptions, export_project
from tests.export.helpers import png_bytes


def _summary(conv):
    return (conv.id, conv.images[0].read_bytes(), conv.messages, conv.meta)


def test_all_formats_read_back_the_same_conversations(proj, tmp_path):
    read = {}
    for fmt in ("llava", "sharegpt", "hf", "trl"):
        out = tmp_path / fmt
        export_project(proj, out, ExportOptions(fmt, val_fraction=0.25, seed=2))
        assert detect_format(out) == fmt
        convs = list(iter_conversations(out, cache_dir=tmp_path / "cache"))
        for c in convs:
            assert all(p.is_absolute() and p.is_file() for p in c.images)
            assert [m["role"] for m in c.messages][:2] == ["user", "assistant"]
            assert c.meta["split"] in ("train", "val") and c.meta["domain"] and c.meta["itype"]
        read[fmt] = [_summary(c) for c in convs]
    assert read["llava"] == read["sharegpt"] == read["hf"] == read["trl"]
    splits = [s[3]["split"] for s in read["llava"]]
    assert splits == sorted(splits)  # train first, then val
    first_user = read["llava"][0][2][0]["content"]
    assert first_user.startswith("<image>\n")


def test_detect_format_of_single_files(proj, tmp_path):
    for fmt in ("llava", "sharegpt", "trl", "hf"):
        export_project(proj, tmp_path / fmt, ExportOptions(fmt))
    assert detect_format(tmp_path / "llava" / "train.json") == "llava"
    assert detect_format(tmp_path / "sharegpt" / "train.json") == "sharegpt"
    assert detect_format(tmp_path / "trl" / "train.jsonl") == "trl"
    assert detect_format(tmp_path / "hf" / "data" / "train-00000-of-00001.parquet") == "hf"
    odd = tmp_path / "odd.json"
    odd.write_text('[{"question": "?"}]')
    with pytest.raises(ExportError, match="cannot tell the format"):
        detect_format(odd)


def _third_party(tmp_path):
    """A LLaVA-style file written by someone else: images in their own folder, no meta."""
    imgs = tmp_path / "coco"
    imgs.mkdir()
    for k in range(3):
        (imgs / f"{k}.png").write_bytes(png_bytes(500 + k))
    recs = [
        {
            "id": "a",
            "image": "0.png",
            "conversations": [
                {"from": "human", "value": "Is it a cat?\n<image>"},
                {"from": "gpt", "value": "Yes."},
                {"from": "human", "value": "Which colour?\nA. red\nB. blue\nC. green\nD. black"},
                {"from": "gpt", "value": "B"},
            ],
        },
        {
            "id": "b",
            "image": "1.png",
            "conversations": [
                {
                    "from": "human",
                    "value": "<image>\n这是什么动物？请详细描述它的外观和所处的环境。",
                },
                {
                    "from": "gpt",
                    "value": "这是一只在草地上奔跑的小狗，毛色是棕色的，背景里有树木和蓝天，看起来非常开心。",
                },
            ],
        },
        {
            "id": "c",
            "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}],
        },
        {
            "id": "d",
            "image": "2.png",
            "conversations": [
                {"from": "human", "value": "<image>\nWhat is shown?"},
                {"from": "gpt", "value": "A small square."},
            ],
        },
    ]
    data = tmp_path / "llava_mix.json"
    data.write_text(json.dumps(recs, ensure_ascii=False), encoding="utf-8")
    return data, imgs


def test_import_third_party_llava_guesses_types(project, tmp_path):
    data, imgs = _third_party(tmp_path)
    assert detect_format(data) == "llava"
    s = import_data(project, data, domain="animals", image_folder=imgs, workers=0)
    assert s.records == 4 and s.skipped == {"no_image": 1} and s.instructions == 4 and s.images == 3
    rows = project.db.fetchall(
        "SELECT n.itype, n.lang, n.question, n.options, n.answer, n.conversation_id IS NOT NULL, "
        "n.round, i.domain FROM instructions n JOIN images i ON i.id = n.image_id ORDER BY n.id"
    )
    assert rows == [
        ("judgement", "en", "Is it a cat?", None, "yes", True, 1, "animals"),
        (
            "multiple_choice",
            "en",
            "Which colour?",
            ["red", "blue", "green", "black"],
            "B",
            True,
            2,
            "animals",
        ),
        (
            "long_vqa",
            "zh",
            "这是什么动物？请详细描述它的外观和所处的环境。",
            None,
            "这是一只在草地上奔跑的小狗，毛色是棕色的，背景里有树木和蓝天，看起来非常开心。",
            False,
            None,
            "animals",
        ),
        ("short_vqa", "en", "What is shown?", None, "A small square.", False, None, "animals"),
    ]
    assert project.db.scalar("SELECT count(*) FROM domains WHERE name = 'animals'") == 1


def test_import_refuses_invalid_records_and_writes_nothing(project, tmp_path):
    data, imgs = _third_party(tmp_path)
    recs = json.loads(data.read_text())
    recs[3]["conversations"].pop()  # a question without an answer
    data.write_text(json.dumps(recs))
    with pytest.raises(ExportError, match="1 invalid record"):
        import_data(project, data, image_folder=imgs, workers=0)
    assert project.db.scalar("SELECT count(*) FROM images") == 0
    assert project.db.scalar("SELECT count(*) FROM instructions") == 0
    s = import_data(project, data, image_folder=imgs, skip_invalid=True, workers=0)
    assert s.skipped == {"invalid": 1, "no_image": 1} and s.instructions == 3


def test_llama_factory_conversations_tags_via_dataset_info(project, tmp_path):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "x.png").write_bytes(png_bytes(900))
    rec = {
        "conversations": [
            {"from": "human", "value": "<image>Describe it."},
            {"from": "gpt", "value": "A square on a plain ground."},
        ],
        "images": ["pics/x.png"],
        "sys": "Be brief.",
    }
    (tmp_path / "mine.json").write_text(json.dumps([rec]))
    (tmp_path / "dataset_info.json").write_text(
        json.dumps(
            {
                "mine": {
                    "file_name": "mine.json",
                    "formatting": "sharegpt",
                    "columns": {"messages": "conversations", "images": "images", "system": "sys"},
                }
            }
        )
    )
    assert detect_format(tmp_path / "mine.json") == "sharegpt"
    [conv] = iter_conversations(tmp_path / "mine.json")
    assert conv.messages[0] == {"role": "user", "content": "<image>Describe it."}
    assert conv.meta["system"] == "Be brief." and conv.images == [
        (tmp_path / "pics" / "x.png").resolve()
    ]
    s = import_data(project, tmp_path, workers=0)
    assert s.instructions == 1
    assert project.db.fetchone("SELECT question, itype FROM instructions") == (
        "Describe it.",
        "long_vqa",
    )
