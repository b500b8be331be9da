"""Read the records of a JSON array or JSON Lines file one at a time, in flat memory.

A million-record LLaVA file is one JSON array; `json.load` would hold all of it. This reader
decodes one element at a time with `raw_decode` from a sliding buffer, and reports bad JSON
with its line and column.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from core.errors import StudioError
from core.export.errors import ExportError

CHUNK = 1 << 20
_WS = " \t\r\n"


class JsonFormatError(StudioError):
    def __init__(self, path: Path, line: int, column: int, reason: str, index: int | None = None):
        self.path, self.line, self.column, self.reason, self.index = (
            path,
            line,
            column,
            reason,
            index,
        )
        super().__init__(f"{Path(path).name}: bad JSON at line {line}, column {column}: {reason}")


TOO_DEEP = "nested deeper than any record can be (over Python's recursion limit)"


def iter_json_records(path: Path) -> Iterator[object]:
    """Each element of a top-level JSON array, or each line of a JSON Lines file."""
    path = Path(path)
    with open(path, encoding="utf-8", newline="") as f:
        try:
            head = f.read(CHUNK)
        except UnicodeDecodeError as exc:
            raise JsonFormatError(path, 1, 1, f"not UTF-8 text ({exc.reason})") from None
        first = head.lstrip(_WS + "\ufeff")[:1]
        if first == "[":
            reader = _ArrayReader(path, f, head)
            head = None  # the reader's buffer owns the text now
            yield from reader.records()
        elif first == "{":
            yield from _lines(path, f, head)
        elif not first:
            raise JsonFormatError(path, 1, 1, "the file is empty")
        else:
            raise JsonFormatError(path, 1, 1, "expected a JSON array or JSON Lines of objects")


def _lines(path: Path, f, head: str) -> Iterator[object]:
    rest = ""
    lineno = 0
    chunk = head
    while chunk:
        text = rest + chunk
        lines = text.split("\n")
        rest = lines.pop()
        for line in lines:
            lineno += 1
            yield from _one_line(path, line, lineno)
        chunk = _read(path, f, lineno)
    if rest.strip():
        yield from _one_line(path, rest, lineno + 1)


def _one_line(path: Path, line: str, lineno: int) -> Iterator[object]:
    line = line.strip().lstrip("\ufeff")
    if not line:
        return
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise JsonFormatError(path, lineno, exc.colno, exc.msg) from None
    except RecursionError:
        raise JsonFormatError(path, lineno, 1, TOO_DEEP) from None
    yield value


def _read(path: Path, f, line: int) -> str:
    try:
        return f.read(CHUNK)
    except UnicodeDecodeError as exc:
        raise JsonFormatError(path, line, 1, f"not UTF-8 text ({exc.reason})") from None


class _ArrayReader:
    def __init__(self, path: Path, f, head: str):
        self.path, self.f = path, f
        self.buf = head.lstrip("\ufeff")
        self.pos = 0
        self.lines_before = 0  # newlines in the part of the file already dropped from buf
        self.col_base = 0  # characters of the current line dropped from buf
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = _read(self.path, self.f, self._line(len(self.buf)))
        if not chunk:
            self.eof = True
            return False
        if self.pos > CHUNK:
            last_nl = self.buf.rfind("\n", 0, self.pos)
            if last_nl >= 0:
                self.lines_before += self.buf.count("\n", 0, self.pos)
                self.col_base = self.pos - last_nl - 1
            else:
                self.col_base += self.pos
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += chunk
        return True

    def _line(self, pos: int) -> int:
        return self.lines_before + self.buf.count("\n", 0, pos) + 1

    def _fail(self, pos: int, reason: str) -> JsonFormatError:
        nl = self.buf.rfind("\n", 0, pos)
        column = pos - nl if nl >= 0 else self.col_base + pos + 1
        return JsonFormatError(self.path, self._line(pos), column, reason)

    def _skip_ws(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def records(self) -> Iterator[object]:
        self._skip_ws()
        self.pos += 1  # the opening bracket
        if self._skip_ws() == "]":
            self.pos += 1
            return self._tail()
        while True:
            yield self._value()
            c = self._skip_ws()
            if c == ",":
                self.pos += 1
                continue
            if c == "]":
                self.pos += 1
                self._tail()
                return
            raise self._fail(
                self.pos, "expected ',' or ']' after an element" if c else "unexpected end of file"
            )

    def _value(self) -> object:
        if not self._skip_ws():
            raise self._fail(self.pos, "unexpected end of file")
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise self._fail(self.pos, TOO_DEEP) from None
            except json.JSONDecodeError as exc:
                # Only an error at the buffer's end (or an open string) can be a cut-off value;
                # anything else is bad JSON, reported without reading the rest of the file.
                cut = exc.pos >= len(self.buf) - 16 or exc.msg.startswith("Unterminated string")
                if cut and self._more():
                    continue
                raise self._fail(exc.pos, exc.msg) from None
            # A value that reaches the buffer's end may continue in the next chunk (a number).
            if end == len(self.buf) and self._more():
                continue
            self.pos = end
            return obj

    def _tail(self) -> None:
        if self._skip_ws():
            raise self._fail(self.pos, "extra data after the closing ']'")


def read_json_object(path: Path) -> dict | None:
    """A small JSON file beside the data (manifest, dataset_info): None when absent or not an
    object; an ExportError naming the file when it is not JSON."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path.name} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ExportError(f"{path.name} is not valid JSON: {TOO_DEEP}") from None
    return data if isinstance(data, dict) else None
