"""The Export dialog offers the export options of `mmstudio export` a user needs, and each one
reaches export_project: what lands in the folder shows it (shards, pixel sizes, links, skipped
records, suffixes), not only the option dict."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from tests.export.hostile import hostile_project

pytest.importorskip("pytestqt")


@pytest.fixture
def dialog(qtbot, tmp_path):
    from desktop.views.export_dialog import ExportDialog

    with hostile_project(tmp_path / "p") as p:
        d = ExportDialog(p)
        qtbot.addWidget(d)
        yield d


def _export(qtbot, dialog, out) -> dict:
    dialog.out.setText(str(out))
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        dialog.run_button.click()
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _choose(combo, value) -> None:
    combo.setCurrentIndex(combo.findData(value))
    assert combo.currentData() == value


def test_shard_size_max_side_skip_and_no_suffixes_reach_the_export(qtbot, dialog, tmp_path):
    from PIL import Image

    _choose(dialog.format, "llava")
    assert not dialog.shard_size.isEnabled()  # webdataset only
    assert dialog.options()["shard_size"] is None and dialog.options()["max_side"] is None
    _choose(dialog.format, "webdataset")
    assert dialog.shard_size.isEnabled() and dialog.shard_size.value() == 5000
    dialog.val.setValue(0.0)
    dialog.shard_size.setValue(3)
    dialog.max_side.setValue(32)
    _choose(dialog.unsafe, "skip")
    dialog.suffixes.setChecked(False)
    opts = dialog.options()
    assert (opts["shard_size"], opts["max_side"], opts["suffix"]) == (3, 32, None)

    manifest = _export(qtbot, dialog, tmp_path / "wds")
    records = manifest["counts"]["records"]
    shards = sorted((tmp_path / "wds").glob("*.tar"))
    assert records > 3 and len(shards) == -(-records // 3)  # 3 samples per shard
    assert manifest["image_normalization"]["max_side"] == 32
    assert manifest["options"]["answer_suffixes"] is False
    assert manifest["unsafe_text"]["mode"] == "skip" and manifest["unsafe_text"]["records_skipped"]
    for shard in shards:
        with tarfile.open(shard) as tar:
            for member in tar.getmembers():
                if member.name.endswith(".json"):
                    continue
                with Image.open(io.BytesIO(tar.extractfile(member).read())) as im:
                    assert max(im.size) <= 32


def test_original_bytes_symlinks_and_fail_reach_the_export(qtbot, dialog, tmp_path):
    _choose(dialog.format, "llava")
    _choose(dialog.images, "symlink")
    dialog.max_side.setValue(64)
    dialog.original.setChecked(True)
    assert not dialog.max_side.isEnabled()  # no resizing of bytes kept as imported
    assert dialog.options()["original_bytes"] and dialog.options()["max_side"] is None
    _choose(dialog.unsafe, "fail")
    dialog.out.setText(str(tmp_path / "refused"))
    with qtbot.waitSignal(dialog.worker.failed, timeout=60000):
        dialog.run_button.click()
    assert "Export failed" in dialog.status.text() and not (tmp_path / "refused").exists()

    _choose(dialog.unsafe, "escape")
    manifest = _export(qtbot, dialog, tmp_path / "llava")
    assert manifest["options"]["images"] == "symlink"
    assert manifest["image_normalization"] == {"enabled": False}
    assert manifest["options"]["answer_suffixes"] is True  # the default, as in the CLI
    images = [f for f in (tmp_path / "llava" / "images").rglob("*") if not f.is_dir()]
    assert images and all(f.is_symlink() for f in images)
    assert manifest["unsafe_text"]["mode"] == "escape" and manifest["unsafe_text"]["items"] > 0
