"""The UI language: every word the desktop marks for translation has a Chinese entry with the
same placeholders, no widget is handed English text that bypasses the table, and the studio
starts in the language saved in the settings."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from desktop import strings
from desktop.i18n import ZH

DESKTOP = Path(__file__).resolve().parents[2] / "desktop"
MARKERS = {"tr": 1, "N_": 1, "trn": 2}  # how many leading arguments are table keys
# Qt calls that put text on screen, and which of their arguments is that text: it must come
# from tr()/trn()/label(), not be an English literal.
FIRST = ("QLabel", "QPushButton", "QGroupBox", "QCheckBox", "QRadioButton", "QAction",
         "QToolButton", "QDockWidget", "setText", "setToolTip", "setWindowTitle",
         "setPlaceholderText", "showMessage", "addRow", "setFormat", "setStatusTip", "setTitle",
         "addMenu", "setInformativeText", "setSpecialValueText", "setSuffix", "setPrefix",
         "setLabelText", "say", "addItem", "addItems", "QListWidgetItem", "QTableWidgetItem",
         "setHorizontalHeaderLabels", "BarChart", "LineChart")  # fmt: skip
SHOWN = {name: (0,) for name in FIRST} | {
    "addTab": (1,), "insertTab": (2,), "setTabText": (1,), "setItemText": (1,),
    "QMessageBox": (1, 2), "information": (1, 2), "warning": (1, 2), "critical": (1, 2),
    "question": (1, 2), "getOpenFileName": (1,), "getOpenFileNames": (1,),
    "getSaveFileName": (1,), "getExistingDirectory": (1,), "getText": (1, 2),
}  # fmt: skip
# Shown as they are in every language: model names and file kinds.
TECHNICAL = {"gpt-4o-mini, Qwen/Qwen2.5-VL-7B-Instruct, …", "GGUF", "mmproj"}
# Whose Chinese is, on purpose, the English text (the product's name, units).
SAME_IN_BOTH = {"MMInstruct Studio — {name}", "{title} — {mb:,.0f} MB"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _sources():
    for path in sorted(DESKTOP.rglob("*.py")):
        if "i18n" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _keys() -> dict[str, str]:
    """Every literal handed to tr / trn / N_ in desktop/, with where it is."""
    found: dict[str, str] = {}
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in MARKERS:
                for arg in node.args[: MARKERS[_name(node.func)]]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.setdefault(arg.value, f"{path.name}:{node.lineno}")
    return found


def _fields(text: str) -> list[tuple]:
    return sorted(
        (name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name
    )


def _wordy(text: str) -> bool:
    bare = re.sub(r"<[^>]+>|\{[^}]*\}|&[a-z]+;", " ", text)
    return re.search(r"[A-Za-z]{2,}", bare) is not None


def test_every_marked_word_has_a_chinese_entry_with_the_same_placeholders():
    keys = _keys()
    assert len(keys) > 300  # the scan found the UI's words, not nothing
    missing = {k: where for k, where in keys.items() if k not in ZH}
    assert not missing, f"no Chinese entry for {len(missing)} text(s): {missing}"
    wrong = {k: ZH[k] for k in keys if _fields(k) != _fields(ZH[k])}
    assert not wrong, f"placeholders differ: {wrong}"
    stale = sorted(set(ZH) - set(keys))
    assert not stale, f"entries no code uses any more: {stale}"
    untranslated = [k for k in keys if _wordy(k) and ZH[k] == k and k not in SAME_IN_BOTH]
    assert not untranslated, untranslated


def test_no_widget_gets_english_that_bypasses_the_table():
    offenders = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) in SHOWN):
                continue
            shown = [node.args[i] for i in SHOWN[_name(node.func)] if i < len(node.args)]
            for arg in shown:
                if isinstance(arg, ast.List):  # header labels
                    shown.extend(arg.elts)
                    continue
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    text = arg.value
                elif isinstance(arg, ast.JoinedStr):
                    text = "".join(v.value for v in arg.values if isinstance(v, ast.Constant))
                else:
                    continue
                if _wordy(text) and text not in TECHNICAL:
                    offenders.append(f"{path.relative_to(DESKTOP.parent)}:{node.lineno} {text!r}")
    assert not offenders, "\n".join(offenders)


def test_set_language_switches_the_words_and_refuses_unknown_ones():
    try:
        assert strings.tr("Refresh") == "Refresh"
        strings.set_language("zh")
        assert strings.language() == "zh"
        assert strings.tr("Refresh") == ZH["Refresh"] != "Refresh"
        assert strings.label("status", "accepted") == ZH["Accepted"]
        assert strings.tr("{n:,} images", n=12345) == ZH["{n:,} images"].format(n=12345)
        assert "12,345" in strings.tr("{n:,} images", n=12345)
        assert strings.tr("a text nobody translated") == "a text nobody translated"
        with pytest.raises(ValueError, match="must be one of en, zh"):
            strings.set_language("fr")
        assert strings.language() == "zh"  # a refused language changes nothing
    finally:
        strings.set_language("en")
    assert strings.trn("{n} item", "{n} items", 1) == "1 item"
    assert strings.trn("{n} item", "{n} items", 2) == "2 items"
