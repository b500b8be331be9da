"""Per-format record queries of an export, over the narrow `export_sel` / `export_imgs` tables
(core/store/exports.py) with the texts joined from a pass's own copy of them
(core/store/export_passes.py).

A record with one question-answer pair (the usual case) is a plain projection of its row;
only multi-turn records go through a GROUP BY. Each query covers one pass: one join, one sort
on integer keys, and the rows go straight to the writer.
"""

from __future__ import annotations

MAX_OPTIONS = 8

_IMG_Q = "CASE WHEN turn = 1 THEN '<image>' || chr(10) ELSE '' END || q"
_TURN = "{'itype': itype, 'lang': lang, 'suffix': suffix}"

# one question-answer pair as the list of two messages each format writes
_PAIRS = {
    "llava": f"[{{'from': 'human', 'value': {_IMG_Q}}}, {{'from': 'gpt', 'value': answer}}]",
    "sharegpt": f"[{{'role': 'user', 'content': {_IMG_Q}}}, {{'role': 'assistant', 'content': answer}}]",
    # TRL's content parts as MAPs, which serialise as the same JSON objects: json_object()
    # values live in an arena until the pass ends, and a pass of 8k long answers ran out of
    # the export's 100 MB budget with them
    "trl": """[{'role': 'user', 'content':
                 CASE WHEN turn = 1 THEN [MAP {'type': 'image'}, MAP {'type': 'text', 'text': q}]
                      ELSE [MAP {'type': 'text', 'text': q}] END},
               {'role': 'assistant', 'content': [MAP {'type': 'text', 'text': answer}]}]""",
}
_PAIRS["hf"] = _PAIRS["sharegpt"]
_PAIRS["webdataset"] = _PAIRS["llava"]
# which image a HF or webdataset record holds (its file is looked up per pass: exports.py)
_IMAGE_COLS = ("ord", "part")


def _options_sql(col: str) -> str:
    parts = [
        f"CASE WHEN len({col}) >= {k} THEN chr(10) || '{chr(64 + k)}. ' || {col}[{k}] ELSE '' END"
        for k in range(1, MAX_OPTIONS + 1)
    ]
    return "coalesce(" + " || ".join(parts) + ", '')"


def rows_sql(where: str = "TRUE", texts: str = "instructions") -> str:
    """One row per selected instruction (`where` filters export_sel as s) with everything a
    record shape needs: keys, image, the question as exported (option lines, the answer-format
    suffix unless the question already ends with it; or its escaped text) and the answer.
    `texts`: the table the instructions' texts are read from (a pass's own copy of them)."""
    return f"""
    SELECT t.* EXCLUDE (question, options, answer0),
           coalesce(e.q, t.question || {_options_sql("t.options")}
                    || CASE WHEN t.suffix <> '' THEN chr(10) || t.suffix ELSE '' END) AS q,
           coalesce(e.answer, t.answer0) AS answer
    FROM (
        SELECT s.nid, m.image_id, m.split, s.turn, s.nturns, s.first_nid, n.itype, n.lang,
               s.ord, m.part, substr(m.sha256, 1, 16) || '-' || s.rec_no AS rec_id,
               substr(m.sha256, 1, 2) || '/' || m.sha256 || '.' || m.ext AS img, m.sha256, m.ext,
               m.storage, m.path, m.domain, m.license, n.question, n.options, n.answer AS answer0,
               CASE WHEN s.picked <> '' AND ends_with(rtrim(n.question), s.picked) THEN ''
                    ELSE s.picked END AS suffix
        FROM (SELECT s.*, coalesce(y.picked, x.text, '') AS picked FROM export_sel s
              LEFT JOIN export_suffixes x ON x.id = s.pick
              LEFT JOIN export_picked y ON y.nid = s.nid WHERE {where}) s
        JOIN export_imgs m ON m.ord = s.ord
        JOIN {texts} n ON n.id = s.nid
    ) t LEFT JOIN export_text e ON e.nid = t.nid
    """


def _columns(fmt: str, grouped: bool) -> str:
    def one(x: str) -> str:  # a value shared by the record's rows
        return f"any_value({x})" if grouped else x

    def each(x: str) -> str:  # a list with one entry per turn, in turn order
        # list_sort on {turn, value} structs instead of list(x ORDER BY turn): DuckDB's
        # ordered aggregates buffer every group's rows apart and ran out of a 100 MB budget
        return (
            f"list_transform(list_sort(list({{'k': turn, 'v': {x}}})), lambda e: e.v)"
            if grouped
            else f"[{x}]"
        )

    messages = f"flatten({each(_PAIRS[fmt])})" if grouped else _PAIRS[fmt]
    meta_struct = (
        f"{{'domain': {one('domain')}, 'license': {one('license')}, 'turns': {each(_TURN)}}}"
    )
    meta = f"{meta_struct} AS meta"
    # webdataset: the sample's key, its image's path in the export, and the sample's JSON
    # (LLaVA-shaped, `image` naming the tar member), serialised by DuckDB, not per row in Python
    member = f"rec_id || '.' || regexp_extract({one('img')}, '[^.]+$')"
    wds_json = (
        f"to_json({{'id': rec_id, 'image': {member}, 'conversations': {messages}, "
        f"'meta': {meta_struct}}})::VARCHAR"
    )
    image = ", ".join(f"{one(c)} AS _{c}" for c in _IMAGE_COLS)
    return {
        "llava": f"rec_id AS id, {one('img')} AS image, {messages} AS conversations, {meta}",
        "sharegpt": f"rec_id AS id, {messages} AS messages, ['images/' || {one('img')}] AS images, {meta}",
        "trl": f"rec_id AS id, {messages} AS messages, ['images/' || {one('img')}] AS images, {meta}",
        # the image bytes are joined in Python (core/export/formats/hf.py)
        "hf": f"rec_id AS id, {messages} AS messages, {meta}, {image}",
        "webdataset": f"rec_id AS key, {wds_json} AS json, {image}",
    }[fmt]


def record_query(
    fmt: str, split: str, grouped: bool, extra: str = "", texts: str = "instructions"
) -> str:
    """The records of one split in export order: by image sha256 (`ord`), then by the record's
    first instruction, an order that depends on content only (so an imported copy of the data
    exports in the same order). `grouped`: the split holds multi-turn records."""
    rows = f"SELECT * FROM ({rows_sql(texts=texts)}) r WHERE r.split = '{split}' {extra}"
    if not grouped:
        # The sort carries the plain columns; the records are built above it by a SELECT,
        # which keeps the order of its one subquery (DuckDB's order preservation).
        return f"SELECT {_columns(fmt, False)} FROM ({rows} ORDER BY r.ord, r.first_nid) r"
    single = (
        f"SELECT {_columns(fmt, False)}, ord AS _o, first_nid AS _f FROM ({rows}) r "
        "WHERE nturns = 1"
    )
    multi = (
        f"SELECT {_columns(fmt, True)}, any_value(ord) AS _o, min(first_nid) AS _f "
        f"FROM ({rows}) r WHERE nturns > 1 GROUP BY rec_id, image_id"
    )
    return f"SELECT * EXCLUDE (_o, _f) FROM ({single} UNION ALL {multi}) ORDER BY _o, _f"
