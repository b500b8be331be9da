"""Domain relevance: how well each image matches its domain's text prompts.

The score is the image's best cosine similarity to any prompt of its domain (title, keywords,
description). Below the threshold an image is flagged off-domain in clip_relevance; nothing
is deleted, so a person decides. Every domain's prompts are scored too, to name the domain
an off-domain image seems to belong to instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.collect.catalog import spec_for
from core.collect.embed import embed_images, encoder_for, stored_model
from core.collect.errors import CollectError
from core.project import Project
from core.store import embeddings as store
from core.store.domains import DomainRow


@dataclass
class RelevanceSummary:
    model: str
    threshold: float
    scored: int = 0
    flagged: int = 0
    by_domain: dict[str, dict] = field(default_factory=dict)
    embed_failed: int = 0

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "threshold": self.threshold,
            "scored": self.scored,
            "flagged": self.flagged,
            "embed_failed": self.embed_failed,
            "by_domain": self.by_domain,
        }

    def describe(self) -> str:
        lines = [
            f"Scored {self.scored} image(s) with {self.model}: {self.flagged} flagged off-domain "
            f"(similarity < {self.threshold:g})."
        ]
        for name, d in self.by_domain.items():
            lines.append(
                f"  {name}: {d['scored']} scored, {d['flagged']} flagged, mean {d['mean_score']:.3f}"
            )
        return "\n".join(lines)


def domain_prompts(domain: DomainRow) -> list[str]:
    """The texts an image of `domain` should resemble, most specific last."""
    title = (domain.title or domain.name.replace("_", " ")).strip()
    prompts = [f"a photo of {title.lower()}"]
    prompts += [f"a photo of {k.strip()}" for k in domain.keywords if k.strip()]
    if domain.description:
        prompts.append(domain.description.strip())
    return list(dict.fromkeys(prompts))


def score_relevance(
    project: Project,
    model: str | None = None,
    *,
    threshold: float | None = None,
    domain: str | None = None,
    embed_missing: bool = True,
    encoder=None,
    progress: Callable[[int, int], None] | None = None,
) -> RelevanceSummary:
    """Score the images of `domain` (or of every domain) and flag the off-domain ones."""
    from core.domains import get_domain, list_domains

    db = project.db
    domains = list_domains(db)
    if not domains:
        raise CollectError("the project has no domains to score against")
    if domain is not None:
        get_domain(db, domain)  # a clear error for an unknown name
    embed_failed = 0
    if embed_missing:
        got = embed_images(project, model, domain=domain, encoder=encoder, progress=progress)
        embed_failed = len(got.failed)
        model = got.model  # the loaded encoder's key, so the right vectors are read
    row = stored_model(project, model)
    enc = encoder_for(row, encoder)
    threshold = spec_for(row.name).relevance_threshold if threshold is None else float(threshold)
    if not -1.0 <= threshold <= 1.0:
        raise CollectError("the threshold is a cosine similarity between -1 and 1")

    prompts, owner = [], []
    for d in domains:
        ps = domain_prompts(d)
        prompts += ps
        owner += [d.name] * len(ps)
    text = enc.encode_texts(prompts)
    owner_arr = np.array(owner)
    names = [d.name for d in domains]
    summary = RelevanceSummary(row.name, threshold, embed_failed=embed_failed)
    for name in [domain] if domain else names:
        ids, vecs = store.load_vectors(db, row, domain=name)
        if not len(ids):
            continue
        sims = vecs @ text.T  # images x prompts
        own = owner_arr == name
        own_sims = sims[:, own]
        best_own = own_sims.argmax(axis=1)
        scores = own_sims[np.arange(len(ids)), best_own]
        per_domain = np.stack([sims[:, owner_arr == n].max(axis=1) for n in names], axis=1)
        best_domain = per_domain.argmax(axis=1)
        own_prompts = [p for p, o in zip(prompts, owner, strict=True) if o == name]
        rows = [
            {
                "image_id": int(i),
                "domain": name,
                "score": float(s),
                "threshold": threshold,
                "off_domain": bool(s < threshold),
                "best_prompt": own_prompts[b],
                "best_domain": names[bd],
            }
            for i, s, b, bd in zip(ids, scores, best_own, best_domain, strict=True)
        ]
        store.write_relevance(db, row, rows)
        flagged = int((scores < threshold).sum())
        summary.by_domain[name] = {
            "scored": len(ids),
            "flagged": flagged,
            "mean_score": round(float(scores.mean()), 4),
        }
        summary.scored += len(ids)
        summary.flagged += flagged
    return summary


def off_domain_images(
    project: Project, model: str | None = None, domain: str | None = None
) -> list[dict]:
    """The flagged images (lowest score first), for review lists in the GUI and CLI."""
    row = stored_model(project, model)
    return store.relevance(project.db, row, domain, off_domain_only=True)


def relevance_scores(
    project: Project, model: str | None = None, domain: str | None = None
) -> list[dict]:
    row = stored_model(project, model)
    return store.relevance(project.db, row, domain)
