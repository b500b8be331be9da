"""The Training tab over a real project: a real export, a real `python -m trainer` child on a
tiny random-weight LLaVA, live curves from metrics.jsonl, stop, interrupted, resume, compare."""

from __future__ import annotations

import importlib
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from core.paths import resources_dir
from desktop.models.train_setup import RUN_CONFIG, list_exports
from tests.trainer.helpers import events, losses_by_step

pytestmark = pytest.mark.gui

OUT = Path(__file__).resolve().parent.parent / "screenshots"
EXTRA = "warmup_ratio: 0\neval: {max_items: 4, max_new_tokens: 3}\n"


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    # The trainer child inherits these: one CPU thread, no hub access.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("peft")
    import torch

    from tests.trainer.tiny_models import BUILDERS

    torch.set_num_threads(1)
    return BUILDERS["llava"](tmp_path_factory.mktemp("hub-llava"))


@pytest.fixture
def exported(project):
    """The project with rows and two real exports: LLaVA (trainable) and TRL (not)."""
    from core.export import ExportOptions, export_project
    from tests.review_data import populate

    populate(project, n_images=12, files=True)
    statuses = ["accepted", "ok", "new", "needs_review"]
    export_project(
        project,
        project.exports_dir / "all-llava",
        ExportOptions(format="llava", statuses=statuses, val_fraction=0.25),
    )
    export_project(
        project, project.exports_dir / "all-trl", ExportOptions(format="trl", statuses=statuses)
    )
    return project


def make_panel(qtbot, project):
    from desktop.views.training_panel import TrainingPanel

    panel = TrainingPanel(project)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.monitor.timer.setInterval(100)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def configure(panel, model: Path, steps: int, extra: str = EXTRA) -> None:
    form = panel.form
    form.model.setEditText(str(model))
    form.model.lineEdit().editingFinished.emit()
    form.lora_r.setValue(8)
    form.lora_alpha.setValue(16)
    form.max_steps.setValue(steps)
    form.batch_size.setValue(2)
    form.grad_accum.setValue(1)
    form.checkpointing.setChecked(False)
    form.save_steps.setValue(10)
    form.learning_rate.setText("0.01")
    form.schedule.setCurrentText("constant")
    form.extra.setPlainText(extra)


def wait_finished(qtbot, panel, timeout=180_000) -> None:
    qtbot.waitUntil(lambda: not panel.process.running(), timeout=timeout)
    panel.monitor.poll()
    qtbot.waitUntil(lambda: not panel.compare.busy(), timeout=10_000)


def save_shot(widget, name: str):
    OUT.mkdir(exist_ok=True)
    widget.repaint()
    image = widget.grab().toImage()
    assert image.save(str(OUT / f"{name}.png"))
    return image


def test_exports_are_listed_with_their_manifest_counts(qtbot, exported):
    infos = {i.name: i for i in list_exports(exported.exports_dir)}
    manifest = json.loads((exported.exports_dir / "all-llava" / "manifest.json").read_text())
    llava = infos["all-llava"]
    assert llava.trainable and llava.records == manifest["counts"]["records"]
    assert llava.splits["val"] == manifest["counts"]["splits"]["val"]["records"]
    assert not infos["all-trl"].trainable and "llava or sharegpt" in infos["all-trl"].problem
    panel = make_panel(qtbot, exported)
    texts = [panel.form.exports.item(i).text() for i in range(panel.form.exports.count())]
    assert any(f"{llava.records} records" in t and t.startswith("all-llava") for t in texts)
    assert panel.form.export_path() == str(exported.exports_dir / "all-llava")
    trl_row = next(i for i, t in enumerate(texts) if t.startswith("all-trl"))
    panel.form.exports.setCurrentRow(trl_row)  # greyed out: cannot become the choice
    assert panel.form.export_path() != str(exported.exports_dir / "all-trl")


def test_presets_fill_the_form_and_follow_a_local_model(qtbot, project, tmp_path):
    panel = make_panel(qtbot, project)
    form = panel.form
    presets = yaml.safe_load((resources_dir() / "train_presets.yaml").read_text())["presets"]
    assert {p["name"] for p in presets} == {"llava", "qwen2_vl", "idefics3"}
    form.select_preset("qwen2_vl")
    qwen = next(p for p in presets if p["name"] == "qwen2_vl")["settings"]
    assert (
        form.lora_r.value() == qwen["lora"]["r"] and form.batch_size.value() == qwen["batch_size"]
    )
    assert form.model.currentText() == "Qwen/Qwen2-VL-2B-Instruct"
    local = tmp_path / "my-smolvlm"
    local.mkdir()
    (local / "config.json").write_text(json.dumps({"model_type": "smolvlm"}))
    form.model.setEditText(str(local))
    form.model.lineEdit().editingFinished.emit()
    assert form.current_preset().name == "idefics3"
    assert form.model.currentText() == str(local)  # a chosen folder survives the preset switch


def test_env_check_reports_versions_and_cuda(qtbot, project):
    panel = make_panel(qtbot, project)
    form = panel.form
    with qtbot.waitSignal(form.env_check.done, timeout=120_000) as got:
        form.check_env()
    info = got.args[0]
    assert info["torch"] == version("torch") and info["peft"] == version("peft")
    assert info["transformers"] == version("transformers") and info["trainer"] is True
    assert info["cuda"] is False  # this machine has no GPU
    assert f"torch {version('torch')}" in form.env_label.text()
    assert "CUDA: not available" in form.env_label.text()
    form.python.setText(str(project.root / "no-such-python"))
    with qtbot.waitSignal(form.env_check.failed, timeout=30_000):
        form.check_env()
    assert "cannot start" in form.env_label.text()


def test_bad_settings_are_refused_before_anything_runs(qtbot, project, tiny_llava):
    panel = make_panel(qtbot, project)
    (project.exports_dir / "x").mkdir()
    (project.exports_dir / "x" / "manifest.json").write_text('{"format": "llava"}')
    panel.form.refresh_exports()
    configure(panel, tiny_llava, 5, extra="eval: [1, 2")
    assert panel.start() is None
    assert "not valid YAML" in panel.message.text()
    panel.form.learning_rate.setText("fast")
    panel.form.extra.clear()
    assert panel.start() is None and "Learning rate" in panel.message.text()
    assert list(project.runs_dir.iterdir()) == []
    panel.form.learning_rate.setText("1e-3")
    panel.form.python.setText(str(project.root / "no-such-python"))
    assert panel.start() is not None
    qtbot.waitUntil(lambda: "cannot start" in panel.message.text(), timeout=10_000)
    assert list(project.runs_dir.iterdir()) == []  # nothing ran: the folder went again


def test_trainer_config_errors_show_in_the_log(qtbot, exported, tiny_llava):
    panel = make_panel(qtbot, exported)
    configure(panel, tiny_llava, 5, extra="learning_rat: 0.1\n")
    run = panel.start()
    wait_finished(qtbot, panel, timeout=60_000)
    log = panel.monitor.log.toPlainText()
    assert "unknown key 'learning_rat' (did you mean 'learning_rate'?)" in log
    assert "exit code 2" in panel.message.text()
    assert (run / RUN_CONFIG).is_file()
    # It ended before writing any status: failed, not "not started" or "waiting for step 1".
    assert panel.monitor.state == "failed"
    assert panel.monitor.progress.format() == "failed before step 1"
    assert not panel.resume_button.isEnabled() and panel.start_button.isEnabled()
    assert "before step 1" in panel.resume_button.toolTip()


def test_a_run_that_failed_before_step_1_says_failed_and_offers_no_resume(
    qtbot, exported, tiny_llava, tmp_path
):
    panel = make_panel(qtbot, exported)
    configure(panel, tiny_llava, 5)
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    panel.form.model.setEditText(str(empty))  # the trainer gets as far as loading it
    run = panel.start()
    wait_finished(qtbot, panel, timeout=120_000)
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "failed" and status.get("error")
    qtbot.waitUntil(lambda: panel.monitor.state == "failed", timeout=10_000)
    assert panel.monitor.progress.format() == "failed before step 1"
    assert not panel.resume_button.isEnabled()
    assert "Error:" in panel.monitor.eval_label.text()
    # Opened again later (a new window), the run still reads as failed, with no Resume.
    panel.close()
    again = make_panel(qtbot, exported)
    assert again.monitor.run_dir == run and again.monitor.state == "failed"
    assert again.monitor.progress.format() == "failed before step 1"
    assert not again.resume_button.isEnabled()
    save_shot(again, "training_failed_before_step_1")


@pytest.mark.train
@pytest.mark.slow
def test_a_run_from_the_panel_updates_curves_and_compare(qtbot, exported, tiny_llava):
    panel = make_panel(qtbot, exported)
    configure(panel, tiny_llava, 120)
    assert panel.form.current_preset().name == "llava"  # picked from the model's config.json
    seen: list[int] = []
    panel.monitor.timer.timeout.connect(lambda: seen.append(panel.monitor.loss_chart.point_count()))
    run = panel.start()
    assert run is not None and run.parent == exported.runs_dir
    assert not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: 0 < panel.monitor.loss_chart.point_count(), timeout=120_000)
    save_shot(panel, "training_panel_running")
    wait_finished(qtbot, panel)

    assert panel.monitor.state == "done", panel.monitor.log.toPlainText()[-3000:]
    losses = losses_by_step(run)
    assert sorted(losses) == list(range(1, 121))
    assert panel.monitor.loss_chart.point_count() == 120
    assert panel.monitor.lr_chart.point_count() == 120
    assert any(0 < n < 120 for n in seen), seen  # the curve grew while the child trained
    values = panel.monitor.values
    assert values["loss"].text() == f"{losses[120]:.4f}"
    last = events(run, "train")[-1]
    assert values["tokens_per_s"].text() == f"{last['tokens_per_s']:,.0f}"
    assert values["eta"].text() == "done" and values["gpu"].text() == "— (CPU)"
    ev = json.loads((run / "eval.json").read_text())
    after = ev["after"]["overall"]["accuracy"]
    assert f"after {after:.1%}" in panel.monitor.eval_label.text()
    log = panel.monitor.log.toPlainText()
    assert "LoRA on" in log and "trainer exited, exit code 0" in log
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert cfg["output_dir"] == str(run) and cfg["lora"]["r"] == 8
    assert (cfg["learning_rate"], cfg["lr_scheduler"], cfg["warmup_ratio"]) == (0.01, "constant", 0)
    assert cfg["gradient_checkpointing"] is False and cfg["eval"]["max_items"] == 4

    image = save_shot(panel, "training_panel")
    blue = QColor("#2f6fb0")
    chart = panel.monitor.loss_chart
    origin = chart.mapTo(panel, chart.rect().center())
    assert any(  # the loss line is painted inside its chart
        image.pixelColor(origin.x() + dx, origin.y() + dy) == blue
        for dx in range(-150, 150)
        for dy in range(-80, 80)
    )

    # A second run, then both side by side.
    panel.form.run_name.setText("low lr")
    panel.form.learning_rate.setText("0.003")
    panel.form.max_steps.setValue(40)
    second = panel.start()
    assert second.name.startswith("low-lr-")
    wait_finished(qtbot, panel)
    assert panel.monitor.state == "done"
    panel.compare.refresh()
    qtbot.waitUntil(lambda: panel.compare.table.rowCount() == 2 and not panel.compare.busy())
    panel.tabs.setCurrentWidget(panel.compare)
    table = panel.compare.table
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert table.item(rows[run.name], 4).text() == f"{losses[120]:.4f}"
    assert table.item(rows[run.name], 6).text() == f"{after:.1%}"
    assert table.item(rows[second.name], 3).text() == "40 / 40"
    assert rows[second.name] == 0  # newest first
    assert {r.name for r in panel.compare.selected_runs()} == {run.name, second.name}
    assert panel.compare.chart.point_count() == 160  # both loss curves, overlaid
    save_shot(panel, "training_panel_compare")


@pytest.mark.train
@pytest.mark.slow
def test_stop_leaves_an_interrupted_run_that_resumes(qtbot, exported, tiny_llava):
    panel = make_panel(qtbot, exported)
    configure(panel, tiny_llava, 200)
    run = panel.start()
    qtbot.waitUntil(lambda: panel.monitor.metrics.checkpoints >= 1, timeout=120_000)
    panel.stop()
    wait_finished(qtbot, panel, timeout=30_000)
    assert "trainer stopped" in panel.monitor.log.toPlainText()
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "running"  # as a killed process leaves it
    assert panel.monitor.state == "interrupted" and panel.resume_button.isEnabled()
    stopped_at = max(losses_by_step(run))
    assert stopped_at < 200

    # A new window over the same project finds the run interrupted and resumes it.
    panel.close()
    again = make_panel(qtbot, exported)
    assert again.monitor.run_dir == run and again.monitor.state == "interrupted"
    assert again.resume_button.isEnabled() and not again.stop_button.isEnabled()
    again.resume_button.click()
    qtbot.waitUntil(lambda: again.process.running() or again.monitor.state == "done", timeout=5000)
    wait_finished(qtbot, again)
    assert again.monitor.state == "done", again.monitor.log.toPlainText()[-3000:]
    resumed = events(run, "resume")
    assert len(resumed) == 1 and resumed[0]["step"] <= stopped_at
    assert sorted(losses_by_step(run)) == list(range(1, 201))
    assert again.monitor.loss_chart.point_count() == 200
    assert not again.resume_button.isEnabled()


def test_panel_registers_and_its_child_env_leaves_the_bundle_out(qtbot, project, monkeypatch):
    import desktop.panels as panels
    from desktop.workers.trainer_process import trainer_env

    assert "desktop.views.training_panel" in panels.PANEL_MODULES
    panels.load_panel_modules()
    spec = panels.PANELS["training"]
    assert spec.area == "tab" and spec.title == "Training"

    class Window(QWidget):
        pass

    window = Window()
    window.project = project
    qtbot.addWidget(window)
    widget = spec.factory(window)
    assert widget.project is project and widget.parent() is window

    bundle = project.root / "bundle"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    base = {
        "LD_LIBRARY_PATH": f"{bundle}{os.pathsep}/usr/lib/cuda",
        "LD_LIBRARY_PATH_ORIG": "/usr/lib/cuda",
        "QT_PLUGIN_PATH": str(bundle / "plugins"),
        "PATH": "/usr/bin",
    }
    env = trainer_env(base)
    assert env == {"LD_LIBRARY_PATH": "/usr/lib/cuda", "PATH": "/usr/bin", "PYTHONUNBUFFERED": "1"}
    sources = bundle / "python-src"  # the plain sources the packaged app carries for this
    (sources / "trainer").mkdir(parents=True)
    (sources / "trainer" / "__init__.py").write_text("")
    assert trainer_env(base)["PYTHONPATH"] == str(sources)
    monkeypatch.delattr(sys, "frozen")
    assert trainer_env({})["PYTHONPATH"] == str(
        Path(importlib.import_module("desktop").__file__).parents[1]
    )
