"""The project's own prompt templates (the `prompts` table): overrides of the shipped ones,
per template name and language, for one domain or for every domain (domain '').

The settings page writes them and core.pipeline.prompts reads them when it builds a request;
they are a table of their own, unrelated to the rows the stages produce, so they are not among
the stage queries of core.store.pipeline.
"""

from __future__ import annotations

from core.store.db import Database


def get_prompt_override(
    db: Database, name: str, lang: str, domain: str = ""
) -> tuple[str, str] | None:
    """(text, domain) of the project's template: the domain's own first, then the one for
    every domain (domain '')."""
    row = db.fetchone(
        "SELECT text, domain FROM prompts WHERE name = ? AND lang = ? AND domain IN (?, '') "
        "ORDER BY domain = '' LIMIT 1",
        [name, lang, domain or ""],
    )
    return (row[0], row[1]) if row else None


def set_prompt(db: Database, name: str, lang: str, text: str, domain: str = "") -> None:
    with db.tx() as cur:
        cur.execute(
            "DELETE FROM prompts WHERE name = ? AND lang = ? AND domain = ?", [name, lang, domain]
        )
        cur.execute(
            "INSERT INTO prompts (name, lang, domain, text) VALUES (?, ?, ?, ?)",
            [name, lang, domain, text],
        )


def delete_prompt(db: Database, name: str, lang: str, domain: str = "") -> bool:
    with db.tx() as cur:
        n = cur.execute(
            "SELECT count(*) FROM prompts WHERE name = ? AND lang = ? AND domain = ?",
            [name, lang, domain],
        ).fetchone()[0]
        cur.execute(
            "DELETE FROM prompts WHERE name = ? AND lang = ? AND domain = ?", [name, lang, domain]
        )
    return n > 0


def list_prompt_overrides(db: Database) -> list[tuple[str, str, str, str]]:
    """(name, lang, domain, text) of every override, sorted."""
    return db.fetchall("SELECT name, lang, domain, text FROM prompts ORDER BY ALL")
