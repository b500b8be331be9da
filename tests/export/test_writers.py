import json
import os
import re

import pytest

from core.export.errors import ExportError
from core.export.jsonstream import iter_json_records
from core.export.manifest import SUMS, verify
from core.export.writer import ExportOptions, export_project
from tests.export.helpers import add_image, add_qa, all_files

FORMATS = ["llava", "sharegpt", "hf", "trl", "internvl", "webdataset"]


def _records(path):
    return list(iter_json_records(path))


def test_llava_shape(proj, tmp_path):
    out = tmp_path / "llava"
    export_project(proj, out, ExportOptions("llava"))
    recs = _records(out / "train.json")
    # 12 images x 4 accepted QAs, plus the two-round conversation as one record.
    assert len(recs) == 49
    for r in recs:
        assert set(r) == {"id", "image", "conversations", "meta"}
        assert (out / "images" / r["image"]).is_file()
        turns = r["conversations"]
        assert [t["from"] for t in turns] == ["human", "gpt"] * (len(turns) // 2)
        assert turns[0]["value"].startswith("<image>\n")
        assert sum(t["value"].count("<image>") for t in turns) == 1
    conv = [r for r in recs if len(r["conversations"]) == 4]
    assert len(conv) == 1 and conv[0]["conversations"][2]["value"].startswith("And what colour")
    mc = next(r for r in recs if r["meta"]["turns"][0]["itype"] == "multiple_choice")
    q = mc["conversations"][0]["value"]
    assert "\nA. red\nB. green\nC. blue\nD. grey" in q
    assert mc["conversations"][1]["value"] == "A"
    suffix = mc["meta"]["turns"][0]["suffix"]
    assert suffix and q.endswith("\n" + suffix)  # the answer-format picker of core.domains


def test_suffix_function_is_deterministic_and_optional(proj, tmp_path):
    calls = []

    def fn(itype, lang, key):
        calls.append(key)
        return f"[{itype}/{lang}/{key[:6]}]"

    export_project(proj, tmp_path / "a", ExportOptions("llava", suffix=fn))
    export_project(proj, tmp_path / "b", ExportOptions("llava", suffix=fn))
    export_project(proj, tmp_path / "none", ExportOptions("llava", suffix=None))
    assert (tmp_path / "a" / "train.json").read_bytes() == (
        tmp_path / "b" / "train.json"
    ).read_bytes()
    for r in _records(tmp_path / "a" / "train.json"):
        for k, t in enumerate(r["meta"]["turns"]):
            assert re.fullmatch(rf"\[{t['itype']}/{t['lang']}/[0-9a-f]{{6}}\]", t["suffix"])
            assert r["conversations"][2 * k]["value"].endswith("\n" + t["suffix"])
    assert len(calls) == 2 * 50
    plain = _records(tmp_path / "none" / "train.json")
    assert all(t["suffix"] == "" for r in plain for t in r["meta"]["turns"])
    assert not plain[0]["conversations"][0]["value"].endswith("]")


def test_sharegpt_shape_and_dataset_info(proj, tmp_path):
    out = tmp_path / "sg"
    export_project(proj, out, ExportOptions("sharegpt", val_fraction=0.25, seed=3))
    info = json.loads((out / "dataset_info.json").read_text())
    assert set(info) == {"mmstudio_train", "mmstudio_val"}
    entry = info["mmstudio_train"]
    assert entry["file_name"] == "train.json" and entry["formatting"] == "sharegpt"
    assert entry["columns"] == {"messages": "messages", "images": "images"}
    assert entry["tags"]["user_tag"] == "user"
    for split in ("train", "val"):
        for r in _records(out / f"{split}.json"):
            tokens = sum(m["content"].count("<image>") for m in r["messages"])
            assert tokens == len(r["images"]) == 1
            assert [m["role"] for m in r["messages"]][:2] == ["user", "assistant"]
            assert all((out / p).is_file() for p in r["images"])


def test_trl_typed_parts(proj, tmp_path):
    out = tmp_path / "trl"
    export_project(proj, out, ExportOptions("trl", multi_turn=True))
    recs = _records(out / "train.jsonl")
    assert len(recs) == 12  # one record per image
    for r in recs:
        first = r["messages"][0]
        assert first["role"] == "user" and first["content"][0] == {"type": "image"}
        assert first["content"][1]["type"] == "text"
        for m in r["messages"][1:]:
            assert all(p["type"] == "text" for p in m["content"])
        assert len(r["images"]) == 1 and (out / r["images"][0]).is_file()
    assert max(len(r["messages"]) for r in recs) == 12  # image 1: 4 QAs + the 2-round conversation


def test_hf_parquet_loads_with_datasets(proj, tmp_path):
    import datasets

    out = tmp_path / "hf"
    export_project(proj, out, ExportOptions("hf", val_fraction=0.25, seed=0))
    assert not (out / "images").exists()  # images travel inside the parquet files
    ds = datasets.load_dataset(
        "parquet",
        data_files={
            "train": str(out / "data" / "train-*.parquet"),
            "validation": str(out / "data" / "validation-*.parquet"),
        },
        cache_dir=str(tmp_path / "hf-cache"),
    )
    manifest = json.loads((out / "manifest.json").read_text())
    counts = manifest["counts"]["splits"]
    assert ds["train"].num_rows == counts["train"]["records"]
    assert ds["validation"].num_rows == counts["val"]["records"]
    row = ds["train"][0]
    image = row["images"][0]
    assert image.size == (24, 24)  # decoded by the datasets Image feature
    assert row["messages"][0]["content"].startswith("<image>\n")
    card = (out / "README.md").read_text()
    assert "| charts | 4 | 4 | 4 | 4 | 4 | 16 |" in card
    assert "| CC-BY-4.0 | 9 |" in card and "| CC0 | 3 |" in card
    assert "license: other" in card and "path: data/validation-*.parquet" in card
    # the Hub asks for license_name and license_link with "other"
    assert "license_name: mixed-image-licenses\nlicense_link: LICENSE.md\n" in card
    assert "| CC0 | 3 |" in (out / "LICENSE.md").read_text()


def test_filters(proj, tmp_path):
    def count(**kw):
        out = tmp_path / f"f{len(list(tmp_path.iterdir()))}"
        return export_project(proj, out, ExportOptions("llava", **kw)).manifest["counts"]

    assert count()["instructions"] == 50  # accepted only: rejected and new stay home
    assert count(statuses=["accepted", "new"])["instructions"] == 62
    c = count(domains=["charts"])
    assert list(c["by_domain"]) == ["charts"] and c["instructions"] == 16
    assert count(itypes=["multiple_choice"])["instructions"] == 12
    assert count(langs=["zh"])["instructions"] == 12
    with pytest.raises(ExportError, match="nothing to export"):
        count(domains=["nowhere"])
    with pytest.raises(ExportError, match="unknown type"):
        count(itypes=["essay"])


def test_rejected_images_are_left_out(proj, tmp_path):
    proj.db.execute("UPDATE images SET status = 'rejected' WHERE id = 2")
    c = export_project(proj, tmp_path / "o", ExportOptions("llava")).manifest["counts"]
    assert c["images"] == 11 and c["instructions"] == 46


def test_split_is_stratified_by_domain_and_seeded(proj, tmp_path):
    # 30 more images so each domain has 14: round(14 * 0.3) = 4 val images per domain.
    for k in range(100, 130):
        img = add_image(proj, k, ("nature", "charts", "documents")[k % 3])
        add_qa(proj, img, "short_vqa", "en", f"What is {k}?", None, "A square.")

    def val_images(seed):
        out = tmp_path / f"s{seed}-{len(list(tmp_path.iterdir()))}"
        export_project(proj, out, ExportOptions("sharegpt", val_fraction=0.3, seed=seed))
        recs = _records(out / "val.json")
        by_dom = {}
        for r in recs:
            by_dom.setdefault(r["meta"]["domain"], set()).add(r["images"][0])
        train = {r["images"][0] for r in _records(out / "train.json")}
        assert not train & {i for s in by_dom.values() for i in s}  # an image is in one split
        return by_dom

    a, b, c = val_images(0), val_images(0), val_images(1)
    assert a == b
    assert {d: len(v) for d, v in a.items()} == {"nature": 4, "charts": 4, "documents": 4}
    assert a != c


@pytest.mark.parametrize("mode", ["copy", "hardlink", "symlink"])
def test_image_modes_and_no_path_leaks(proj, tmp_path, mode):
    out = tmp_path / "exp"
    export_project(proj, out, ExportOptions("sharegpt", images=mode, val_fraction=0.2))
    img = next((out / "images").rglob("*.png"))
    src = proj.root / "media" / img.parent.name / img.name
    assert img.read_bytes() == src.read_bytes()
    if mode == "symlink":
        assert img.is_symlink() and not os.path.isabs(os.readlink(img))
    if mode == "hardlink":
        assert img.stat().st_ino == src.stat().st_ino
    assert verify(out) == []  # SHA256SUMS matches every file
    needles = [str(proj.root).encode(), str(tmp_path).encode(), os.path.expanduser("~").encode()]
    for f in out.rglob("*"):
        if f.is_file() and not f.is_symlink():
            data = f.read_bytes()
            assert not any(n in data for n in needles), f


@pytest.mark.parametrize("fmt", FORMATS)
def test_manifest(proj, tmp_path, fmt):
    from core import __version__

    out = tmp_path / fmt
    export_project(proj, out, ExportOptions(fmt, domains=["nature", "charts"], val_fraction=0.25))
    m = json.loads((out / "manifest.json").read_text())
    assert m["tool_version"] == __version__ and m["format"] == fmt
    assert m["schema_version"] == proj.db.version()
    assert m["filters"]["domains"] == ["nature", "charts"] and m["filters"]["status"] == [
        "accepted"
    ]
    assert m["counts"]["instructions"] == 34
    listed = [line.split("  ", 1)[1] for line in (out / SUMS).read_text().splitlines()]
    on_disk = sorted(k for k in all_files(out) if k not in ("manifest.json", SUMS))
    assert sorted(listed) == on_disk
    for entry in m["data_files"].values():
        for rel in entry if isinstance(entry, list) else [entry]:  # webdataset: shards
            assert m["files"][rel]["bytes"] == (out / rel).stat().st_size
    assert verify(out) == []
    for f in out.rglob("*"):
        if f.is_file():
            assert str(proj.root).encode() not in f.read_bytes()


def test_refuses_non_empty_out_and_cleans_up_on_failure(proj, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_project(proj, out, ExportOptions("llava"))
    assert (out / "keep.txt").read_text() == "mine"
    media = next((proj.root / "media").rglob("*.png"))
    media.unlink()
    with pytest.raises(ExportError, match="1 image file"):
        export_project(proj, tmp_path / "fresh", ExportOptions("llava"))
    with pytest.raises(ExportError, match="1 image file"):
        export_project(proj, tmp_path / "fresh", ExportOptions("hf"))
    assert not (tmp_path / "fresh").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("fmt", ["llava", "trl", "webdataset"])
def test_parts_join_into_the_same_file(proj, tmp_path, monkeypatch, fmt):
    from core.store import exports as store

    export_project(proj, tmp_path / "one", ExportOptions(fmt))
    monkeypatch.setattr(store, "PART_ROWS", 3)  # many parts (each holds whole images)
    export_project(proj, tmp_path / "many", ExportOptions(fmt))
    name = {"llava": "train.json", "webdataset": "train-000000.tar"}.get(fmt, "train.jsonl")
    one, many = (tmp_path / d / name for d in ("one", "many"))
    assert one.read_bytes() == many.read_bytes()
    if fmt == "llava":
        assert len(json.loads(many.read_text())) == 49


def test_a_failing_suffix_function_leaves_nothing_behind(proj, tmp_path):
    def broken(itype, lang, key):
        raise KeyError(itype)

    with pytest.raises(ExportError, match="export failed"):
        export_project(proj, tmp_path / "x", ExportOptions("llava", suffix=broken))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]  # no export, no staging
    # the cursor is usable again: the next export registers the function afresh
    export_project(proj, tmp_path / "y", ExportOptions("llava", suffix=lambda t, lg, k: "Answer."))
    assert (tmp_path / "y" / "train.json").is_file()


def test_hf_parts_and_chunks_give_the_same_rows(proj, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from core.export.formats import hf
    from core.store import exports as store

    export_project(proj, tmp_path / "one", ExportOptions("hf"))
    monkeypatch.setattr(store, "PART_ROWS", 5)
    monkeypatch.setattr(hf, "CHUNK_IMAGES", 2)
    export_project(proj, tmp_path / "many", ExportOptions("hf"))
    name = "data/train-00000-of-00001.parquet"
    one, many = (pq.read_table(tmp_path / d / name) for d in ("one", "many"))
    assert many.num_rows == 49 and one.to_pylist() == many.to_pylist()


class _OtherPicker:
    """Looks like core.domains' AnswerFormats but picks differently: SQL must not be trusted."""

    def combinations(self):
        return [
            (t, lang)
            for t in ("judgement", "multiple_choice", "short_vqa", "long_vqa")
            for lang in ("en", "zh")
        ]

    def variants(self, itype, lang):
        return [f"{itype}-{lang}-a", f"{itype}-{lang}-b", f"{itype}-{lang}-c"]

    def suffix(self, itype, lang, key):
        return self.variants(itype, lang)[len(key.rstrip("0123456789")) % 3]


def test_sql_picker_only_when_it_agrees_with_python(proj, tmp_path, monkeypatch):
    from core.domains.answer_formats import project_answer_formats
    from core.store import exports as store

    udf_calls = []
    real = store._register_suffix
    monkeypatch.setattr(
        store, "_register_suffix", lambda cur, fn: udf_calls.append(fn) or real(cur, fn)
    )
    picker = project_answer_formats(proj.db)
    export_project(proj, tmp_path / "sql", ExportOptions("llava", suffix=picker.suffix))
    assert udf_calls == []  # the default picker is done in SQL ...
    export_project(
        proj,
        tmp_path / "py",
        ExportOptions("llava", suffix=lambda t, lg, k: picker.suffix(t, lg, k)),
    )
    assert len(udf_calls) == 1  # ... and gives the very bytes the per-row picker gives
    assert (tmp_path / "sql" / "train.json").read_bytes() == (
        tmp_path / "py" / "train.json"
    ).read_bytes()

    other = _OtherPicker()
    export_project(proj, tmp_path / "other", ExportOptions("llava", suffix=other.suffix))
    assert len(udf_calls) == 2  # sample disagreed: per-row path
    for r in _records(tmp_path / "other" / "train.json"):
        assert all(t["suffix"].startswith(f"{t['itype']}-{t['lang']}-") for t in r["meta"]["turns"])


def test_webdataset_tar_bytes_are_tarfiles(tmp_path):
    """The hand-built USTAR headers and end of archive equal what tarfile writes, short names,
    names near and past the 100-byte field, non-ASCII names and sizes near block edges."""
    import io
    import tarfile

    from core.export.formats.wds import TarWriter

    members = [
        ("a.json", b"{}"),
        ("0123456789abcdef-1.jpg", bytes(511)),
        ("k" * 95 + ".json", bytes(512)),
        ("k" * 94 + ".json", bytes(1)),
        ("d" * 60 + "/" + "k" * 60 + ".png", bytes(513)),
        ("\u56fe\u7247-2.json", "\u4e2d\u6587".encode()),
        ("empty.txt", b""),
    ]
    ours = TarWriter(tmp_path / "ours.tar")
    with tarfile.open(tmp_path / "ref.tar", "w", format=tarfile.USTAR_FORMAT) as ref:
        for name, data in members:
            ours.add(name, data)
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            ref.addfile(info, io.BytesIO(data))
    ours.close()
    assert (tmp_path / "ours.tar").read_bytes() == (tmp_path / "ref.tar").read_bytes()
