"""Deleting images to the trash, restoring them, emptying the trash (the DB part is
core.store.trash; this adds the backup taken first and the media files removed last).

Media are content-addressed (`media/ab/<sha256>.<ext>`), so a deleted image's file stays on
disk while it is in the trash and a restore needs nothing but rows. Emptying removes the copied
files and thumbnails no other image uses; a `reference` image's original is never touched.
"""

from __future__ import annotations

from pathlib import Path

from core.store import trash as store
from core.store.backup import snapshot
from core.store.bulk import Selection
from core.store.trash import PurgedFile, TrashBatch, TrashError

__all__ = ["TrashBatch", "TrashError", "delete_images", "empty", "list_trash", "restore"]


def delete_images(
    project,
    selection: Selection,
    *,
    author: str | None = None,
    reason: str = "delete",
    backup: bool = True,
) -> TrashBatch:
    """Move the selected images (an id array or an ImageQuery) to the trash. A backup is
    taken first (docs/CONTRACTS.md: before a bulk change); a redo of an undone delete passes
    backup=False, since the trash itself is its way back."""
    if backup:
        snapshot(project, "before-delete-images")
    return store.move_to_trash(project.db, selection, reason=reason, author=author)


def restore(project, trash_id: int) -> TrashBatch:
    return store.restore(project.db, trash_id)


def list_trash(project) -> list[TrashBatch]:
    return store.list_trash(project.db)


def _remove(root: Path, relative: str | None) -> int:
    if not relative:
        return 0
    path = (root / relative).resolve()
    if root not in path.parents:  # never outside the project folder
        return 0
    try:
        path.unlink()
        return 1
    except FileNotFoundError:
        return 0


def empty(project, trash_ids: list[int] | None = None) -> dict:
    """Drop deletes from the trash for good (all when `trash_ids` is None) and remove their
    files that nothing else uses. Returns counts."""
    deletes = len(store.list_trash(project.db)) if trash_ids is None else len(trash_ids)
    files: list[PurgedFile] = store.purge(project.db, trash_ids)
    root = Path(project.root).resolve()
    removed = 0
    for f in files:
        if f.storage == "copy":
            removed += _remove(root, f.path)
        removed += _remove(root, f.thumb)
    return {"deletes": deletes, "images": len(files), "files_removed": removed}
