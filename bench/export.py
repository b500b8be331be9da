"""Benchmark: exports of 1M instructions over 100k images, each format against a naive
Python loop (fetch every row, build dicts, json.dump / pyarrow from_pylist) in the same run.

    .venv/bin/python bench/export.py               # 1,000,000 QAs, 100,000 images
    .venv/bin/python bench/export.py --scale 0.1   # quicker
    .venv/bin/python bench/export.py --formats llava,hf

The project is generated with DuckDB `range()` inserts; by default every image is its own tiny
PNG in the project's media/ (`--storage copy`, what an import does). Both sides apply the same
answer-format suffixes and place the same images (ours hard-links them, the naive loop copies
them). Each measurement runs in its own child process (same interpreter, same project, same
output disk), so its CPU seconds (getrusage of the child, every thread) and peak RSS are its
own. What only ours does: the chat-template token scan, SHA256SUMS (it reads every data file
back) and manifest.json. What the naive loop does the slow way a first version would:
`json.dump` (Python's pure-Python encoder when writing to a file) and `tarfile`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FORMATS = ("llava", "sharegpt", "trl", "hf", "internvl", "webdataset")
SHARED = 16


def build(root: Path, n_qas: int, n_images: int, storage: str = "copy") -> None:
    """`copy` (what an import does by default): every image is its own tiny PNG under the
    project's media/, named by its sha256. `reference`: rows pointing at SHARED files outside
    the project, whose checksums the export then has to read."""
    import hashlib

    import pyarrow as pa
    from PIL import Image

    from core.project import Project

    pics = root / "pics"
    pics.mkdir(parents=True)
    for k in range(SHARED):
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (k * 15, 90, 200 - k * 10)).save(buf, "PNG")
        (pics / f"{k}.png").write_bytes(buf.getvalue())
    with Project.create(root / "proj") as p:
        shas, paths = [], []
        for r in range(n_images):
            if storage == "reference":
                shas.append(hashlib.sha256(str(r).encode()).hexdigest())
                paths.append(f"{pics}{os.sep}{r % SHARED}.png")
                continue
            buf = io.BytesIO()
            Image.new("RGB", (8, 8), (r & 255, (r >> 8) & 255, (r >> 16) & 255)).save(buf, "PNG")
            sha = hashlib.sha256(buf.getvalue()).hexdigest()
            rel = f"media/{sha[:2]}/{sha}.png"
            (p.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (p.root / rel).write_bytes(buf.getvalue())
            shas.append(sha)
            paths.append(rel)
        rows = pa.table({"r": list(range(n_images)), "sha": shas, "path": paths})
        cur = p.db.cursor()
        cur.register("bench_rows", rows)
        cur.execute(
            # mode and frames as the importer records them: the export then knows, without
            # opening the files, that they need no normalizing (as for any imported image)
            "INSERT INTO images (sha256, width, height, format, mode, n_frames, domain, storage, "
            "path, status, license) "
            "SELECT sha, 8, 8, 'PNG', 'RGB', 1, ['nature', 'charts', 'documents', 'art'][1 + r % 4], "
            "?, path, 'accepted', ['CC-BY-4.0', 'CC0'][1 + r % 2] FROM bench_rows ORDER BY r",
            [storage],
        )
        cur.unregister("bench_rows")
        cur.execute(
            """INSERT INTO instructions (image_id, itype, lang, question, options, answer, status)
            SELECT 1 + (r % ?),
                   ['judgement', 'multiple_choice', 'short_vqa', 'long_vqa'][1 + (r // ?) % 4],
                   CASE WHEN r % 10 = 0 THEN 'zh' ELSE 'en' END,
                   'Question ' || r || ': what does the picture show about item ' || (r % 97) || '?',
                   CASE WHEN (r // ?) % 4 = 1 THEN ['red', 'green', 'blue', 'grey'] END,
                   CASE (r // ?) % 4 WHEN 0 THEN 'yes' WHEN 1 THEN 'B' WHEN 2 THEN 'A square.'
                        ELSE 'A longer answer that describes the picture in a full sentence ' || r END,
                   'accepted'
            FROM range(?) t(r)""",
            [n_images, n_images, n_images, n_images, n_qas],
        )


# ---------------------------------------------------------------------------- the two sides
def ours(project_root: Path, fmt: str, out: Path) -> int:
    from core.export.writer import ExportOptions, export_project
    from core.project import Project

    p = Project.open(project_root)
    try:
        return export_project(p, out, ExportOptions(fmt)).manifest["counts"]["records"]
    finally:
        p.close(backup_on_close=False)  # a snapshot of the project is not the export's cost


def _render(q, options, suffix):
    parts = [q, *(f"{'ABCDEFGH'[i]}. {o}" for i, o in enumerate(options or []))]
    return "\n".join([*parts, suffix] if suffix else parts)


def naive(project_root: Path, fmt: str, out: Path) -> int:
    """What a first version would write: every row into Python, a dict per record, one dump."""
    import hashlib

    from core.domains.answer_formats import project_answer_formats
    from core.project import Project

    out.mkdir(parents=True)
    p = Project.open(project_root)
    try:
        pick = project_answer_formats(p.db).suffix
        rows = p.db.fetchall(
            "SELECT i.sha256, i.storage, i.path, i.domain, i.license, n.itype, n.lang, n.question, "
            "n.options, n.answer FROM instructions n JOIN images i ON i.id = n.image_id "
            "WHERE n.status = 'accepted' ORDER BY i.sha256, n.id"
        )
        records, seen, cache = [], set(), {}
        for k, (sha, storage, path, dom, lic, itype, lang, q, opts, ans) in enumerate(rows):
            key = hashlib.md5(f"{sha}\x1f{itype}\x1f{q}".encode()).hexdigest()
            text = _render(q, opts, pick(itype, lang, key))
            rel = f"{sha[:2]}/{sha}.png"
            meta = {"domain": dom, "license": lic, "turns": [{"itype": itype, "lang": lang}]}
            if fmt == "hf":
                if sha not in cache:
                    cache = {sha: Path(p.resolve_media(storage, path)).read_bytes()}
                msgs = [
                    {"role": "user", "content": "<image>\n" + text},
                    {"role": "assistant", "content": ans},
                ]
                records.append(
                    {
                        "id": f"{sha[:16]}-{k}",
                        "images": [{"bytes": cache[sha], "path": rel}],
                        "messages": msgs,
                        "meta": meta,
                    }
                )
                continue
            if fmt == "webdataset":
                if sha not in cache:
                    cache = {sha: Path(p.resolve_media(storage, path)).read_bytes()}
                conv = [
                    {"from": "human", "value": "<image>\n" + text},
                    {"from": "gpt", "value": ans},
                ]
                key = f"{sha[:16]}-{k}"
                records.append(
                    (
                        {"id": key, "image": f"{key}.png", "conversations": conv, "meta": meta},
                        cache[sha],
                    )
                )
                continue
            if sha not in seen:
                seen.add(sha)
                dest = out / "images" / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p.resolve_media(storage, path), dest)
            if fmt in ("llava", "internvl"):
                conv = [
                    {"from": "human", "value": "<image>\n" + text},
                    {"from": "gpt", "value": ans},
                ]
                records.append(
                    {"id": f"{sha[:16]}-{k}", "image": rel, "conversations": conv, "meta": meta}
                )
            elif fmt == "sharegpt":
                msgs = [
                    {"role": "user", "content": "<image>\n" + text},
                    {"role": "assistant", "content": ans},
                ]
                records.append(
                    {
                        "id": f"{sha[:16]}-{k}",
                        "messages": msgs,
                        "images": ["images/" + rel],
                        "meta": meta,
                    }
                )
            else:
                msgs = [
                    {
                        "role": "user",
                        "content": [{"type": "image"}, {"type": "text", "text": text}],
                    },
                    {"role": "assistant", "content": [{"type": "text", "text": ans}]},
                ]
                records.append(
                    {
                        "id": f"{sha[:16]}-{k}",
                        "messages": msgs,
                        "images": ["images/" + rel],
                        "meta": meta,
                    }
                )
    finally:
        p.close(backup_on_close=False)
    if fmt == "hf":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(records), out / "train.parquet", compression="zstd")
    elif fmt == "webdataset":
        import tarfile

        for start in range(0, len(records), 5000):
            name = out / f"train-{start // 5000:06d}.tar"
            with tarfile.open(name, "w", format=tarfile.USTAR_FORMAT) as tar:
                for rec, data in records[start : start + 5000]:
                    for member, blob in (
                        (rec["image"], data),
                        (rec["id"] + ".json", json.dumps(rec, ensure_ascii=False).encode()),
                    ):
                        info = tarfile.TarInfo(member)
                        info.size, info.mode, info.mtime = len(blob), 0o644, 0
                        tar.addfile(info, io.BytesIO(blob))
    elif fmt in ("trl", "internvl"):
        with open(out / "train.jsonl", "w", encoding="utf-8") as f:
            for r in records:
                json.dump(r, f, ensure_ascii=False)
                f.write("\n")
        if fmt == "internvl":
            meta = {
                "mmstudio_train": {
                    "root": "images/",
                    "annotation": "train.jsonl",
                    "data_augment": False,
                    "repeat_time": 1,
                    "length": len(records),
                }
            }
            (out / "meta.json").write_text(json.dumps(meta, indent=2))
    else:
        with open(out / "train.json", "w", encoding="utf-8") as f:
            json.dump(records, f, ensure_ascii=False)
    return len(records)


# ---------------------------------------------------------------------------- driver
def _project(args, work: Path, n_qas: int, n_images: int) -> Path:
    """The project to export: built in `work`, or kept in --cache for the next run (the
    exports never write into it; each side closes it without a backup)."""
    where = work
    if args.cache:
        where = Path(args.cache) / f"{n_qas}-{n_images}-{args.storage}"
        if (where / "proj" / ".built").exists():
            print(f"project: reusing {where / 'proj'}", file=sys.stderr)
            return where / "proj"
        shutil.rmtree(where, ignore_errors=True)
    t0 = time.perf_counter()
    build(where, n_qas, n_images, args.storage)
    (where / "proj" / ".built").write_text("done\n")
    print(
        f"project: {n_qas:,} instructions over {n_images:,} images, built in "
        f"{time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    return where / "proj"


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not getrusage's ru_maxrss: Linux carries the parent's
    high-water mark across fork and exec into it, so a child of a bench that had just built a
    326 MB project reported 326 MB whatever it used itself. VmHWM belongs to the address space
    exec made."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (
        1024 * 1024 if sys.platform == "darwin" else 1024
    )


def child(args) -> int:
    fn = ours if args.side == "ours" else naive
    t0 = time.perf_counter()
    n = fn(Path(args.project), args.fmt, Path(args.out))
    secs = time.perf_counter() - t0
    use = resource.getrusage(resource.RUSAGE_SELF)
    cpu = use.ru_utime + use.ru_stime
    print(
        json.dumps(
            {"records": n, "seconds": secs, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb()}
        )
    )
    return 0


def run_side(side: str, project: Path, fmt: str, out: Path) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        side,
        "--project",
        str(project),
        "--fmt",
        fmt,
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{side} {fmt} failed:\n{done.stderr}")
    shutil.rmtree(out, ignore_errors=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 1M instructions over 100k images"
    )
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--repeat", type=int, default=1, help="runs per side; the fastest counts")
    ap.add_argument(
        "--workdir",
        help="where the project and outputs go (default: the system temp folder; /dev/shm "
        "takes the disk out of the measurement)",
    )
    ap.add_argument(
        "--storage",
        choices=("copy", "reference"),
        default="copy",
        help="copy: images in the project's media/ (an import's default); reference: outside",
    )
    ap.add_argument(
        "--sides", default="ours,naive", help="ours,naive (default) or ours: RSS/CPU only"
    )
    ap.add_argument(
        "--cache",
        help="folder to keep the built project in and reuse on the next run with the same "
        "--scale and --storage (a 1M project takes minutes to build)",
    )
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", choices=("ours", "naive"), dest="side", help=argparse.SUPPRESS)
    ap.add_argument("--project", help=argparse.SUPPRESS)
    ap.add_argument("--fmt", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        return child(args)
    n_qas, n_images = int(1_000_000 * args.scale), int(100_000 * args.scale)
    work = Path(tempfile.mkdtemp(prefix="mmstudio-bench-export-", dir=args.workdir))
    try:
        proj = _project(args, work, n_qas, n_images)
        sides = [x for x in ("ours", "naive") if x in args.sides.split(",")]
        results = {}
        if not args.json:
            print(f"load: {os.getloadavg()[0]:.1f} (1-min load average at the start)")
            print(
                f"{'format':10} {'ours s':>8} {'naive s':>8} {'wall x':>7} {'ours cpu':>9} "
                f"{'naive cpu':>9} {'cpu x':>6} {'ours RSS':>9} {'naive RSS':>10}",
                flush=True,
            )
        for fmt in args.formats.split(","):
            # Interleaved and best-of-N: a busy machine slows one run, not one side.
            runs = {side: [] for side in sides}
            for _ in range(max(1, args.repeat)):
                for side in runs:
                    runs[side].append(run_side(side, proj, fmt, work / f"{side}-{fmt}"))
            best = {side: min(runs[side], key=lambda r: r["seconds"]) for side in sides}
            a, b = best["ours"], best.get("naive")
            if b and a["records"] != b["records"]:
                raise SystemExit(f"{fmt}: ours wrote {a['records']} records, naive {b['records']}")
            r = results[fmt] = {"ours": a}
            if b:
                r |= {"naive": b, "speedup": b["seconds"] / a["seconds"],
                      "cpu_speedup": b["cpu_seconds"] / a["cpu_seconds"]}  # fmt: skip
            if not args.json:
                n = b or {"seconds": float("nan"), "cpu_seconds": float("nan"),
                          "peak_rss_mb": float("nan")}  # fmt: skip
                print(
                    f"{fmt:10} {a['seconds']:8.2f} {n['seconds']:8.2f} "
                    f"{r.get('speedup', float('nan')):6.1f}x {a['cpu_seconds']:8.1f}s "
                    f"{n['cpu_seconds']:8.1f}s {r.get('cpu_speedup', float('nan')):5.1f}x "
                    f"{a['peak_rss_mb']:7.0f}MB {n['peak_rss_mb']:8.0f}MB",
                    flush=True,
                )
        if args.json:
            print(
                json.dumps(
                    {"instructions": n_qas, "images": n_images, "formats": results}, indent=2
                )
            )
        else:
            print(f"load: {os.getloadavg()[0]:.1f} (1-min load average at the end)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
