"""The project's key-value table (`meta`): its name, its settings document, and what other
parts keep there (the collect tab's balance target)."""

from __future__ import annotations

import json

from core.store.db import Database


def init_meta(cur, name: str, settings: dict) -> None:
    """Inside the creating transaction: the first name and settings of a new project."""
    cur.execute(
        "INSERT INTO meta VALUES ('name', ?), ('settings', ?)", [name, json.dumps(settings)]
    )


def read_meta(db: Database, key: str) -> str | None:
    return db.scalar("SELECT value FROM meta WHERE key = ?", [key])


def write_meta(db: Database, key: str, value: str) -> None:
    with db.tx() as cur:
        cur.execute("DELETE FROM meta WHERE key = ?", [key])
        cur.execute("INSERT INTO meta VALUES (?, ?)", [key, value])


def project_name(db: Database) -> str | None:
    return read_meta(db, "name")


def read_settings(db: Database) -> dict:
    raw = read_meta(db, "settings")
    return json.loads(raw) if raw else {}


def write_settings(db: Database, settings: dict) -> None:
    write_meta(db, "settings", json.dumps(settings))
