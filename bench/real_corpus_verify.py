"""Caption-grounded verification and blind answerability over the real-output corpus, by a
real local model, stored next to it (tests/pipeline/corpus_real/verify_<name>.yaml).

The corpus items (outputs*.yaml and the corrected set) go into a fresh demo project with the hand-written captions;
`verify --against caption` and `blind` then run through the job engine on the managed
llama.cpp backend (SmolLM2-135M-Instruct by default, one thread, grammar-constrained), and
each item's verdicts are written out by corpus key; items the file already has are kept, only the new ones are asked (--redo: all). bench/checks_corpus.py reads the file to
report recall on wrong-answer defects and the riskiest-30 % share.

    .venv/bin/python bench/real_corpus_verify.py [--gguf FILE] [--name smollm2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "pipeline" / "corpus_real"


def entries() -> list[dict]:
    """Every corpus item (the model's runs and the corrected set) with its key."""
    from tests.pipeline.corpus_real_eval import load, load_corrected

    outputs, _, _ = load()
    out = [{"key": f"{r['id']}:{n}", "image": r["image"], "itype": r["itype"], "lang": r["lang"],
            "question": it["question"], "options": it.get("options"), "answer": it["answer"]}
           for r in outputs["outputs"] for n, it in enumerate(r["items"], start=1)]  # fmt: skip
    for it in load_corrected():
        out.append({**it, "image": it["key"].split(":")[1], "options": it.get("options")})
    return out


def run(gguf: Path, name: str, project_dir: Path | None = None, blind: bool = True,
        redo: bool = False, only: str | None = None) -> Path:  # fmt: skip
    """Verdicts for the items the file lacks (all with `redo`; with `only`, those whose key
    starts so), merged into it."""
    from core.backends import BackendConfig, make_backend
    from core.demo import demo_images, ensure_demo_project
    from core.jobs import Limits
    from core.pipeline.common import StageOptions
    from core.pipeline.run import run_stage
    from core.project import Project
    from core.store import pipeline as sp
    from core.store import quality
    from core.store.pipeline import NewInstruction

    os.environ.setdefault("MMSTUDIO_HOME", tempfile.mkdtemp(prefix="mmstudio-verify-home-"))
    path = CORPUS / f"verify_{name}.yaml"
    old = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    out: dict[str, dict] = {} if redo or old is None else dict(old["verdicts"])
    todo = [e for e in entries() if e["key"] not in out and e["key"].startswith(only or "")]
    captions = yaml.safe_load((CORPUS / "captions.yaml").read_text(encoding="utf-8"))["captions"]
    backend = make_backend(BackendConfig(name=name, kind="llama_cpp", gguf=str(gguf), n_ctx=2048,
                                         n_threads=1, timeout_s=600))  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = ensure_demo_project(project_dir or Path(tmp) / "demo")
            with Project.open(root) as project:
                db = project.db
                by_sha = {d.sha256: d.path.name for d in demo_images()}
                ids = {by_sha[s]: i for i, s in db.fetchall("SELECT id, sha256 FROM images")}
                keys: dict[int, str] = {}
                if not sp.select_instructions(db):
                    for name_, image_id in ids.items():
                        sp.add_caption(db, image_id, captions[name_].strip(), "en", None, None,
                                       None, origin="manual")  # fmt: skip
                    rows = [NewInstruction(ids[e["image"]], e["itype"], e["lang"], e["question"],
                                           e["answer"], e["options"]) for e in todo]  # fmt: skip
                    new = sp.insert_instructions(db, rows)
                    keys = {row_id: e["key"] for row_id, e in zip(new, todo, strict=True)}
                    (root / "corpus_keys.yaml").write_text(yaml.safe_dump(keys))
                else:
                    keys = yaml.safe_load((root / "corpus_keys.yaml").read_text())
                one = Limits(concurrency=1)
                stages = [("verify", StageOptions(against="caption"))]
                if blind:
                    stages.append(("blind", StageOptions()))
                for stage, opts in stages:
                    summary = run_stage(project, stage, opts, backend, one).to_json()
                    print(f"{stage}: {summary['done']} done, {summary['failed']} failed")
                for row_id, key in keys.items():
                    d = quality.quality_detail(db, row_id)
                    out[key] = {k: d[k] for k in ("caption_answer", "caption_agree",
                                "caption_untellable", "blind_answers", "blind_score")}  # fmt: skip
    finally:
        backend.close()
    doc = {"model": gguf.name, "verdicts": out}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=True, width=100), "utf-8")
    return path


def main() -> int:
    from tests.gguf_models import smollm2_gguf

    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", type=Path)
    ap.add_argument("--name", default="smollm2")
    ap.add_argument("--project", type=Path, help="work in (or resume) this project folder")
    ap.add_argument("--no-blind", action="store_true", help="caption verification only")
    ap.add_argument("--redo", action="store_true", help="verify every item again")
    ap.add_argument("--only", help="only items whose key starts so (c: the corrected set)")
    args = ap.parse_args()
    print(run(args.gguf or smollm2_gguf(), args.name, args.project, blind=not args.no_blind,
              redo=args.redo, only=args.only))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
