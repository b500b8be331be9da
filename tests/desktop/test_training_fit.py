"""The Training tab on the machine it runs on: the default base model fits (no 7B default on a
CPU-only machine), the memory need is shown, torch stays out of the app; and a run that failed
before step 1 says so, with Resume off."""

from __future__ import annotations

import subprocess
import sys

import pytest

from desktop.models.machine import (
    Machine,
    default_choice,
    detect_machine,
    from_env_check,
    memory_need_gb,
    model_fit,
    params_from_name,
)
from desktop.models.train_setup import load_presets
from tests.conftest import REPO

pytestmark = pytest.mark.gui

CPU_ONLY = Machine("cpu", (), None, ram_gb=16.0)
BIG_GPU = Machine("cuda", ("NVIDIA H200",), 141.0, ram_gb=128.0, checked=True)


def test_a_gpu_is_found_from_the_driver_files_without_torch(tmp_path):
    gpu = tmp_path / "driver" / "nvidia" / "gpus" / "0000:01:00.0"
    gpu.mkdir(parents=True)
    (gpu / "information").write_text("Model: \t\t NVIDIA H200\nIRQ: 42\n")
    found = detect_machine(proc=tmp_path)
    assert found.accelerator == "cuda" and found.gpus == ("NVIDIA H200",)
    assert found.gpu_memory_gb is None and not found.checked  # the env check tells the size
    if sys.platform.startswith("linux"):
        bare = detect_machine(proc=tmp_path / "nothing")
        assert bare.accelerator == "cpu" and bare.ram_gb and bare.ram_gb > 0.1
    info = {"torch": "2.5", "cuda": True, "devices": ["NVIDIA H200"], "devices_memory_gb": [143.8]}
    checked = from_env_check(info, found)
    assert checked.checked and checked.memory_gb == 143.8
    assert from_env_check({"torch": None}, found) == found  # no torch there: nothing learnt
    assert from_env_check({"torch": "2.5", "cuda": False}, found).accelerator == "cpu"


def test_the_app_looks_for_a_gpu_without_importing_torch():
    code = (
        "import sys\n"
        "from desktop.views.train_form import TrainForm\n"
        "from desktop.models.machine import detect_machine\n"
        "detect_machine()\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_model_sizes_come_from_the_presets_or_the_name():
    assert params_from_name("HuggingFaceTB/SmolVLM-256M-Instruct") == pytest.approx(0.256)
    assert params_from_name("llava-hf/llava-1.5-7b-hf") == 7
    assert params_from_name("Qwen/Qwen2.5-VL-3B-Instruct") == 3
    assert params_from_name("/models/my-smolvlm") is None
    presets = load_presets()
    for preset in presets:  # every suggestion has its size, so every memory need is known
        assert set(preset.sizes) == set(preset.models), preset.name
    # A 7B model needs more than a 24 GB card on the CPU's fp32, less in bf16 on a GPU.
    assert memory_need_gb(7.06, "cuda") < 24 < memory_need_gb(7.06, "cpu")
    assert memory_need_gb(7.06, "cuda", qlora=True) < memory_need_gb(7.06, "cuda") / 2
    assert model_fit(7.06, CPU_ONLY).reason == "too_big"
    assert model_fit(2.2, Machine("cpu", ram_gb=64.0)).reason == "slow_on_cpu"
    assert model_fit(0.256, CPU_ONLY).fits
    assert model_fit(None, CPU_ONLY).reason == "unknown"


def test_default_choice_follows_the_machine():
    presets = load_presets()
    preset, model = default_choice(presets, CPU_ONLY)
    assert (preset.name, model) == ("idefics3", "HuggingFaceTB/SmolVLM-256M-Instruct")
    preset, model = default_choice(presets, BIG_GPU)
    assert (preset.name, model) == ("llava", presets[0].models[0])
    small_gpu = Machine("cuda", ("GTX 1050",), 4.0, ram_gb=16.0, checked=True)
    assert default_choice(presets, small_gpu)[0].name == "idefics3"


def test_cpu_only_training_tab_opens_on_the_smallest_preset_and_warns_on_7b(qtbot, project):
    from desktop.views.training_panel import TrainingPanel

    panel = TrainingPanel(project, machine=CPU_ONLY)
    qtbot.addWidget(panel)
    form = panel.form
    assert form.current_preset().name == "idefics3"
    assert form.model.currentText() == "HuggingFaceTB/SmolVLM-256M-Instruct"
    note = form.fit_note
    assert note.fit.fits and "memory (CPU only)" in note.label.text()
    assert f"{memory_need_gb(0.256, 'cpu'):.1f} GB" in note.label.text()
    assert note.button.isHidden()

    form.select_preset("llava")  # the 7B preset, chosen by hand: said plainly, with a way out
    assert form.model.currentText() == "llava-hf/llava-1.5-7b-hf"
    assert not note.fit.fits
    text = note.label.text()
    assert "this machine has 16 GB" in text and "7.1B weights" in text
    assert "SmolVLM-256M-Instruct" in text and "Idefics3 / SmolVLM" in text
    assert not note.button.isHidden()
    note.button.click()
    assert form.current_preset().name == "idefics3" and note.fit.fits
    assert form.model.currentText() == "HuggingFaceTB/SmolVLM-256M-Instruct"
    assert form.settings()["model"] == "HuggingFaceTB/SmolVLM-256M-Instruct"

    form.model.setEditText("someone/unknown-vlm")  # a size nobody knows: no false alarm
    assert note.fit.reason == "unknown" and note.button.isHidden()


def test_a_big_gpu_keeps_the_first_preset_and_the_env_check_refines_the_machine(qtbot, project):
    from desktop.views.training_panel import TrainingPanel

    panel = TrainingPanel(project, machine=Machine("cuda", ("NVIDIA H200",), None, 64.0))
    qtbot.addWidget(panel)
    form = panel.form
    assert form.current_preset().name == "llava" and form.fit_note.fit.fits
    assert "GPU memory" in form.fit_note.label.text()
    # The trainer's Python (torch) reports a small card: the same model is now too big.
    form._env_done(
        {"python": "3.11", "torch": "2.5", "transformers": "4", "peft": "0.1", "trainer": True,
         "cuda": True, "devices": ["GTX 1050"], "devices_memory_gb": [4.0]}
    )  # fmt: skip
    assert form.machine.gpu_memory_gb == 4.0 and not form.fit_note.fit.fits
    assert "this machine has 4 GB" in form.fit_note.label.text()
    form.qlora.setChecked(True)  # 4-bit weights: 7B still needs more than 4 GB
    assert not form.fit_note.fit.fits


def test_preset_notes_are_chinese_in_the_chinese_interface(qtbot, project):
    from desktop import strings
    from desktop.views.training_panel import TrainingPanel

    presets = load_presets()
    assert all(p.notes.get("zh") for p in presets)
    try:
        strings.set_language("zh")
        panel = TrainingPanel(project, machine=CPU_ONLY)
        qtbot.addWidget(panel)
        for preset in presets:
            panel.form.select_preset(preset.name)
            assert panel.form.preset_note.text() == preset.notes["zh"] != preset.note
        assert "约需" in panel.form.fit_note.label.text()
    finally:
        strings.set_language("en")
