"""Files from outside: MMInstruct seed files, training data read back, `mmstudio validate`.
Arbitrary bytes, invalid UTF-8, deep nesting, huge fields and shapes that are almost right
end in a result or in a StudioError that names the problem, never in a crash or a hang."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.domains.mminstruct import import_mminstruct_seeds, parse_seed_file
from core.domains.model import SeedFormatError
from core.errors import StudioError
from core.export.readers import iter_records
from core.export.validate import validate_path
from tests.hostile.strategies import ANY_TEXT, FAST, FEW, SCRIPTS, deep_nesting, json_values

SEED_SHAPES = st.dictionaries(
    st.sampled_from(["judge", "choice", "sentence", "other"]),
    st.one_of(
        st.none(),
        json_values(10),
        st.dictionaries(
            st.sampled_from(["English", "Chinese", "French"]),
            st.one_of(st.lists(st.one_of(ANY_TEXT, SCRIPTS), max_size=6), json_values(5)),
            max_size=3,
        ),
    ),
    max_size=4,
)
FILE_BYTES = st.one_of(
    st.binary(max_size=400),
    SEED_SHAPES.map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8")),
    json_values().map(lambda v: json.dumps(v).encode("utf-8")),
    deep_nesting().map(str.encode),
    st.binary(max_size=50).map(lambda b: b'{"judge": {"English": ["' + b + b'"]}}'),
)


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@FAST
@given(FILE_BYTES)
def test_seed_file_parses_or_names_the_file(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), "00001_image_style.json", data)
        try:
            parsed = parse_seed_file(path)
        except SeedFormatError as exc:
            assert path.name in str(exc)
            return
        assert parsed.domain == "image_style"
        for itype, lang, text in parsed.seeds:
            assert itype in ("judgement", "multiple_choice", "short_vqa", "long_vqa")
            assert lang in ("en", "zh") and text == text.strip() and text


@pytest.fixture(scope="module")
def seed_project(tmp_path_factory):
    from core.project import Project

    p = Project.create(tmp_path_factory.mktemp("seeds") / "p")
    yield p
    p.close()


@FEW
@given(st.lists(FILE_BYTES, min_size=1, max_size=3))
def test_seed_import_is_all_or_nothing(seed_project, files):
    db = seed_project.db
    before = db.scalar("SELECT count(*) FROM seeds")
    with tempfile.TemporaryDirectory() as tmp:
        for k, data in enumerate(files):
            _write(Path(tmp), f"{k:05d}_domain_{k}.json", data)
        try:
            report = import_mminstruct_seeds(db, tmp)
        except SeedFormatError:
            assert db.scalar("SELECT count(*) FROM seeds") == before  # nothing written
            return
    assert db.scalar("SELECT count(*) FROM seeds") == before + report.seeds_added


RECORD = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(ANY_TEXT, st.integers()),
        "image": st.one_of(ANY_TEXT, json_values(3)),
        "images": json_values(5),
        "conversations": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "from": st.sampled_from(["human", "gpt", "user", "assistant", "x"]),
                        "value": st.one_of(ANY_TEXT, st.just("<image>\nWhat?"), json_values(3)),
                    },
                ),
                max_size=4,
            ),
            json_values(5),
        ),
        "messages": json_values(8),
    },
)
DATA_FILES = st.one_of(
    st.binary(max_size=400).map(lambda b: ("data.json", b)),
    st.binary(max_size=400).map(lambda b: ("data.jsonl", b)),
    st.binary(max_size=200).map(lambda b: ("train.parquet", b)),
    st.lists(RECORD, max_size=5).map(lambda r: ("data.json", json.dumps(r).encode())),
    st.lists(RECORD, min_size=1, max_size=5).map(
        lambda r: ("data.jsonl", "\n".join(json.dumps(x) for x in r).encode())
    ),
    deep_nesting().map(lambda t: ("data.json", t.encode())),
    st.binary(max_size=64).map(lambda b: ("data.jsonl", b'{"conversations": "' + b + b'"}\n')),
)


NUL_IMAGE = ("data.json", b'[{"image": "\\u0000", "conversations": []}]')  # found by Hypothesis


@FAST
@given(DATA_FILES)
@example(NUL_IMAGE)
def test_validate_always_reports(named):
    name, data = named
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), name, data)
        report = validate_path(path)
        doc = report.to_json()
        json.dumps(doc)  # the --json output can always be written
        assert doc["ok"] == (doc["errors"] == 0)
        for problem in doc["problems"]:
            assert problem["code"] and problem["message"]
        report.describe()


@FAST
@given(DATA_FILES)
@example(NUL_IMAGE)
def test_readers_yield_or_raise_a_studio_error(named):
    name, data = named
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), name, data)
        try:
            for _file, _index, item in iter_records(path):
                assert item is not None
        except StudioError as exc:
            assert str(exc)


@settings(FEW, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(named=DATA_FILES)
def test_validate_cli_prints_json_and_an_exit_status(capsys, named):
    from core.cli import main

    name, data = named
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), name, data)
        code = main(["validate", str(path), "--json"])
        out = capsys.readouterr()
        assert code in (0, 1), out.err
        doc = json.loads(out.out)
        assert doc["ok"] == (code == 0)
