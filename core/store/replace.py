"""SQL of find-and-replace (core.replace): what each field's text becomes, computed by DuckDB
over a selection in one query per field, and the caption versions a replace writes.

The regular expressions are DuckDB's (RE2): `regexp_replace(text, pattern, replacement, 'g')`,
groups as \\1 in the replacement. A plain search is `replace()`, or, ignoring case, a regex
made of the escaped text.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from core.errors import StudioError
from core.store.bulk import Selection, selected
from core.store.db import Database

FIELDS = ("question", "options", "answer", "caption")
# DuckDB 1.3 added `lambda x: ...` and later releases refuse the older `x -> ...` form.
_NEW_LAMBDA = tuple(int(p) for p in duckdb.__version__.split(".")[:2]) >= (1, 3)


class ReplaceError(StudioError):
    pass


@dataclass(frozen=True)
class Hit:
    """One value a replace would change (old and new as stored: a list for options)."""

    table: str  # instructions | captions
    row_id: int  # instructions.id or captions.id
    image_id: int
    field: str
    itype: str | None
    old: object
    new: object


def _escape_regex(text: str) -> str:
    return "".join("\\" + c if (c.isascii() and not c.isalnum() and not c.isspace()) else c
                   for c in text)  # fmt: skip


def _escape_replacement(text: str) -> str:
    return text.replace("\\", "\\\\")


def _expression(col: str, regex: bool, match_case: bool) -> str:
    if not regex and match_case:
        return f"replace({col}, $find, $repl)"
    return f"regexp_replace({col}, $find, $repl, $opts)"


def _params(find: str, repl: str, regex: bool, match_case: bool) -> dict:
    if not regex and not match_case:
        find, repl = _escape_regex(find), _escape_replacement(repl)
    return {"find": find, "repl": repl, "opts": "g" if match_case else "gi"}


def check_pattern(db: Database, pattern: str, match_case: bool = True) -> None:
    """A clear error for a pattern RE2 refuses."""
    try:
        db.cursor().execute(
            "SELECT regexp_matches('', $find, $opts)",
            {"find": pattern, "opts": "" if match_case else "i"},
        ).fetchall()
    except duckdb.Error as exc:
        detail = str(exc).split("\n")[0]
        raise ReplaceError(f"not a valid regular expression: {pattern!r} ({detail})") from None


def _sql(field: str, sel: str, expr, narrow: str) -> str:
    if field == "caption":
        return (
            f"SELECT 'captions', c.id, c.image_id, 'caption', NULL, c.text, {expr('c.text')} "
            f"FROM captions c JOIN {sel} s ON s.id = c.image_id WHERE c.is_current "
            "QUALIFY row_number() OVER (PARTITION BY c.image_id ORDER BY c.id DESC) = 1"
        )
    each = f"lambda x: {expr('x')}" if _NEW_LAMBDA else f"x -> {expr('x')}"
    new = f"list_transform(t.options, {each})" if field == "options" else expr(f"t.{field}")
    return (
        f"SELECT 'instructions', t.id, t.image_id, '{field}', t.itype, t.{field}, {new} "
        f"FROM instructions t JOIN {sel} s ON s.id = t.image_id WHERE t.{field} IS NOT NULL"
        + narrow
    )


def find_hits(
    db: Database,
    selection: Selection,
    fields: tuple[str, ...],
    find: str,
    repl: str,
    *,
    regex: bool = False,
    match_case: bool = True,
    itype: str | None = None,
    item_status: str | None = None,
) -> list[Hit]:
    """Every value of `fields` in the selection's images (and, for instructions, of `itype`
    and `item_status` when given) that the replace changes, ordered by image then row."""
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise ReplaceError(f"unknown field {unknown[0]!r}; fields: {', '.join(FIELDS)}")
    if not find:
        raise ReplaceError("say what to find: the search text is empty")
    if regex:
        check_pattern(db, find, match_case)
    params = _params(find, repl, regex, match_case)
    narrow = ""
    for col, key, value in (("itype", "itype", itype), ("status", "istatus", item_status)):
        if value:
            narrow += f" AND t.{col} = ${key}"
            params[key] = value
    cur = db.cursor()
    hits: list[Hit] = []
    with selected(cur, selection) as sel:
        for field in fields:

            def expr(col, _regex=regex, _case=match_case):
                return _expression(col, _regex, _case)

            inner = _sql(field, sel, expr, narrow)
            sql = f"SELECT * FROM ({inner}) h(tbl, id, image, field, itype, old, new) "
            sql += "WHERE new IS DISTINCT FROM old ORDER BY image, id"
            used = {k: v for k, v in params.items() if f"${k}" in inner}
            try:
                rows = cur.execute(sql, used).fetchall()
            except duckdb.InvalidInputException as exc:
                raise ReplaceError(f"cannot replace with {repl!r}: {exc}") from None
            hits += [Hit(*r) for r in rows]
    hits.sort(key=lambda h: (h.image_id, h.table != "captions", h.row_id, FIELDS.index(h.field)))
    return hits


def new_caption_versions(cur, edits: list[tuple[int, str, str]]) -> list[tuple[int, int, int]]:
    """Write a new, not yet current caption version per (caption id, expected text, new
    text), all or nothing; returns (image id, old caption id, new caption id). Refused when
    a caption is no longer its image's current text."""
    import pyarrow as pa

    table = pa.table(  # noqa: F841 (read by the SQL below)
        {
            "old_id": pa.array([e[0] for e in edits], pa.int64()),
            "old_text": pa.array([e[1] for e in edits], pa.string()),
            "new_text": pa.array([e[2] for e in edits], pa.string()),
        }
    )
    cur.register("replace_captions", table)
    try:
        stale = cur.execute(
            "SELECT count(*) FROM replace_captions b LEFT JOIN captions c ON c.id = b.old_id "
            "WHERE c.id IS NULL OR NOT c.is_current OR c.text IS DISTINCT FROM b.old_text"
        ).fetchall()[0][0]
        if stale:
            raise ReplaceError(
                f"{stale} caption(s) changed since the preview; preview again, nothing was changed"
            )
        rows = cur.execute(
            "INSERT INTO captions (image_id, version, text, lang, is_current, origin) "
            "SELECT c.image_id, v.top + 1, b.new_text, c.lang, false, 'manual' "
            "FROM replace_captions b JOIN captions c ON c.id = b.old_id "
            "JOIN (SELECT image_id, max(version) AS top FROM captions GROUP BY image_id) v "
            "ON v.image_id = c.image_id RETURNING image_id, id"
        ).fetchall()
        new_by_image = dict(rows)
        olds = cur.execute(
            "SELECT c.image_id, b.old_id FROM replace_captions b JOIN captions c ON c.id = b.old_id"
        ).fetchall()
    finally:
        cur.unregister("replace_captions")
    return [(image, old, new_by_image[image]) for image, old in olds]
