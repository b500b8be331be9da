"""Push to the Hugging Face Hub against a loopback fake of its upload endpoints: the files
arrive byte for byte, the card passes the Hub's YAML check, a stopped push resumes without
sending its large files again, the token is written nowhere, offline fails at once."""

from __future__ import annotations

import json
import socket

import pytest

from core.cli import main
from core.export.hub import HubError, push_export
from core.export.writer import ExportOptions, export_project
from tests.export.fake_hub_upload import FakeUploadHub
from tests.export.helpers import all_files, build_project

TOKEN = "hf_TestTokenNeverWritten0123456789"


@pytest.fixture
def hub_env(monkeypatch, tmp_path):
    # Xet storage needs the Hub's own servers; the large-file protocol is what a fake can be.
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    hub = FakeUploadHub(TOKEN).start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    return hub


def _grep_token(*folders):
    for folder in folders:
        for f in folder.rglob("*"):
            if f.is_file():
                assert TOKEN.encode() not in f.read_bytes(), f


def test_export_push_to_hub_from_the_cli(hub_env, tmp_path, capsys):
    p = build_project(tmp_path / "p")
    p.close()
    out = tmp_path / "hf"
    args = ["export", str(tmp_path / "p"), "--format", "hf", "--out", str(out)]
    assert (
        main([*args, "--val-fraction", "0.25", "--push-to-hub", "me/mm", "--private", "--json"])
        == 0
    )
    captured = capsys.readouterr()
    got = json.loads(captured.out)["hub"]
    assert got["repo"] == "me/mm" and got["private"] is True and got["files"] == 6
    repo = hub_env.repos["me/mm"]
    assert repo["private"] is True and repo["type"] == "dataset"
    assert repo["files"] == all_files(out)  # every file, byte for byte
    # the card passed the Hub's YAML check: license other with its name and link
    assert "license_name: mixed-image-licenses" in hub_env.cards[-1]
    assert TOKEN not in captured.out + captured.err
    _grep_token(out, tmp_path / "p", tmp_path / "hf-home")
    assert hub_env.auth_seen <= {f"Bearer {TOKEN}", ""}  # "" only on the storage PUTs


def test_a_stopped_push_resumes_without_resending(hub_env, tmp_path, capsys):
    with build_project(tmp_path / "p") as p:
        export_project(p, tmp_path / "hf", ExportOptions("hf"))
    hub_env.refuse_commits = 1
    assert main(["hub-push", str(tmp_path / "hf"), "me/mm"]) == 1
    err = capsys.readouterr().err
    assert "hub: upload 1/5 data/train-00000-of-00001.parquet" in err and "hub: commit" in err
    assert "commit refused" in err or "422" in err
    assert f"mmstudio hub-push {tmp_path / 'hf'} me/mm" in err and TOKEN not in err
    sent = list(hub_env.puts)
    assert sent and not hub_env.repos["me/mm"]["files"]
    assert main(["hub-push", str(tmp_path / "hf"), "me/mm", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["files"] == 5
    assert hub_env.puts == sent  # the large files already there were not sent again
    assert hub_env.repos["me/mm"]["files"] == all_files(tmp_path / "hf")


def test_clear_errors_offline_no_token_wrong_format(hub_env, tmp_path, monkeypatch, capsys):
    with build_project(tmp_path / "p") as p:
        export_project(p, tmp_path / "hf", ExportOptions("hf"))
        export_project(p, tmp_path / "llava", ExportOptions("llava"))
    with pytest.raises(HubError, match="not an HF parquet export"):
        push_export(tmp_path / "llava", "me/x")
    with pytest.raises(HubError, match="dataset id like"):
        push_export(tmp_path / "hf", "not a repo")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError, match="offline"):
        push_export(tmp_path / "hf", "me/x")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("HF_ENDPOINT", dead)
    with pytest.raises(HubError, match="cannot reach the Hugging Face Hub"):
        push_export(tmp_path / "hf", "me/x")
    # the CLI says so before exporting anything
    out = tmp_path / "never"
    args = [
        "export",
        str(tmp_path / "p"),
        "--format",
        "hf",
        "--out",
        str(out),
        "--push-to-hub",
        "me/x",
    ]
    assert main(args) == 1 and "cannot reach" in capsys.readouterr().err and not out.exists()
    monkeypatch.setenv("HF_ENDPOINT", hub_env.url)
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(HubError, match="no Hugging Face token"):
        push_export(tmp_path / "hf", "me/x")
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    with pytest.raises(HubError, match="refused the token"):
        push_export(tmp_path / "hf", "me/x")
    assert main([*args[:-2], "--format", "llava", "--push-to-hub", "me/x"]) == 1
    assert "use --format hf" in capsys.readouterr().err


def test_the_export_dialog_pushes(qtbot, hub_env, tmp_path):
    from desktop.views.export_dialog import ExportDialog

    with build_project(tmp_path / "p") as p:
        dialog = ExportDialog(p)
        qtbot.addWidget(dialog)
        dialog.format.setCurrentIndex(dialog.format.findData("hf"))
        dialog.out.setText(str(tmp_path / "exp"))
        dialog.hub_repo.setText("me/gui")
        with qtbot.waitSignal(dialog.exported, timeout=60000):
            dialog.run_button.click()
        assert dialog.result.hub["repo"] == "me/gui"
        assert "Pushed to" in dialog.status.text()
    assert hub_env.repos["me/gui"]["files"] == all_files(tmp_path / "exp")
