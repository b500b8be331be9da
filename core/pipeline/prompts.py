"""Prompt templates: bundled in resources/prompts/*.yaml, overridable per project and domain.

Lookup order for a template (name, lang) used on an image of domain D: the project's
override for D, the project's override for every domain, resources/prompts/domains/D.yaml,
then resources/prompts/*.yaml. Slots are written `{name}`; a slot a template may not use is
an error naming the allowed ones, so an edited template fails before any request is paid for.

The prompt hash identifies the template text (not one rendering of it), so every item made
with the same wording carries the same hash, and editing a template changes the job engine's
idempotency key: a re-run then pays again, on purpose.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import yaml

from core import itypes
from core.errors import StudioError
from core.paths import resources_dir
from core.pipeline.items import LETTERS, NO, YES, check_lang
from core.store import prompt_overrides

_SLOT = re.compile(r"\{([a-z_]+)\}")


class PromptError(StudioError):
    pass


@dataclass(frozen=True)
class Template:
    name: str
    lang: str
    text: str
    source: str  # "project", "project:<domain>", "resource:<domain>" or "resource"

    @property
    def hash(self) -> str:
        return prompt_hash(self.text)


@dataclass(frozen=True)
class Rendered:
    name: str
    text: str
    hash: str  # of the template texts that made it


def prompt_hash(*texts: str) -> str:
    """sha256 over the templates' texts with line ends and trailing spaces normalised."""
    h = hashlib.sha256()
    for text in texts:
        norm = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
        h.update(norm.strip().encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def _prompts_dir() -> Path:
    return resources_dir() / "prompts"


@cache
def _load_file(path: Path) -> dict[tuple[str, str], str]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PromptError(f"{path.name}: not valid YAML ({exc})") from None
    out = {}
    for name, per_lang in doc.items():
        if not isinstance(per_lang, dict):
            raise PromptError(f"{path.name}: {name} must map en/zh to text")
        for lang, text in per_lang.items():
            out[(name, check_lang(lang))] = str(text)
    return out


@lru_cache(maxsize=1)
def bundled_templates() -> dict[tuple[str, str], str]:
    """Every (name, lang) -> text from resources/prompts/*.yaml; a name in two files is an error."""
    merged: dict[tuple[str, str], str] = {}
    for path in sorted(_prompts_dir().glob("*.yaml")):
        for key, text in _load_file(path).items():
            if key in merged:
                raise PromptError(f"prompt {key[0]} ({key[1]}) is defined twice ({path.name})")
            merged[key] = text
    return merged


def template_names() -> list[str]:
    names = {name for name, _ in bundled_templates()}
    return sorted(names | {n for kind in itypes.all_types() for n in kind.prompt_texts})


def get_template(db, name: str, lang: str, domain: str = "") -> Template:
    check_lang(lang)
    if db is not None:
        found = prompt_overrides.get_prompt_override(db, name, lang, domain)
        if found is not None:
            text, owner = found
            return Template(name, lang, text, f"project:{owner}" if owner else "project")
    if domain:
        path = _prompts_dir() / "domains" / f"{domain}.yaml"
        if path.is_file():
            text = _load_file(path).get((name, lang))
            if text is not None:
                return Template(name, lang, text, f"resource:{domain}")
    text = bundled_templates().get((name, lang)) or _type_default(name, lang)
    if text is None:
        raise PromptError(f"no prompt template {name!r} for language {lang}")
    return Template(name, lang, text, "resource")


def _type_default(name: str, lang: str) -> str | None:
    """A template an instruction type carries itself (a type added in code, no YAML file)."""
    for kind in itypes.all_types():
        text = kind.prompt_texts.get(name, {}).get(lang)
        if text is not None:
            return text
    return None


# Slots each template may use. A project override that uses another slot is refused.
SLOTS: dict[str, set[str]] = {
    "caption": {"domain_title", "domain_description", "min_words"},
    "caption_prior": {"domain_title", "domain_description", "min_words", "prior"},
    "caption_retry": {"min_words"},
    "ocr": set(),
    "prior_ocr": {"text"},
    "prior_tags": {"text"},
    "prior_title": {"text"},
    "block_seeds": {"seeds"},
    "block_prior": {"prior"},
    "rephrase": {"question"},
    "translate": {"item"},
}
_GENERATE_SLOTS = {"domain_title", "domain_description", "caption", "prior", "seeds", "n", "format"}
_GENERATE_SLOTS |= {"yes", "no", "min_words"}


def _type_slots(kind) -> dict[str, set[str]]:
    blind = {kind.blind_template(): {"question", "options"}} if kind.blind_chance else {}
    return blind | {
        kind.generate_template(): _GENERATE_SLOTS,
        kind.format_template("tagged"): {"n", "yes", "no"},
        kind.format_template("json"): {"n", "yes", "no"},
        kind.verify_template(): {"question", "options"},
        kind.caption_verify_template(): {"caption", "question", "options", "answer"},
    }


for _kind in itypes.all_types():
    SLOTS |= _type_slots(_kind)


def slots(name: str) -> set[str] | None:
    """The slots template `name` may use; None for a name no stage renders. Per-type names
    come from the instruction-type registry, so a type registered later has its templates."""
    if name in SLOTS:
        return SLOTS[name]
    for kind in itypes.all_types():
        found = _type_slots(kind).get(name)
        if found is not None:
            return found
    return None


def render(template: Template, **values) -> str:
    allowed = slots(template.name)
    if allowed is None:
        allowed = set(values)
    unknown = sorted({m.group(1) for m in _SLOT.finditer(template.text)} - allowed)
    if unknown:
        raise PromptError(
            f"prompt {template.name} ({template.lang}, {template.source}) uses unknown slot(s) "
            f"{', '.join('{' + u + '}' for u in unknown)}; allowed: "
            f"{', '.join('{' + a + '}' for a in sorted(allowed)) or 'none'}"
        )

    def fill(m: re.Match) -> str:
        key = m.group(1)
        return str(values[key]) if key in values else m.group(0)

    return _SLOT.sub(fill, template.text).strip()


def validate_template(name: str, lang: str, text: str) -> None:
    """Raise PromptError when `text` could not serve as template `name` (for editors)."""
    if slots(name) is None:
        raise PromptError(f"unknown prompt template {name!r}")
    render(Template(name, lang, text, "project"))


# Builders the stages call ----------------------------------------------------------------


@dataclass
class DomainInfo:
    name: str
    title: str
    description: str


@dataclass
class Prior:
    ocr_text: str | None = None
    tags: list[str] | None = None
    title: str | None = None

    def __bool__(self) -> bool:
        return bool((self.ocr_text or "").strip() or self.tags or (self.title or "").strip())


def render_prior(db, prior: Prior | None, lang: str, domain: str = "") -> tuple[str, list[str]]:
    """The prior-knowledge lines and the hashes of the templates used for them."""
    if not prior:
        return "", []
    lines, hashes = [], []
    for name, value in (
        (
            "prior_ocr",
            " / ".join(x.strip() for x in (prior.ocr_text or "").splitlines() if x.strip()),
        ),
        ("prior_tags", ", ".join(prior.tags or [])),
        ("prior_title", (prior.title or "").strip()),
    ):
        if value:
            t = get_template(db, name, lang, domain)
            lines.append(render(t, text=value))
            hashes.append(t.text)
    return "\n".join(lines), hashes


def caption_prompt(db, dom: DomainInfo, lang: str, prior: Prior | None, min_words: int) -> Rendered:
    name = "caption_prior" if prior else "caption"
    t = get_template(db, name, lang, dom.name)
    prior_text, used = render_prior(db, prior, lang, dom.name)
    text = render(
        t,
        domain_title=dom.title,
        domain_description=dom.description,
        min_words=min_words,
        prior=prior_text,
    )
    # The hash covers the wording only: prior lines change per image, their labels do not.
    return Rendered(name, text, prompt_hash(t.text, *used))


def generate_prompt(
    db,
    dom: DomainInfo,
    itype: str,
    lang: str,
    fmt: str,
    n: int,
    caption: str,
    prior: Prior | None,
    seeds: list[str],
    min_words: int,
) -> Rendered:
    kind = itypes.get(itype)
    body = get_template(db, kind.generate_template(), lang, dom.name)
    form = get_template(db, kind.format_template(fmt), lang, dom.name)
    yes, no = YES[lang], NO[lang]
    used = [body.text, form.text]
    seeds_block = ""
    if seeds:
        t = get_template(db, "block_seeds", lang, dom.name)
        listing = "\n".join(f"{i}. {s}" for i, s in enumerate(seeds, start=1))
        seeds_block = render(t, seeds=listing) + "\n"
        used.append(t.text)
    prior_block = ""
    prior_text, prior_used = render_prior(db, prior, lang, dom.name)
    if prior_text:
        t = get_template(db, "block_prior", lang, dom.name)
        prior_block = render(t, prior=prior_text) + "\n"
        used += [t.text, *prior_used]
    text = render(
        body,
        domain_title=dom.title,
        domain_description=dom.description,
        caption=caption.strip(),
        prior=prior_block,
        seeds=seeds_block,
        n=n,
        yes=yes,
        no=no,
        min_words=min_words,
        format=render(form, n=n, yes=yes, no=no),
    )
    return Rendered(kind.generate_template(), text, prompt_hash(*used))


def options_block(options: list[str] | None) -> str:
    return "\n".join(f"{letter}. {o}" for letter, o in zip(LETTERS, options or [], strict=False))


def verify_prompt(db, itype: str, lang: str, question: str, options, domain: str = "") -> Rendered:
    t = get_template(db, itypes.get(itype).verify_template(), lang, domain)
    text = render(t, question=question, options=options_block(options))
    return Rendered(t.name, text, t.hash)


def caption_verify_prompt(db, row, caption: str) -> Rendered:
    """The caption verifier's prompt for one instruction row (see resources/prompts/verify.yaml)."""
    t = get_template(db, itypes.get(row.itype).caption_verify_template(), row.lang, row.domain)
    text = render(t, caption=caption, question=row.question, options=options_block(row.options),
                  answer=row.answer)  # fmt: skip
    return Rendered(t.name, text, t.hash)


def blind_prompt(db, row, options: list[str] | None) -> Rendered:
    """The question alone (options in the order given), for blind answerability."""
    t = get_template(db, itypes.get(row.itype).blind_template(), row.lang, row.domain)
    return Rendered(
        t.name, render(t, question=row.question, options=options_block(options)), t.hash
    )


def simple_prompt(db, name: str, lang: str, domain: str = "", **values) -> Rendered:
    """Templates with plain slots: ocr, caption_retry, rephrase, translate."""
    t = get_template(db, name, lang, domain)
    return Rendered(name, render(t, **values), t.hash)
