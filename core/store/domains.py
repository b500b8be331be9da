"""Typed queries for the taxonomy: domains, their seed questions, and a project's answer formats.

Validation (names, vocabulary, existence) lives in `core.domains`; these functions trust their
arguments and only move rows. Writes run in `db.tx()`, so a caller's outer transaction makes a
multi-step change atomic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.store.db import Database

ANSWER_FORMATS_KEY = "answer_formats"


@dataclass(frozen=True)
class DomainRow:
    name: str
    title: str
    description: str
    keywords: list[str]
    position: int
    images: int
    seeds: int

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "keywords": list(self.keywords),
            "position": self.position,
            "images": self.images,
            "seeds": self.seeds,
        }


@dataclass(frozen=True)
class SeedRow:
    id: int
    domain: str
    itype: str
    lang: str
    text: str
    source: str | None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "domain": self.domain,
            "itype": self.itype,
            "lang": self.lang,
            "text": self.text,
            "source": self.source,
        }


_DOMAIN_SELECT = """
    SELECT d.name, coalesce(d.title, d.name), coalesce(d.description, ''),
           coalesce(d.keywords, []), coalesce(d.position, 0),
           (SELECT count(*) FROM images i WHERE i.domain = d.name),
           (SELECT count(*) FROM seeds s WHERE s.domain = d.name)
    FROM domains d
"""


def _domain(row) -> DomainRow:
    return DomainRow(row[0], row[1], row[2], list(row[3]), row[4], row[5], row[6])


# domains ---------------------------------------------------------------------------------
def list_domains(db: Database) -> list[DomainRow]:
    rows = db.fetchall(_DOMAIN_SELECT + " ORDER BY coalesce(d.position, 0), d.name")
    return [_domain(r) for r in rows]


def get_domain(db: Database, name: str) -> DomainRow | None:
    row = db.fetchone(_DOMAIN_SELECT + " WHERE d.name = ?", [name])
    return _domain(row) if row else None


def domain_names(db: Database) -> list[str]:
    return [r[0] for r in db.fetchall("SELECT name FROM domains ORDER BY position, name")]


def next_domain_position(db: Database) -> int:
    return int(db.scalar("SELECT coalesce(max(position), 0) + 1 FROM domains"))


def insert_domain(
    db: Database,
    name: str,
    title: str,
    description: str,
    keywords: Sequence[str],
    position: int,
) -> None:
    with db.tx() as cur:
        cur.execute(
            "INSERT INTO domains (name, title, description, keywords, position) "
            "VALUES (?, ?, ?, ?, ?)",
            [name, title, description, list(keywords), position],
        )


def update_domain(db: Database, name: str, **fields) -> None:
    """Set any of title, description, keywords, position on one domain."""
    allowed = {"title", "description", "keywords", "position"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not domain fields: {sorted(unknown)}")
    if not fields:
        return
    sets = ", ".join(f"{k} = ?" for k in fields)
    values = [list(v) if k == "keywords" else v for k, v in fields.items()]
    with db.tx() as cur:
        cur.execute(f"UPDATE domains SET {sets} WHERE name = ?", [*values, name])


def rename_domain(db: Database, old: str, new: str) -> dict:
    """Give a domain a new id; its images, seeds, prompts and import batches follow."""
    with db.tx() as cur:
        # Insert-then-delete: the key is the primary key, and every row that names it moves too.
        cur.execute(
            "INSERT INTO domains (name, title, description, keywords, position, created_at) "
            "SELECT ?, title, description, keywords, position, created_at FROM domains "
            "WHERE name = ?",
            [new, old],
        )
        moved = {}
        for table in ("images", "seeds", "prompts", "import_batches"):
            moved[table] = cur.execute(
                f"UPDATE {table} SET domain = ? WHERE domain = ?", [new, old]
            ).fetchone()[0]
        cur.execute("DELETE FROM domains WHERE name = ?", [old])
    return moved


def delete_domain(db: Database, name: str, reassign_to: str | None) -> dict:
    """Remove a domain and its seeds and prompts. Its images move to `reassign_to` (None: to
    no domain); they are never deleted here."""
    with db.tx() as cur:
        images = cur.execute(
            "UPDATE images SET domain = ? WHERE domain = ?", [reassign_to, name]
        ).fetchone()[0]
        seeds = cur.execute("DELETE FROM seeds WHERE domain = ?", [name]).fetchone()[0]
        prompts = cur.execute("DELETE FROM prompts WHERE domain = ?", [name]).fetchone()[0]
        cur.execute("DELETE FROM domains WHERE name = ?", [name])
    return {"images_moved": images, "seeds_deleted": seeds, "prompts_deleted": prompts}


def set_domain_positions(db: Database, names: Sequence[str]) -> None:
    with db.tx() as cur:
        cur.execute(
            "UPDATE domains SET position = o.pos FROM "
            "(SELECT unnest(?) AS name, unnest(range(1, ?)) AS pos) o WHERE domains.name = o.name",
            [list(names), len(names) + 1],
        )


def count_domain_images(db: Database, name: str) -> int:
    return int(db.scalar("SELECT count(*) FROM images WHERE domain = ?", [name]))


# seeds -----------------------------------------------------------------------------------
_SEED_COLUMNS = "id, domain, itype, lang, text, source"


def insert_seeds(db: Database, rows: Iterable[tuple[str, str, str, str, str | None]]) -> int:
    """Bulk insert (domain, itype, lang, text, source) rows in one statement."""
    rows = list(rows)
    if not rows:
        return 0
    columns = [list(c) for c in zip(*rows, strict=True)]
    with db.tx() as cur:
        cur.execute(
            "INSERT INTO seeds (domain, itype, lang, text, source) "
            "SELECT unnest(?), unnest(?), unnest(?), unnest(?), unnest(?::VARCHAR[])",
            columns,
        )
    return len(rows)


def add_seed(db: Database, domain: str, itype: str, lang: str, text: str, source: str) -> int:
    with db.tx() as cur:
        return cur.execute(
            "INSERT INTO seeds (domain, itype, lang, text, source) VALUES (?, ?, ?, ?, ?) "
            "RETURNING id",
            [domain, itype, lang, text, source],
        ).fetchone()[0]


def get_seed(db: Database, seed_id: int) -> SeedRow | None:
    row = db.fetchone(f"SELECT {_SEED_COLUMNS} FROM seeds WHERE id = ?", [seed_id])
    return SeedRow(*row) if row else None


def update_seed(db: Database, seed_id: int, **fields) -> None:
    allowed = {"domain", "itype", "lang", "text", "source"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not seed fields: {sorted(unknown)}")
    if not fields:
        return
    sets = ", ".join(f"{k} = ?" for k in fields)
    with db.tx() as cur:
        cur.execute(f"UPDATE seeds SET {sets} WHERE id = ?", [*fields.values(), seed_id])


def delete_seed(db: Database, seed_id: int) -> bool:
    with db.tx() as cur:
        return cur.execute("DELETE FROM seeds WHERE id = ?", [seed_id]).fetchone()[0] > 0


def list_seeds(
    db: Database,
    domain: str | None = None,
    itype: str | None = None,
    lang: str | None = None,
) -> list[SeedRow]:
    """Seeds matching every given filter, in a stable order (domain position, type, lang, id)."""
    where, params = [], []
    for column, value in (("s.domain", domain), ("s.itype", itype), ("s.lang", lang)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = (
        f"SELECT s.id, s.domain, s.itype, s.lang, s.text, s.source FROM seeds s "
        f"LEFT JOIN domains d ON d.name = s.domain "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} "
        f"ORDER BY coalesce(d.position, 1 << 30), s.domain, s.itype, s.lang, s.id"
    )
    return [SeedRow(*r) for r in db.fetchall(sql, params)]


def seed_keys(db: Database) -> set[tuple[str, str, str, str]]:
    """(domain, itype, lang, text) of every seed: what an import must not add twice."""
    return set(db.fetchall("SELECT domain, itype, lang, text FROM seeds"))


# answer formats (one JSON document per project, in meta) ---------------------------------
def load_answer_formats_json(db: Database) -> str | None:
    return db.scalar("SELECT value FROM meta WHERE key = ?", [ANSWER_FORMATS_KEY])


def save_answer_formats_json(db: Database, document: str | None) -> None:
    with db.tx() as cur:
        cur.execute("DELETE FROM meta WHERE key = ?", [ANSWER_FORMATS_KEY])
        if document is not None:
            cur.execute("INSERT INTO meta VALUES (?, ?)", [ANSWER_FORMATS_KEY, document])
