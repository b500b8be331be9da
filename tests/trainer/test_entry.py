"""The entry points: `python -m trainer` errors and checks, and `mmstudio train` wiring."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.trainer.exports import write_llava
from tests.trainer.helpers import write_config
from trainer.__main__ import main

pytestmark = pytest.mark.train


def test_bad_row_stops_the_run_with_a_clear_error(tiny_model, tmp_path, capsys):
    export = write_llava(tmp_path / "export", n=6)
    (export / "images" / "r4.png").unlink()
    cfg = write_config(tmp_path / "c.yaml", tiny_model("llava"), export, tmp_path / "run")
    assert main([str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "error: train.json, record 5 (id 'r4'): image not found" in err
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["state"] == "failed" and "r4" in status["error"]


def test_a_foreign_run_folder_is_left_alone(tiny_model, tmp_path, capsys):
    export = write_llava(tmp_path / "export", n=6)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("model: other\ndata: elsewhere\n")
    cfg = write_config(tmp_path / "c.yaml", tiny_model("llava"), export, run)
    assert main([str(cfg)]) == 2
    assert "holds a run with a different model" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml"]
    assert (run / "config.yaml").read_text() == "model: other\ndata: elsewhere\n"


def test_check_reports_rows_without_loading_a_model(tmp_path, capsys):
    export = write_llava(tmp_path / "export", n=9, val=3)
    cfg = write_config(tmp_path / "c.yaml", tmp_path / "no-model-needed", export, tmp_path / "r")
    assert main([str(cfg), "--check"]) == 0
    assert json.loads(capsys.readouterr().out) == {"rows": 12, "train_rows": 9, "held_out_rows": 3}


def test_cli_registers_train_without_importing_torch():
    code = (
        "import sys, core.cli\n"
        "p = core.cli.build_parser()\n"
        "a = p.parse_args(['train', 'x.yaml', '--json'])\n"
        "assert a.func.__name__ == 'cmd_train'\n"
        "bad = [m for m in ('torch', 'transformers', 'peft') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_train_json_on_a_missing_config(tmp_path):
    from core.cli import main as cli_main

    assert cli_main(["train", str(tmp_path / "nope.yaml")]) == 1
