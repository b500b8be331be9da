"""The bundled demo project: licensed photos, built once, reused afterwards."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from core.cli import main
from core.demo import demo_dir, demo_images, ensure_demo_project, is_demo_ready
from core.domains import default_domains, list_domains
from core.errors import ProjectLocked
from core.paths import demo_project_dir
from core.project import Project
from core.store.demo import image_provenance
from core.store.stats import library_stats
from tests.conftest import REPO

FREE_LICENSES = {"Public domain", "CC0-1.0", "No known copyright restrictions"}


def test_manifest_lists_small_permissive_real_photos():
    images = demo_images()
    assert 5 <= len(images) <= 8
    defaults = {d.name for d in default_domains()}
    licenses_md = (demo_dir() / "LICENSES.md").read_text(encoding="utf-8")
    for image in images:
        assert image.license in FREE_LICENSES
        assert image.domain in defaults
        assert image.path.stat().st_size < 300 * 1024
        assert image.path.parent.name == image.domain
        assert image.source.startswith("http") and image.attribution
        assert f"{image.domain}/{image.path.name}" in licenses_md
        with Image.open(image.path) as im:
            im.load()  # full decode: a real image, not a placeholder
            assert min(im.size) >= 150
    assert len({i.sha256 for i in images}) == len(images)
    # every image file in the folder is accounted for in the manifest
    on_disk = {p for p in (demo_dir() / "images").rglob("*") if p.is_file()}
    assert on_disk == {i.path for i in images}


def test_ensure_demo_project_builds_once_and_reuses(tmp_path):
    root = ensure_demo_project(tmp_path / "demo")
    assert root == (tmp_path / "demo").resolve()
    images = demo_images()
    with Project.open(root) as project:
        stats = library_stats(project.db)
        assert stats["images"] == len(images) and stats["rejected"] == 0
        assert len(list_domains(project.db)) == 24
        for image in images:
            prov = image_provenance(project.db, image.sha256)
            assert prov == {
                "domain": image.domain,
                "title": image.title,
                "license": image.license,
                "attribution": image.attribution,
                "source_url": image.source,
            }
        copies = list(project.media_dir.rglob("*.*"))
        assert len(copies) == len(images)
    assert is_demo_ready(root)

    assert ensure_demo_project(root) == root
    with Project.open(root) as project:
        again = library_stats(project.db)
    assert again == stats  # nothing imported twice, not even as a duplicate source


def test_interrupted_setup_is_completed(tmp_path):
    Project.create(tmp_path / "demo").close()  # as if the app died right after creating it
    assert not is_demo_ready(tmp_path / "demo")
    root = ensure_demo_project(tmp_path / "demo")
    assert is_demo_ready(root)
    with Project.open(root) as project:
        assert library_stats(project.db)["images"] == len(demo_images())


def test_demo_open_in_another_process_is_a_clear_error(tmp_path):
    root = ensure_demo_project(tmp_path / "demo")
    code = (
        "import sys; from core.project import Project; p = Project.open(sys.argv[1]); "
        "print('ready', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(root)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(ProjectLocked, match=f"pid {holder.pid}"):
            ensure_demo_project(root)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_cli_demo_uses_the_user_folder(studio_home, capsys):
    assert main(["demo", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["path"] == str(demo_project_dir()) and first["created"] is True
    assert str(studio_home) in first["path"]
    assert first["stats"]["images"] == len(demo_images())
    assert set(first["stats"]["by_domain"]) == {i.domain for i in demo_images()}
    assert main(["demo", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["created"] is False and second["stats"] == first["stats"]
