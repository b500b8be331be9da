"""Typed stage results: what one run did, told by the result itself.

Every stage run returns a `StageResult`: `to_json()` is the `mmstudio run --json` document
(docs/cli.md; its keys and their order are the contract), `summary_text()` the CLI's words for
people, `describe()` one line for the GUI as a `Phrase` (an English template with named values,
which the GUI translates through its table: no Qt here), `count()` the units it went through
(the GUI's progress bar) and `ok()` whether it did anything but fail. A stage names its result
class (`StageSpec.result`); front-ends never tell results apart by their keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Plural:
    """A count with its English singular and plural, for a `Phrase` value."""

    one: str
    many: str
    n: int

    def __str__(self) -> str:
        return (self.one if self.n == 1 else self.many).format(n=self.n)


@dataclass(frozen=True)
class Phrase:
    """English text with {named} fields; `str()` fills them in. The GUI looks the template
    (and each Plural's forms) up in its translation table first."""

    template: str
    values: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template.format(**{k: str(v) if isinstance(v, Plural) else v
                                       for k, v in self.values.items()})  # fmt: skip


IMAGES = ("{n:,} image", "{n:,} images")
# Every template a result describes itself with (the GUI's Chinese table has each one).
TEMPLATES = (
    "{done:,} done, {failed:,} failed, {cached:,} from cache, ${cost:.4f}",
    "{checked:,} items checked on {images}, {flagged:,} flagged",
    "{images:,} images read, {with_text:,} with text",
    "{images:,} images read, {with_text:,} with text, {n} failed",
    "{instructions:,} items imported from {records:,} {format} records",
    "job {job}: {status}, {done:,} done, {failed:,} failed, ${cost:.4f}",
    "{n:,} request(s), estimated cost at most ${cost:.4f}",
    "{n:,} request(s), cost unknown (the model is not in the price table)",
    "no model requests: it runs here and costs nothing",
    *IMAGES,
)


class StageResult:
    """The protocol; the dataclasses below implement it."""

    stage: str
    batch: dict | None = None  # the Batch API part, added by the CLI for a job that used it

    @property
    def job_id(self) -> int | None:
        return None

    def to_json(self) -> dict:
        raise NotImplementedError

    def summary_text(self) -> str:
        raise NotImplementedError

    def describe(self) -> Phrase:
        return Phrase(self.summary_text())

    def count(self) -> int:
        return 0

    def ok(self) -> bool:
        return True


@dataclass
class JobPart:
    """One engine job of a run (a run may have a follow-up job: caption's retry)."""

    job_id: int | None = None
    items: int = 0
    done: int = 0
    failed: int = 0
    cached: int = 0
    cost_usd: float = 0.0
    status: str = "nothing to do"
    failures: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _batch_text(batch: dict | None, job_id) -> str:
    if not batch:
        return ""
    text = (f"\n  batch API: {batch['batches']} batch(es), {batch['requests']} answers, "
            f"${batch['cost_usd']:.4f}")  # fmt: skip
    if batch["open"]:
        text += (f"; {batch['open']} still running ({batch['in_batch']} requests): collect "
                 f"with `mmstudio run PROJECT --resume {job_id}`")  # fmt: skip
    return text


@dataclass
class EngineResult(StageResult):
    """A model stage run through the job engine. Subclasses add their own fields (they
    follow `skipped` in the JSON, as the stage's description of the run)."""

    stage: str
    lang: str | None = None
    domain: str | None = None
    backend: str | None = None
    model: str | None = None
    skipped: dict = field(default_factory=dict)
    job: JobPart = field(default_factory=JobPart)
    followup: JobPart | None = None
    followup_key: str = "followup"
    batch: dict | None = None

    @property
    def job_id(self) -> int | None:
        return self.job.job_id

    def own_fields(self) -> dict:
        base = {f.name for f in fields(EngineResult)}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in base}

    def to_json(self) -> dict:
        out = {"stage": self.stage, "lang": self.lang, "domain": self.domain,
               "backend": self.backend, "model": self.model, "skipped": self.skipped}  # fmt: skip
        out |= self.own_fields() | self.job.to_json()
        if self.followup is not None:
            out[self.followup_key] = self.followup.to_json()
        if self.batch:
            out["batch"] = self.batch
        return out

    def summary_text(self) -> str:
        j = self.job
        text = (f"{self.stage}: {j.done} done, {j.failed} failed, {j.cached} from cache, "
                f"${j.cost_usd:.4f}")  # fmt: skip
        if self.skipped:
            text += " (skipped: " + ", ".join(f"{k} {v}" for k, v in self.skipped.items()) + ")"
        text += _batch_text(self.batch, j.job_id)
        for f in j.failures[:5]:
            text += f"\n  failed {f['key']}: {f['reason']}: {f['error']}"
        return text

    def describe(self) -> Phrase:
        j = self.job
        return Phrase(TEMPLATES[0], {"done": j.done, "failed": j.failed, "cached": j.cached,
                                     "cost": j.cost_usd})  # fmt: skip

    def count(self) -> int:
        return self.job.done

    def ok(self) -> bool:
        return not (self.job.failed and not self.job.done)


@dataclass
class CaptionResult(EngineResult):
    def summary_text(self) -> str:
        text = super().summary_text()
        if self.followup is not None and self.followup.items:
            text += f"\n  {self.followup.items} short caption(s) asked again"
        return text


@dataclass
class VerifyResult(EngineResult):
    against: str = "image"


@dataclass
class ExpandResult(EngineResult):
    mode: str = "rephrase"


@dataclass
class DirectResult(StageResult):
    """Work done without the job engine: the header every run summary starts with."""

    stage: str
    lang: str | None = None
    domain: str | None = None

    def header(self) -> dict:
        return {"stage": self.stage, "lang": self.lang, "domain": self.domain}


@dataclass
class CheckResult(DirectResult):
    checked: int = 0
    images: int = 0
    passed: int = 0
    flagged: int = 0
    flags: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return self.header() | {"checked": self.checked, "images": self.images,
                                "passed": self.passed, "flagged": self.flagged,
                                "flags": self.flags}  # fmt: skip

    def summary_text(self) -> str:
        flags = ", ".join(f"{k} {v}" for k, v in self.flags.items()) or "none"
        return (f"check: {self.checked} items, {self.passed} passed, {self.flagged} flagged "
                f"({flags})")  # fmt: skip

    def describe(self) -> Phrase:
        return Phrase(TEMPLATES[1], {"checked": self.checked, "flagged": self.flagged,
                                     "images": Plural(*IMAGES, self.images)})  # fmt: skip

    def count(self) -> int:
        return self.images or self.checked


@dataclass
class OcrResult(DirectResult):
    """The embedded OCR engine's run (the `vlm` engine is an EngineResult)."""

    engine: str = ""
    images: int = 0
    skipped: int = 0
    with_text: int = 0
    failed: list = field(default_factory=list)

    def to_json(self) -> dict:
        return self.header() | {"engine": self.engine, "images": self.images,
                                "skipped": self.skipped, "with_text": self.with_text,
                                "failed": self.failed}  # fmt: skip

    def summary_text(self) -> str:
        return (f"ocr ({self.engine}): {self.images} images read, {self.with_text} with text, "
                f"{self.skipped} skipped")  # fmt: skip

    def describe(self) -> Phrase:
        values = {"images": self.images, "with_text": self.with_text}
        if self.failed:
            return Phrase(TEMPLATES[3], values | {"n": len(self.failed)})
        return Phrase(TEMPLATES[2], values)

    def count(self) -> int:
        return self.images

    def ok(self) -> bool:
        return not self.failed


@dataclass
class ImportResult(DirectResult):
    """expand --mode import: items from a dataset file (core.export.importer's summary)."""

    summary: object = None  # DataImportSummary

    def to_json(self) -> dict:
        return self.header() | {"mode": "import", "import": self.summary.to_json()}

    def summary_text(self) -> str:
        s = self.summary
        return f"expand import: {s.instructions} items from {s.records} {s.format} records"

    def describe(self) -> Phrase:
        s = self.summary
        return Phrase(TEMPLATES[4], {"instructions": s.instructions, "records": s.records,
                                     "format": s.format})  # fmt: skip

    def count(self) -> int:
        return self.summary.instructions


@dataclass
class ResumeResult(StageResult):
    """A job finished by `--resume` (its stage is the job's engine stage)."""

    job: JobPart
    stage: str
    batch: dict | None = None

    @property
    def job_id(self) -> int | None:
        return self.job.job_id

    def to_json(self) -> dict:
        j = self.job
        out = {"job_id": j.job_id, "stage": self.stage, "status": j.status, "done": j.done,
               "failed": j.failed, "cached": j.cached, "cost_usd": j.cost_usd}  # fmt: skip
        if self.batch:
            out["batch"] = self.batch
        return out

    def summary_text(self) -> str:
        j = self.job
        return (f"{self.stage}: {j.done} done, {j.failed} failed, {j.cached} from cache, "
                f"${j.cost_usd:.4f}") + _batch_text(self.batch, j.job_id)  # fmt: skip

    def describe(self) -> Phrase:
        j = self.job
        return Phrase(TEMPLATES[5], {"job": j.job_id, "status": j.status, "done": j.done,
                                     "failed": j.failed, "cost": j.cost_usd})  # fmt: skip

    def count(self) -> int:
        return self.job.done

    def ok(self) -> bool:
        return not (self.job.failed and not self.job.done)


@dataclass
class DryRunResult(StageResult):
    """The requests a run would send (`run --dry-run`), with their estimated cost."""

    stage: str
    requests: int = 0
    prompts: list = field(default_factory=list)
    estimated_cost_usd: float | None = 0.0  # None: not priced (no backend, or no price)
    priced: bool = False
    note: str | None = None  # a stage that sends no model requests says so
    skipped: dict | None = None
    backend: str | None = None
    model: str | None = None
    estimated_tokens: int | None = None

    def to_json(self) -> dict:
        out = {"stage": self.stage, "dry_run": True, "requests": self.requests,
               "prompts": self.prompts, "estimated_cost_usd": self.estimated_cost_usd,
               "priced": self.priced}  # fmt: skip
        if self.note is not None:
            return out | {"note": self.note}
        out["skipped"] = self.skipped
        if self.backend is not None:
            out |= {"backend": self.backend, "model": self.model}
        return out | {"estimated_tokens": self.estimated_tokens}

    def summary_text(self) -> str:
        lines = [f"{self.stage}: {self.requests} request(s) would be sent"]
        if self.note:
            lines = [f"{self.stage}: {self.note}"]
        for p in self.prompts:
            lines.append(f"--- item {p['item']}")
            for m in p["messages"]:
                images = "".join(f"\n[image: {i}]" for i in m.get("images", []))
                lines.append(f"[{m['role']}]\n{m['text']}{images}")
        cost = self.estimated_cost_usd
        lines.append(
            f"estimated cost: at most ${cost:.4f}" if cost is not None
            else "estimated cost: unknown (no backend given, or its model is not in the price "
                 "table)"
        )  # fmt: skip
        return "\n".join(lines)

    def describe(self) -> Phrase:
        if self.note is not None:
            return Phrase(TEMPLATES[8])
        return Phrase(TEMPLATES[6] if self.estimated_cost_usd is not None else TEMPLATES[7],
                      {"n": self.requests, "cost": self.estimated_cost_usd or 0.0})  # fmt: skip

    def count(self) -> int:
        return self.requests
