"""Memory stays flat as the data grows: Python-side peaks do not scale with the row count.

tracemalloc sees every Python allocation (not DuckDB's own buffers): a whole-dataset list of
records or rows would make the peak grow with the number of instructions.
"""

import tracemalloc

import pytest

from core.export import jsonstream
from core.export.readers import iter_conversations
from core.export.writer import ExportOptions, export_project
from core.project import Project
from tests.child import run_script
from tests.export.helpers import add_image


def _project(root, n_qas):
    p = Project.create(root)
    images = [add_image(p, k, "nature") for k in range(20)]
    p.db.execute(
        "INSERT INTO instructions (image_id, itype, lang, question, answer, status) "
        "SELECT ?[1 + (r % 20)::INT], 'short_vqa', 'en', 'Question number ' || r || ' about the picture?', "
        "'Answer ' || r, 'accepted' FROM range(?) t(r)",
        [images, n_qas],
    )
    return p


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["llava", "trl", "hf"])
def test_export_and_read_memory_is_flat(tmp_path, monkeypatch, fmt):
    # The JSON reader holds a few chunks at a time: make them small so that both sizes
    # below span many chunks and the peaks measure the per-row cost.
    monkeypatch.setattr(jsonstream, "CHUNK", 1 << 16)
    peaks = {}
    for n in (200, 2_000, 20_000):  # the first run pays for lazy imports; not compared
        with _project(tmp_path / f"p{n}", n) as p:
            out = tmp_path / f"o{n}"
            export = _peak(
                lambda p=p, out=out: export_project(p, out, ExportOptions(fmt, suffix=None))
            )
            read = _peak(
                lambda out=out: sum(1 for _ in iter_conversations(out, cache_dir=tmp_path / "c"))
            )
            peaks[n] = (export, read)
    (e_small, r_small), (e_big, r_big) = peaks[2_000], peaks[20_000]
    # 10x the rows; a list of them would grow the peak by megabytes
    assert e_big < e_small * 2 + 1_000_000, peaks
    assert r_big < r_small * 2 + 1_000_000, peaks


def test_json_export_does_not_import_pandas(tmp_path):
    """The answer-format variants travel in a DuckDB temp table, not a registered Arrow
    table: DuckDB's register imports pandas, ~0.5 CPU s that was a fifth of a 100k export."""
    import json

    _project(tmp_path / "p", 50).close(backup_on_close=False)
    code = (
        "import json, sys\n"
        "from core.export.writer import ExportOptions, export_project\n"
        "from core.project import Project\n"
        f"p = Project.open({str(tmp_path / 'p')!r})\n"
        f"r = export_project(p, {str(tmp_path / 'out')!r}, ExportOptions('llava'))\n"
        "p.close(backup_on_close=False)\n"
        "print(json.dumps([r.manifest['options']['answer_suffixes'], 'pandas' in sys.modules]))\n"
    )
    suffixed, pandas = json.loads(run_script(code)[-1])
    assert suffixed is True  # the SQL picker (the temp table's user) ran
    assert pandas is False
    records = json.loads((tmp_path / "out" / "train.json").read_text(encoding="utf-8"))
    assert len(records) == 50


def test_hf_export_does_not_import_pandas(tmp_path):
    """HF image bytes are joined in Arrow from the arrays' buffers: DuckDB's register and
    pa.array() on Python values both import pandas (~0.5 CPU s of every HF export)."""
    import json

    import pyarrow.parquet as pq

    _project(tmp_path / "p", 50).close(backup_on_close=False)
    code = (
        "import json, sys\n"
        "from core.export.writer import ExportOptions, export_project\n"
        "from core.project import Project\n"
        f"p = Project.open({str(tmp_path / 'p')!r})\n"
        f"r = export_project(p, {str(tmp_path / 'out')!r}, ExportOptions('hf'))\n"
        "p.close(backup_on_close=False)\n"
        "print(json.dumps('pandas' in sys.modules))\n"
    )
    assert json.loads(run_script(code)[-1]) is False
    rows = pq.read_table(tmp_path / "out" / "data" / "train-00000-of-00001.parquet").to_pylist()
    assert len(rows) == 50
    media = {p.name: p.read_bytes() for p in (tmp_path / "p" / "media").rglob("*.*")}
    for row in rows:  # every record carries its own image's bytes under its own name
        (image,) = row["images"]
        assert image["bytes"] == media[image["path"].rsplit("/", 1)[-1]]


@pytest.fixture(scope="module")
def long_texts(tmp_path_factory):
    """40k instructions over 200 images with ~1 KB answers (long VQA): 40 MB of text. With
    passes bounded by rows only, every format ran out of the export's 100 MB DuckDB budget
    here (a plain pass held all 40k, a multi-turn pass 10k of 200-turn records)."""
    p = Project.create(tmp_path_factory.mktemp("long") / "p")
    images = [add_image(p, k, "nature") for k in range(200)]
    p.db.execute(
        "INSERT INTO instructions (image_id, itype, lang, question, answer, status) "
        "SELECT ?[1 + (r % 200)::INT], 'long_vqa', 'en', "
        "'Question ' || r || ': describe the picture at length, every part of it?', "
        "repeat('Answer ' || r || ' says more. ', 40), 'accepted' FROM range(40000) t(r)",
        [images],
    )
    yield p
    p.close(backup_on_close=False)


@pytest.mark.slow
@pytest.mark.parametrize("multi_turn", [False, True], ids=["per-qa", "multi-turn"])
@pytest.mark.parametrize("fmt", ["llava", "trl", "hf", "webdataset"])
def test_long_texts_export_within_the_budget(long_texts, tmp_path, fmt, multi_turn):
    from core.store import export_passes, exports

    out = tmp_path / "o"
    r = export_project(long_texts, out, ExportOptions(fmt, multi_turn=multi_turn, suffix=None))
    assert r.manifest["counts"]["records"] == (200 if multi_turn else 40_000)
    assert r.manifest["counts"]["instructions"] == 40_000
    # every record came back whole, in order, with its ~1 KB answer
    convs = list(iter_conversations(out, cache_dir=tmp_path / "c"))
    assert sum(len(c.messages) for c in convs) == 80_000
    assert all(len(a) > 700 for c in convs for _q, a in c.pairs())
    # the passes were cut by bytes: none holds much more than its bound of text
    cur = long_texts.db.cursor()
    try:
        exports.build_selection(
            cur, statuses=["accepted"], domains=None, itypes=None, langs=None,
            val_fraction=0.0, seed=0, multi_turn=multi_turn, suffix_fn=None,
        )  # fmt: skip
        passes = export_passes.record_passes(cur, fmt, "train")
        bound = export_passes.GROUP_BYTES if multi_turn else export_passes.PASS_BYTES
        for one in passes:
            (held,) = cur.execute(
                "SELECT sum(tb) FROM export_imgs WHERE ord BETWEEN ? AND ?", [one.first, one.last]
            ).fetchone()
            assert held <= bound + 220_000, (one.first, one.last, held)  # + one image's texts
        assert len(passes) >= 40e6 / bound * 0.9
    finally:
        exports.drop_selection(cur)
