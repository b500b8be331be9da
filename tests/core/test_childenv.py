"""A child started from the frozen app gets no path of the bundle, and the user's own values back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from core.childenv import clean_child_env

SEP = os.pathsep


def test_saved_original_is_restored_and_bundle_paths_dropped(tmp_path):
    bundle = tmp_path / "app" / "_internal"
    bundle.mkdir(parents=True)
    env = {
        "LD_LIBRARY_PATH": f"{bundle}{SEP}/opt/cuda/lib64",
        "LD_LIBRARY_PATH_ORIG": "/opt/cuda/lib64",
        "DYLD_LIBRARY_PATH": f"{bundle / 'lib'}",
        "DYLD_FRAMEWORK_PATH": f"/Library/Frameworks{SEP}{bundle / 'Qt'}",
        "QT_PLUGIN_PATH": str(bundle / "PySide6" / "plugins"),
        "PYTHONHOME": str(bundle),
        "PYTHONPATH": f"{bundle / 'base_library.zip'}{SEP}/home/me/src",
        "PATH": f"{bundle}{SEP}/usr/bin{SEP}/bin",
        "_PYI_APPLICATION_HOME_DIR": str(bundle),
        "_MEIPASS2": str(bundle),
        "HOME": "/home/me",
        "HTTP_PROXY": "http://proxy:3128",
    }
    out = clean_child_env(env, bundle)
    assert out == {
        "LD_LIBRARY_PATH": "/opt/cuda/lib64",
        "DYLD_FRAMEWORK_PATH": "/Library/Frameworks",
        "PYTHONPATH": "/home/me/src",
        "PATH": f"/usr/bin{SEP}/bin",
        "HOME": "/home/me",
        "HTTP_PROXY": "http://proxy:3128",
    }
    assert env["LD_LIBRARY_PATH_ORIG"] == "/opt/cuda/lib64"  # the input is not modified


def test_unset_original_leaves_the_variable_unset(tmp_path):
    bundle = tmp_path / "b"
    env = {"LD_LIBRARY_PATH": str(bundle), "LANG": "C.UTF-8"}
    assert clean_child_env(env, bundle) == {"LANG": "C.UTF-8"}


def test_an_original_is_not_applied_to_a_variable_the_bundle_did_not_touch(tmp_path):
    env = {"LD_LIBRARY_PATH": "/usr/local/lib", "LD_LIBRARY_PATH_ORIG": "/old"}
    assert clean_child_env(env, tmp_path / "b") == env


def test_sibling_folder_with_a_common_prefix_is_kept(tmp_path):
    bundle = tmp_path / "app"
    env = {"LD_LIBRARY_PATH": f"{tmp_path / 'app2'}{SEP}{bundle / 'lib'}"}
    assert clean_child_env(env, bundle) == {"LD_LIBRARY_PATH": str(tmp_path / "app2")}


def test_from_a_source_checkout_nothing_changes(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    env = {"LD_LIBRARY_PATH": "/x", "LD_LIBRARY_PATH_ORIG": "/y", "_PYI_ARCHIVE_FILE": "/z"}
    assert clean_child_env(env) == env


def test_frozen_default_reads_meipass(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    env = {"QT_PLUGIN_PATH": str(tmp_path / "plugins"), "LANG": "C"}
    assert clean_child_env(env) == {"LANG": "C"}


def test_a_real_child_sees_the_cleaned_environment(tmp_path):
    bundle = tmp_path / "bundle"
    (bundle / "lib").mkdir(parents=True)
    env = dict(os.environ)
    env.update(
        LD_LIBRARY_PATH=f"{bundle / 'lib'}{SEP}{tmp_path / 'user-lib'}",
        LD_LIBRARY_PATH_ORIG=str(tmp_path / "user-lib"),
        QT_PLUGIN_PATH=str(bundle / "plugins"),
    )
    code = "import json, os; print(json.dumps(dict(os.environ)))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=clean_child_env(env, bundle),
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(out.stdout)
    assert seen["LD_LIBRARY_PATH"] == str(tmp_path / "user-lib")
    assert "LD_LIBRARY_PATH_ORIG" not in seen and "QT_PLUGIN_PATH" not in seen
    assert not [k for k, v in seen.items() if str(bundle) in v]
