"""The bundled demo project: real, permissively licensed photos in their domains.

`ensure_demo_project()` builds it once under the user's data folder (or a given path) and
reuses it afterwards. A marker in the project (a hash of resources/demo/images.yaml) records
that set-up finished; an interrupted set-up is simply redone, which is safe because default
domains are added only when missing and the importer skips content it already holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.domains import install_defaults
from core.domains.model import check_name
from core.errors import ProjectError
from core.paths import demo_project_dir, resources_dir
from core.project import DB_NAME, Project
from core.store import demo as store

REQUIRED = ("file", "domain", "title", "source", "license", "attribution")


@dataclass(frozen=True)
class DemoImage:
    path: Path
    domain: str
    title: str
    source: str
    license: str
    attribution: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def demo_dir() -> Path:
    return resources_dir() / "demo"


def demo_images(folder: Path | None = None) -> list[DemoImage]:
    """The demo manifest, checked: every entry complete, every file present."""
    folder = Path(folder or demo_dir())
    manifest = folder / "images.yaml"
    try:
        doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProjectError(f"demo manifest {manifest} cannot be read: {exc}") from None
    out = []
    for n, entry in enumerate((doc or {}).get("images") or [], start=1):
        missing = [k for k in REQUIRED if not (isinstance(entry, dict) and entry.get(k))]
        if missing:
            raise ProjectError(f"{manifest}: image #{n} lacks {', '.join(missing)}")
        path = folder / entry["file"]
        if not path.is_file():
            raise ProjectError(f"{manifest}: image #{n} file {path} is missing")
        out.append(
            DemoImage(
                path=path,
                domain=check_name(entry["domain"]),
                **{k: str(entry[k]) for k in REQUIRED if k not in ("file", "domain")},
            )
        )
    if not out:
        raise ProjectError(f"{manifest}: no images listed")
    return out


def _manifest_digest(folder: Path) -> str:
    return hashlib.sha256((folder / "images.yaml").read_bytes()).hexdigest()[:16]


def ensure_demo_project(path: Path | str | None = None, progress=None) -> Path:
    """Create the demo project (once) and return its folder.

    Default domains and seeds are installed, each photo is imported into its domain, and its
    title, license, attribution and source are stored on the image.
    """
    from core.library.importer import import_paths  # the importer pulls in worker pools

    root = Path(path).expanduser().resolve() if path else demo_project_dir()
    folder = demo_dir()
    digest = _manifest_digest(folder)
    with Project.open_or_create(root) as project:
        if store.demo_marker(project.db) == digest:
            return project.root
        images = demo_images(folder)
        install_defaults(project.db)
        by_domain: dict[str, list[Path]] = {}
        for image in images:
            by_domain.setdefault(image.domain, []).append(image.path)
        for domain, paths in by_domain.items():
            summary = import_paths(project, paths, domain=domain, progress=progress)
            if summary.rejected:
                raise ProjectError(f"demo image(s) rejected on import: {summary.rejected}")
        for image in images:
            changed = store.set_image_provenance(
                project.db,
                image.sha256,
                title=image.title,
                license=image.license,
                attribution=image.attribution,
                source_url=image.source,
            )
            if not changed:
                raise ProjectError(
                    f"demo image {image.path.name} is not in the project after import"
                )
        store.set_demo_marker(project.db, digest)
        return project.root


def is_demo_ready(path: Path | str | None = None) -> bool:
    """Whether the demo project exists and finished set-up (does not create anything)."""
    root = Path(path).expanduser().resolve() if path else demo_project_dir()
    if not (root / DB_NAME).is_file():
        return False
    with Project.open(root) as project:
        return store.demo_marker(project.db) == _manifest_digest(demo_dir())
