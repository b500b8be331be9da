"""The packaged app (build.spec, onedir), built for real and run as a user would run it.

Each run gets an environment without this venv, an offline Hugging Face hub, and a proxy
recorder as every HTTP(S) proxy: any attempt to reach the network through the usual client
libraries lands there and fails the test.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from PIL import Image, ImageStat

from core import __version__
from tests.package.conftest import REPO, app_env

pytestmark = [pytest.mark.package, pytest.mark.slow, pytest.mark.timeout(1800)]

USER_LIBS = "/opt/user-libs"  # a user's own LD_LIBRARY_PATH: children must get it back as is
MAIN_WINDOW_SIZE = (1440, 900)  # MainWindow's default size (desktop/main_window.py)
TRAINING_STACK = ("torch", "transformers", "peft", "accelerate", "bitsandbytes", "triton")
CUDA_LIBS = ("libcuda", "libcudart", "libcublas", "libcudnn", "libnccl", "libnvrtc")
PYZ_TOC = REPO / "build" / "package-test" / "work" / "build" / "PYZ-00.toc"
MAX_SIZE_MB = 900  # ~550 MB today; torch or a CUDA library slipping in would blow past this


def own_modules(package: str) -> set[str]:
    out = set()
    for path in (REPO / package).rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        out.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def run_app(bundle: Path, args: list[str], env: dict, cwd: Path, timeout: float = 300):
    return subprocess.run(
        [str(bundle / "mmstudio"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tree(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*") if not p.is_symlink()}


def size_mb(folder: Path) -> float:
    return (
        sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
        / 2**20
    )


def test_bundle_carries_the_app_and_leaves_training_out(bundle):
    internal = bundle / "_internal"
    for path in (
        "llama_cpp/lib/libllama.so",
        "llama_cpp/lib/libmtmd.so",
        "resources/demo/images.yaml",
        "resources/icons/mmstudio.png",
        "core/store/migrations/001_initial.sql",
        "python-src/trainer/__main__.py",
        "python-src/core/export/readers.py",
    ):
        assert (internal / path).is_file(), f"{path} is missing from the bundle"
    present = [n for n in TRAINING_STACK if (internal / n).exists()]
    assert not present, f"the training stack is in the bundle: {present}"
    # Pure-Python modules live in the PYZ archive; its table of contents names every one.
    pyz = {entry[0] for entry in ast.literal_eval(PYZ_TOC.read_text())[1]}
    stack = sorted(m for m in pyz if m.split(".")[0] in TRAINING_STACK)
    assert not stack, f"the training stack is in the PYZ: {stack[:10]}"
    ours = {m for package in ("core", "desktop") for m in own_modules(package)}
    assert not ours - pyz, f"modules of ours missing from the bundle: {sorted(ours - pyz)}"
    cuda = [p.name for p in internal.rglob("*.so*") if p.name.startswith(CUDA_LIBS)]
    assert not cuda, f"CUDA libraries in the bundle: {cuda}"
    size = size_mb(bundle)
    print(f"\nbundle {bundle.name}: {size:.0f} MiB")
    assert size < MAX_SIZE_MB


def test_bundle_reports_the_source_version(bundle, tmp_path):
    out = run_app(bundle, ["--version"], app_env(tmp_path), tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"mmstudio {__version__}"


def test_bundle_runs_only_the_modules_it_carries(bundle, tmp_path):
    out = run_app(bundle, ["-m", "trainer", "x.yaml"], app_env(tmp_path), tmp_path, timeout=60)
    assert out.returncode == 2
    assert "'trainer' is not part of this app" in out.stderr


def test_studio_opens_the_demo_offline_and_shows_its_window(bundle, tmp_path, proxy_recorder):
    home, shot = tmp_path / "studio-home", tmp_path / "bundle-demo.png"
    env = app_env(
        tmp_path, MMSTUDIO_HOME=str(home), MMSTUDIO_SCREENSHOT=str(shot), **proxy_recorder.env()
    )
    before = tree(bundle)
    out = run_app(bundle, [], env, tmp_path)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "screenshot saved" in out.stderr and "MMInstruct Studio" in out.stderr, out.stderr
    assert proxy_recorder.seen == [], "the app tried to reach the network"
    # The demo (imported through the bundle's own worker processes) lives in the user folder;
    # the app folder is left exactly as installed.
    assert (home / "demo-project" / "project.duckdb").is_file()
    assert tree(bundle) == before, "the app wrote inside its own folder"

    image = Image.open(shot)
    assert image.size == MAIN_WINDOW_SIZE
    rgb = image.convert("RGB")
    assert ImageStat.Stat(rgb.convert("L")).stddev[0] > 25, "a flat, empty-looking window"
    assert len(rgb.getcolors(maxcolors=1 << 20) or []) > 500, "too few colours for photos"
    shutil.copy(shot, REPO / "tests" / "screenshots" / "13_bundle_demo.png")


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory):
    from tests.gguf_models import write_tiny_vlm

    return write_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm"))


def _follow(proc: subprocess.Popen) -> dict[int, tuple[list[str], dict]]:
    """Command line and environment of every child `proc` starts, read again on each poll
    while it lives (the last reading is the settled one), until `proc` ends."""
    seen: dict[int, tuple[list[str], dict]] = {}
    parent = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            children = parent.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for child in children:
            try:
                seen[child.pid] = (child.cmdline(), child.environ())
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        time.sleep(0.05)
    return seen


def test_bundle_serves_a_local_model_from_inside_itself(bundle, tmp_path, proxy_recorder, tiny_vlm):
    gguf, mmproj = tiny_vlm
    xdg = tmp_path / "xdg-data"
    # No NO_PROXY here on purpose: the managed server's health check and client must reach
    # 127.0.0.1 directly even with every proxy variable set; the recorder catches any attempt.
    env = app_env(
        tmp_path,
        XDG_DATA_HOME=str(xdg),
        LD_LIBRARY_PATH=USER_LIBS,
        **proxy_recorder.env(),
    )
    add = ["backend", "add", "tiny", "--kind", "llama_cpp", "--gguf", str(gguf)]
    add += ["--mmproj", str(mmproj), "--threads", "1", "--n-ctx", "512", "--json"]
    out = run_app(bundle, add, env, tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    user_dir = xdg / "mmstudio"  # platformdirs' user data folder, as the app resolved it
    assert (user_dir / "backends.yaml").is_file()

    proc = subprocess.Popen(
        [str(bundle / "mmstudio"), "backend", "test", "tiny", "--json"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    children = _follow(proc)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-4000:]
    result = json.loads(stdout)
    assert result["ok"] and result["text"]["ok"] and result["image"]["ok"], result
    assert result["text"]["reply"].strip() and result["text"]["completion_tokens"] > 0
    assert proxy_recorder.seen == [], "the app tried to reach the network"
    log = (user_dir / "logs" / "llama-server-tiny.log").read_text(errors="replace")
    assert "Uvicorn running on http://127.0.0.1:" in log

    servers = {
        pid: (cmd, cenv)
        for pid, (cmd, cenv) in children.items()
        if cmd[:1] == [str(bundle / "mmstudio")] and "-m" in cmd
    }
    assert servers, f"no server child started from the bundle's executable: {children}"
    for pid, (_cmd, cenv) in servers.items():
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
        # The child is this same app: its bootloader re-executes itself with the bundle's paths
        # and keeps what it was given under *_ORIG. So _ORIG is what our process passed on.
        assert cenv.get("LD_LIBRARY_PATH_ORIG") == USER_LIBS, cenv
        for var in ("QT_PLUGIN_PATH", "QML2_IMPORT_PATH", "PYTHONPATH", "PYTHONHOME"):
            assert str(bundle) not in cenv.get(var, ""), f"{var} leaked: {cenv.get(var)}"


def test_a_foreign_child_gets_the_users_environment(bundle, tmp_path):
    """The trainer runs in the user's own Python: nothing of the bundle may reach it."""
    dump = tmp_path / "child-env"
    fake_python = tmp_path / "python"
    fake_python.write_text(f"#!/bin/sh\nexec env -0 > '{dump}'\n")
    fake_python.chmod(fake_python.stat().st_mode | stat.S_IXUSR)
    config = tmp_path / "run.yaml"
    config.write_text("output_dir: run\n")
    env = app_env(tmp_path, MMSTUDIO_HOME=str(tmp_path / "home"), LD_LIBRARY_PATH=USER_LIBS)
    args = ["train", str(config), "--python", str(fake_python), "--check"]
    out = run_app(bundle, args, env, tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    child = dict(e.partition("=")[::2] for e in dump.read_text().split("\0") if e)
    assert child.get("LD_LIBRARY_PATH") == USER_LIBS
    assert not [k for k in child if k.startswith(("_PYI_", "_MEIPASS"))]
    # Plain sources for the trainer (python-src) are the one part of the bundle it may use.
    allowed = str(bundle / "_internal" / "python-src")
    for key, value in child.items():
        for entry in value.split(os.pathsep):
            assert str(bundle) not in entry or entry.startswith(allowed), f"{key}={value}"
