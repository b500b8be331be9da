"""Per-format record queries of an export, over the `export_sel` table (core/store/exports.py).

A record with one question-answer pair (the usual case) is a plain projection of its row;
only multi-turn records go through an ordered GROUP BY, which costs DuckDB about five times
as much per row. Both halves build the same column types and are merged in export order.
"""

from __future__ import annotations

_IMG_Q = "CASE WHEN turn = 1 THEN '<image>' || chr(10) ELSE '' END || q"
_TURN = "{'itype': itype, 'lang': lang, 'suffix': suffix}"

# one question-answer pair as the list of two messages each format writes
_PAIRS = {
    "llava": f"[{{'from': 'human', 'value': {_IMG_Q}}}, {{'from': 'gpt', 'value': answer}}]",
    "sharegpt": f"[{{'role': 'user', 'content': {_IMG_Q}}}, {{'role': 'assistant', 'content': answer}}]",
    "trl": """[{'role': 'user', 'content':
                 CASE WHEN turn = 1 THEN [json_object('type', 'image'),
                                          json_object('type', 'text', 'text', q)]
                      ELSE [json_object('type', 'text', 'text', q)] END},
               {'role': 'assistant', 'content': [json_object('type', 'text', 'text', answer)]}]""",
}
_PAIRS["hf"] = _PAIRS["sharegpt"]
_PAIRS["webdataset"] = _PAIRS["llava"]


def _columns(fmt: str, grouped: bool) -> str:
    def one(x: str) -> str:  # a value shared by the record's rows
        return f"any_value({x})" if grouped else x

    def each(x: str) -> str:  # a list with one entry per turn
        return f"list({x} ORDER BY turn)" if grouped else f"[{x}]"

    messages = f"flatten(list({_PAIRS[fmt]} ORDER BY turn))" if grouped else _PAIRS[fmt]
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
    return {
        "llava": f"rec_id AS id, {one('img')} AS image, {messages} AS conversations, {meta}",
        "sharegpt": f"rec_id AS id, {messages} AS messages, ['images/' || {one('img')}] AS images, {meta}",
        "trl": f"rec_id AS id, {messages} AS messages, ['images/' || {one('img')}] AS images, {meta}",
        # image bytes come from the registered arrow table `export_blobs` (joined as b)
        "hf": f"rec_id AS id, [{{'bytes': {one('b.data')}, 'path': {one('img')}}}] AS images, "
        f"{messages} AS messages, {meta}",
        "webdataset": f"rec_id AS key, {one('img')} AS image, {wds_json} AS json",
    }[fmt]


def record_query(
    fmt: str, split: str, extra: str = "", source: str = "", table: str = "export_sel"
) -> str:
    """The records of one split of `table` in export order: by image sha256, then by the
    record's first instruction, an order that depends on content only (so an imported copy of
    the data exports in the same order)."""
    rows = f"SELECT * FROM {table} s WHERE s.split = '{split}' {extra}"
    single = (
        f"SELECT {_columns(fmt, False)}, r.sha256 AS _sha, first_nid AS _first "
        f"FROM ({rows}) r {source} WHERE nturns = 1"
    )
    multi = (
        f"SELECT {_columns(fmt, True)}, any_value(r.sha256) AS _sha, min(first_nid) AS _first "
        f"FROM ({rows}) r {source} WHERE nturns > 1 GROUP BY rec_id, r.image_id"
    )
    return (
        f"SELECT * EXCLUDE (_sha, _first) FROM ({single} UNION ALL {multi}) ORDER BY _sha, _first"
    )
