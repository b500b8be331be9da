import json

import pytest

from core.export import jsonstream
from core.export.jsonstream import JsonFormatError, iter_json_records

RECORDS = [
    {"id": i, "text": "x" * (i * 7) + "中文", "n": 12345.25, "l": [1, 2, {"a": None}]}
    for i in range(40)
]


@pytest.fixture(params=[7, 64, 1 << 20])
def chunk(request, monkeypatch):
    # Tiny chunks put every record boundary, string and number across a buffer edge.
    monkeypatch.setattr(jsonstream, "CHUNK", request.param)
    return request.param


def test_array_and_lines_read_back_exactly(tmp_path, chunk):
    (tmp_path / "a.json").write_text(
        json.dumps(RECORDS, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    (tmp_path / "b.jsonl").write_text(
        "\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8"
    )
    (tmp_path / "c.json").write_text("\ufeff  [ 1 , 22 ,333 ]  \n", encoding="utf-8")
    assert list(iter_json_records(tmp_path / "a.json")) == RECORDS
    assert list(iter_json_records(tmp_path / "b.jsonl")) == RECORDS
    assert list(iter_json_records(tmp_path / "c.json")) == [1, 22, 333]


@pytest.mark.parametrize(
    "text, line, column, reason",
    [
        ('[{"a": 1},\n {"b": }]', 2, 8, "Expecting value"),
        ("[" + '{"k": "v"},' * 40 + '{"b": ]', 1, 448, "Expecting value"),
        ('[{"a": 1}', 1, 10, "unexpected end of file"),
        ('[{"a": 1}] x', 1, 12, "extra data"),
        ('[{"a": 1} {"b": 2}]', 1, 11, "expected ','"),
        ("hello", 1, 1, "expected a JSON array"),
        ("", 1, 1, "empty"),
        ('{"a": 1}\n{"a": }\n', 2, 7, "Expecting value"),
    ],
)
def test_bad_json_names_line_and_column(tmp_path, chunk, text, line, column, reason):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(JsonFormatError) as info:
        list(iter_json_records(path))
    err = info.value
    assert (err.line, err.column) == (line, column)
    assert reason in err.reason


def test_not_utf8_is_reported(tmp_path):
    path = tmp_path / "latin.json"
    path.write_bytes(b'[{"a": "caf\xe9"}]')
    with pytest.raises(JsonFormatError, match="not UTF-8"):
        list(iter_json_records(path))
