"""A project folder: project.duckdb plus content-addressed media, thumbnails, exports, runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from core.errors import ProjectError, StudioError
from core.store import backup, meta
from core.store.db import DEFAULT_MEMORY_LIMIT_MB, Database

DB_NAME = "project.duckdb"
SUBDIRS = ("media", "thumbs", "exports", "runs", "logs")

# Settings a project starts with; stored in the meta table so they travel with the file.
DEFAULT_SETTINGS = {
    "near_duplicate_threshold": 6,  # Hamming distance on 64-bit pHash
    "thumbnail_size": 256,
    "max_image_pixels": 178_956_970,  # Pillow's own default (~179 MP): see docs/import.md
    "storage": "copy",
    "duckdb_memory_limit_mb": DEFAULT_MEMORY_LIMIT_MB,
    **backup.DEFAULTS,  # keep_last, keep_days, budget_mb, interval_min, on_close
}


@dataclass
class Project:
    root: Path
    db: Database

    @property
    def media_dir(self) -> Path:
        return self.root / "media"

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbs"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    # lifecycle -----------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path | str, name: str | None = None) -> Project:
        root = Path(root).expanduser().resolve()
        if (root / DB_NAME).exists():
            raise ProjectError(f"{root} already holds a project")
        if root.exists() and not root.is_dir():
            raise ProjectError(f"{root} exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
        for sub in SUBDIRS:
            (root / sub).mkdir(exist_ok=True)
        db = Database(root / DB_NAME)
        project = cls(root, db)
        with db.tx() as cur:
            meta.init_meta(cur, name or root.name, DEFAULT_SETTINGS)
        return project

    @classmethod
    def open(cls, root: Path | str) -> Project:
        root = Path(root).expanduser().resolve()
        if not (root / DB_NAME).is_file():
            raise ProjectError(
                f"{root} is not a project (no {DB_NAME}); create it with `mmstudio init`"
            )
        for sub in SUBDIRS:
            (root / sub).mkdir(exist_ok=True)
        project = cls(root, Database(root / DB_NAME))
        try:
            project.db.set_memory_limit(project.settings()["duckdb_memory_limit_mb"])
        except BaseException as exc:
            project.__exit__(type(exc), exc, None)  # closes; raises the plain message if any
            raise
        return project

    @classmethod
    def open_or_create(cls, root: Path | str) -> Project:
        root = Path(root).expanduser().resolve()
        return cls.open(root) if (root / DB_NAME).is_file() else cls.create(root)

    def close(self, backup_on_close: bool = True) -> None:
        if backup_on_close and not self.db._closed:
            try:
                backup.on_close(self)
            except (
                StudioError
            ) as exc:  # a full disk must not turn a finished command into a failure
                logging.getLogger("mmstudio").warning("no backup on close: %s", exc)
        self.db.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, etype, exc, tb) -> None:
        # DuckDB finds most damage only when a query reads the bad block: say so plainly.
        from core.store.damage import translate

        better = translate(exc, self.db.path) if exc is not None else None
        self.close(backup_on_close=exc is None)
        if better is not None:
            raise better from None

    # settings ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return meta.project_name(self.db) or self.root.name

    def settings(self) -> dict:
        return dict(DEFAULT_SETTINGS) | meta.read_settings(self.db)

    def update_settings(self, **changes) -> dict:
        unknown = set(changes) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ProjectError(f"unknown project settings: {', '.join(sorted(unknown))}")
        merged = self.settings() | changes
        meta.write_settings(self.db, merged)
        return merged

    def resolve_media(self, storage: str, path: str) -> Path:
        """Absolute path of an image file stored as `storage`/`path` in the images table."""
        return self.root / path if storage == "copy" else Path(path)
