"""Edit a project's domains and seed questions: the operations the GUI and CLI call.

Each function validates its input, raises `DomainError` with a message fit for the user, and
makes its change in one transaction.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from core.domains.model import (
    DomainError,
    check_itype,
    check_lang,
    check_name,
    clean_text,
    title_from_name,
)
from core.store import domains as store
from core.store.db import Database
from core.store.domains import DomainRow, SeedRow

USER_SOURCE = "user"


def list_domains(db: Database) -> list[DomainRow]:
    """All domains in display order, with their image and seed counts."""
    return store.list_domains(db)


def get_domain(db: Database, name: str) -> DomainRow:
    row = store.get_domain(db, name)
    if row is None:
        raise DomainError(f"no domain named {name!r}")
    return row


def _keywords(keywords: Iterable[str] | str | None) -> list[str]:
    if keywords is None:
        return []
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    return [k.strip() for k in keywords if k and k.strip()]


def add_domain(
    db: Database,
    name: str,
    title: str | None = None,
    description: str = "",
    keywords: Iterable[str] | str | None = None,
    position: int | None = None,
) -> DomainRow:
    check_name(name)
    with db.tx():
        if store.get_domain(db, name) is not None:
            raise DomainError(f"domain {name!r} already exists")
        store.insert_domain(
            db,
            name,
            clean_text(title, "title") if title else title_from_name(name),
            (description or "").strip(),
            _keywords(keywords),
            position if position is not None else store.next_domain_position(db),
        )
    return get_domain(db, name)


def ensure_domain(db: Database, name: str, title: str | None = None) -> bool:
    """Create `name` if missing (importers use this). Returns True when it was created."""
    with db.tx():
        if store.get_domain(db, name) is not None:
            return False
        add_domain(db, name, title=title)
        return True


def update_domain(
    db: Database,
    name: str,
    *,
    title: str | None = None,
    description: str | None = None,
    keywords: Iterable[str] | str | None = None,
) -> DomainRow:
    """Change any of title, description and keywords; arguments left None stay as they are."""
    fields: dict = {}
    if title is not None:
        fields["title"] = clean_text(title, "title")
    if description is not None:
        fields["description"] = description.strip()
    if keywords is not None:
        fields["keywords"] = _keywords(keywords)
    with db.tx():
        get_domain(db, name)
        store.update_domain(db, name, **fields)
    return get_domain(db, name)


def rename_domain(db: Database, old: str, new: str) -> dict:
    """Rename a domain; images, seeds and prompts that name it follow. Returns moved counts."""
    check_name(new)
    if old == new:
        return {"images": 0, "seeds": 0, "prompts": 0, "import_batches": 0}
    with db.tx():
        get_domain(db, old)
        if store.get_domain(db, new) is not None:
            raise DomainError(f"cannot rename {old!r}: a domain named {new!r} already exists")
        return store.rename_domain(db, old, new)


def delete_domain(
    db: Database, name: str, *, force: bool = False, reassign_to: str | None = None
) -> dict:
    """Delete a domain with its seeds and domain-specific prompts.

    A domain that still has images is refused unless `reassign_to` names another domain (the
    images move there) or `force` is set (the images stay in the library with no domain).
    A backup is taken first: the seeds and prompts go with the domain.
    """
    from core.store.backup import snapshot

    get_domain(db, name)
    snapshot(db, f"before-delete-domain-{name}")
    with db.tx():
        get_domain(db, name)
        if reassign_to is not None:
            if reassign_to == name:
                raise DomainError("cannot reassign images to the domain being deleted")
            get_domain(db, reassign_to)
        n_images = store.count_domain_images(db, name)
        if n_images and reassign_to is None and not force:
            raise DomainError(
                f"domain {name!r} has {n_images} image(s); reassign them to another domain "
                "or delete with force (they are kept, without a domain)"
            )
        return store.delete_domain(db, name, reassign_to)


def reorder_domains(db: Database, names: Sequence[str]) -> list[DomainRow]:
    """Set the display order: `names` must list every domain exactly once."""
    with db.tx():
        current = store.domain_names(db)
        if sorted(names) != sorted(current) or len(set(names)) != len(names):
            missing = sorted(set(current) - set(names))
            extra = sorted(set(names) - set(current))
            raise DomainError(
                "reorder needs every domain exactly once"
                + (f"; missing: {missing}" if missing else "")
                + (f"; unknown: {extra}" if extra else "")
            )
        store.set_domain_positions(db, list(names))
    return store.list_domains(db)


# seeds -----------------------------------------------------------------------------------
def _check_seed_unique(db: Database, domain: str, itype: str, lang: str, text: str) -> None:
    for row in store.list_seeds(db, domain, itype, lang):
        if row.text == text:
            raise DomainError(f"this {lang} {itype} seed already exists in {domain!r} (#{row.id})")


def add_seed(
    db: Database, domain: str, itype: str, lang: str, text: str, source: str = USER_SOURCE
) -> SeedRow:
    check_itype(itype)
    check_lang(lang)
    text = clean_text(text)
    with db.tx():
        get_domain(db, domain)
        _check_seed_unique(db, domain, itype, lang, text)
        seed_id = store.add_seed(db, domain, itype, lang, text, source)
    return store.get_seed(db, seed_id)


def get_seed(db: Database, seed_id: int) -> SeedRow:
    row = store.get_seed(db, seed_id)
    if row is None:
        raise DomainError(f"no seed #{seed_id}")
    return row


def edit_seed(
    db: Database,
    seed_id: int,
    *,
    text: str | None = None,
    itype: str | None = None,
    lang: str | None = None,
    domain: str | None = None,
) -> SeedRow:
    """Change a seed's text, type, language or domain; arguments left None stay as they are."""
    with db.tx():
        seed = get_seed(db, seed_id)
        new = {
            "domain": domain if domain is not None else seed.domain,
            "itype": check_itype(itype) if itype is not None else seed.itype,
            "lang": check_lang(lang) if lang is not None else seed.lang,
            "text": clean_text(text) if text is not None else seed.text,
        }
        if domain is not None:
            get_domain(db, domain)
        changed = {k: v for k, v in new.items() if v != getattr(seed, k)}
        if changed:
            _check_seed_unique(db, new["domain"], new["itype"], new["lang"], new["text"])
            store.update_seed(db, seed_id, **changed)
    return get_seed(db, seed_id)


def delete_seed(db: Database, seed_id: int) -> None:
    if not store.delete_seed(db, seed_id):
        raise DomainError(f"no seed #{seed_id}")


def list_seeds(
    db: Database,
    domain: str | None = None,
    itype: str | None = None,
    lang: str | None = None,
) -> list[SeedRow]:
    if itype is not None:
        check_itype(itype)
    if lang is not None:
        check_lang(lang)
    if domain is not None:
        get_domain(db, domain)
    return store.list_seeds(db, domain, itype, lang)


def sample_seeds(
    db: Database,
    domain: str,
    itype: str,
    lang: str,
    k: int,
    rng: random.Random | int | None,
) -> list[SeedRow]:
    """Up to k distinct seeds of one domain, type and language, drawn with `rng`.

    The candidates are taken in id order before sampling, so the same rng state over the same
    seeds gives the same draw in any process. Fewer than k seeds: all of them, shuffled. None:
    an empty list (the generate stage decides what to do without seeds).
    """
    if k < 0:
        raise DomainError(f"cannot sample {k} seeds")
    if not isinstance(rng, random.Random):
        rng = random.Random(rng)
    pool = sorted(list_seeds(db, domain, itype, lang), key=lambda s: s.id)
    return rng.sample(pool, min(k, len(pool)))
