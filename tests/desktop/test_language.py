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


def test_each_text_has_one_translation():
    import importlib
    import pkgutil

    from desktop import i18n

    tables = [  # every room's table, found by name: a new one cannot be left out
        getattr(importlib.import_module(f"desktop.i18n.{m.name}"), m.name.upper())
        for m in pkgutil.iter_modules(i18n.__path__)
        if m.name.startswith("zh_")
    ]
    seen: dict[str, str] = {}
    clashes = []
    for table in tables:
        for key, value in table.items():
            if key in seen and seen[key] != value:
                clashes.append((key, seen[key], value))
            seen[key] = value
    assert not clashes, clashes
    assert len(seen) == len(ZH)


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


def test_nothing_is_translated_at_import_time():
    """Modules load before desktop.app sets the language: a tr() outside a function would
    freeze English into a Chinese window (tables use N_ and translate where shown)."""
    early = []

    def visit(node, in_function: bool, path: Path) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Call) and _name(child.func) in ("tr", "trn") and not inside:
                early.append(f"{path.name}:{child.lineno}")
            visit(child, inside, path)

    for path, tree in _sources():
        visit(tree, False, path)
    assert not early, early


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


def test_the_window_speaks_chinese(qtbot, review_project):
    from PySide6.QtWidgets import QLabel

    from desktop.main_window import MainWindow
    from tests.desktop.conftest import wait_idle

    strings.set_language("zh")
    window = MainWindow(review_project)
    qtbot.addWidget(window)
    window.show()
    wait_idle(qtbot, window)
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[:6] == ["文件", "编辑", "审核", "视图", "工具", "帮助"]
    assert "设置…" in [a.text() for a in window.menu("Tools").actions()]
    assert "任务" in [a.text() for a in window.menu("View").actions()]
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs[0] == "浏览与审核" and {"任务", "训练", "统计"} <= set(tabs)
    assert window.count_label.text() == "12 张图像"
    assert window.sidebar.list.item(0).text() == "全部图像"
    assert window.filter_bar.sort.itemText(0) == "导入顺序"
    # pictures of the other rooms in Chinese, for a person to look at
    from tests.desktop.test_screenshots import save

    window.show_panel("jobs")
    save(window, "zh_jobs_panel")
    window.show_panel("stats")
    qtbot.waitUntil(lambda: window.panels["stats"].stats is not None, timeout=5000)
    save(window, "zh_stats")
    window.show_panel("training")
    save(window, "zh_training_panel")
    settings = next(a for a in window.menu("Tools").actions() if a.text() == "设置…")
    settings.trigger()
    dialog = window.settings_dialog
    assert dialog.windowTitle() == "设置" and dialog.tabs.tabText(0) == "后端"
    save(dialog, "zh_settings")
    dialog.tabs.setCurrentWidget(dialog.interface)
    assert "下次启动" in dialog.interface.findChild(QLabel, "interfaceNote").text()
    save(dialog, "zh_settings_interface")
    dialog.close()
    dialog.wait()
    window.shutdown()


def test_cjk_glyphs_render_as_glyphs_not_boxes(qtbot):
    from PySide6.QtWidgets import QLabel

    pictures = []
    for text in ("文", "件", "\ue000"):  # two characters, and one no font has (a box)
        label = QLabel(text)
        font = label.font()
        font.setPointSize(28)
        label.setFont(font)
        qtbot.addWidget(label)
        label.resize(60, 60)
        pictures.append(label.grab().toImage())
    wen, jian, box = pictures
    assert wen != jian  # missing glyphs would all be the same box
    assert wen != box and jian != box


def test_the_studio_starts_in_the_saved_language(review_project, studio_home):
    """The real entry point (`mmstudio gui`) in a fresh process reads desktop.yaml before it
    builds a widget; the picture is kept in tests/screenshots/zh_main_window.png."""
    import os
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    from desktop.models.ui_settings import save_ui_settings
    from tests.conftest import REPO

    save_ui_settings(language="zh")
    root = review_project.root
    logs = review_project.logs_dir
    review_project.close()
    shot = REPO / "tests" / "screenshots" / "zh_main_window.png"
    shot.parent.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    env = dict(os.environ, MMSTUDIO_SCREENSHOT=str(shot), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-m", "core", "gui", str(root)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "screenshot saved" in out.stderr
    assert "language zh" in (logs / "gui.log").read_text(encoding="utf-8")
    image = QImage(str(shot))
    assert not image.isNull()  # its size is the window manager's business, not checked


def test_qt_own_words_follow_the_saved_language(qtbot, capsys):
    from PySide6.QtWidgets import QApplication, QDialogButtonBox

    from desktop.app import apply_language
    from desktop.models.ui_settings import save_ui_settings, ui_settings_path

    app = QApplication.instance()

    def close_text() -> str:
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        qtbot.addWidget(box)
        return box.button(QDialogButtonBox.StandardButton.Close).text()

    try:
        save_ui_settings(language="zh")
        assert apply_language(app) == "zh" and strings.language() == "zh"
        assert close_text() == "关闭"
        save_ui_settings(language="en")
        assert apply_language(app) == "en" and close_text() == "Close"
        ui_settings_path().write_text("language: fr\n", encoding="utf-8")  # edited by hand
        assert apply_language(app) == "en"
        assert "the interface stays in English" in capsys.readouterr().err
    finally:
        save_ui_settings(language="en")
        apply_language(app)


def test_the_default_domain_titles_are_chinese_and_a_typed_title_stays(qtbot, project):
    from core.domains import install_defaults
    from core.domains.defaults import default_domains
    from desktop.i18n.domain_titles import ZH_DOMAIN_TITLES
    from desktop.views.sidebar import DomainSidebar

    defaults = default_domains()
    assert len(defaults) == 24 and {d.name for d in defaults} == set(ZH_DOMAIN_TITLES)
    install_defaults(project.db)
    from core.domains import update_domain
    from core.store import browse

    update_domain(project.db, "landmark", title="My landmarks")  # a person's own title
    try:
        strings.set_language("zh")
        for d in defaults:
            assert strings.domain_title(d.name, d.title) == ZH_DOMAIN_TITLES[d.name]
        assert strings.domain_label("ocr") == "图中文字（OCR）"  # a grid tile knows the name only
        assert strings.domain_title("landmark", "My landmarks") == "My landmarks"
        assert strings.domain_title("birds", "Birds") == "Birds"  # not a default domain
        sidebar = DomainSidebar()
        qtbot.addWidget(sidebar)
        sidebar.set_counts(browse.domain_entries(project.db))
        shown = [sidebar.list.item(i).text() for i in range(sidebar.list.count())]
        assert shown[0] == "全部图像" and "图像风格" in shown and "动物与植物" in shown
        assert "My landmarks" in shown and "Landmarks" not in shown
        assert not [t for t in shown[1:] if _wordy(t) and t != "My landmarks" and "OCR" not in t]
    finally:
        strings.set_language("en")
    assert strings.domain_title("ocr", "Text in images (OCR)") == "Text in images (OCR)"
    assert strings.domain_label("ocr") == "ocr"
