"""Soak: a 1M-instruction / 100k-image project through every heavy step, peak RSS per step.

    .venv/bin/python bench/soak.py                  # 1,000,000 instructions, 100,000 images
    .venv/bin/python bench/soak.py --scale 0.05     # quicker
    .venv/bin/python bench/soak.py --json

Steps, each in its own child process (its peak RSS is read with wait4, so it is that step's
alone): build the project, `stats` (the baseline: open the project and count), the check
stage, a bulk decision (accept 100k instructions through the review store, after the
`snapshot()` hook that bulk operations call), `export` in every format, `doctor` (full: every
block read, every media file hashed), `backup create`.

The project is synthesised: instruction rows by DuckDB `range()` inserts; every image row
has its own real media file (an 8x8 PNG made unique by a tEXt chunk holding its number, so
the sha256 in the row is right and doctor has real work) and a thumbnail (one tiny JPEG's
bytes, since only its presence is checked). DuckDB's memory is capped by the app through the
project setting `duckdb_memory_limit_mb` (default 1024, `--memory-limit-mb`); the target is a
peak RSS under `--target-mb` (2048) for every step, printed as PASS / OVER. Ratios are
against the `stats` step of the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FORMATS = ("llava", "sharegpt", "hf", "trl")
DOMAINS = ["nature", "charts", "documents", "art"]


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


_IHDR = _chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
_IDAT = _chunk(
    b"IDAT", zlib.compress(b"".join(b"\x00" + bytes([40, 120, 200]) * 8 for _ in range(8)))
)


def tiny_png(n: int) -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n"
        + _IHDR
        + _chunk(b"tEXt", b"soak\x00" + str(n).encode())
        + _IDAT
        + _chunk(b"IEND", b"")
    )


def build(root: Path, n_qas: int, n_images: int, memory_mb: int) -> dict:
    import io

    import pyarrow as pa
    from PIL import Image

    from core.library.worker import media_relpath, thumb_relpath
    from core.project import Project

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 120, 200)).save(buf, "JPEG")
    thumb_bytes = buf.getvalue()
    shas, paths, thumbs = [], [], []
    for n in range(n_images):
        data = tiny_png(n)
        sha = hashlib.sha256(data).hexdigest()
        rel, trel = media_relpath(sha, "png"), thumb_relpath(sha)
        for r, content in ((rel, data), (trel, thumb_bytes)):
            dest = root / r
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(content)
        shas.append(sha)
        paths.append(rel)
        thumbs.append(trel)
    rows = pa.table({"sha256": shas, "path": paths, "thumb": thumbs})  # noqa: F841 (read by SQL)
    with Project.create(root) as p:
        p.update_settings(duckdb_memory_limit_mb=memory_mb)
        cur = p.db.cursor()
        cur.execute(
            "INSERT INTO images (sha256, width, height, format, mode, bytes, domain, storage, "
            "path, thumb, status, license) "
            "SELECT sha256, 8, 8, 'PNG', 'RGB', 100, ?[1 + (row_number() OVER () - 1) % 4], "
            "'copy', path, thumb, 'accepted', 'CC0' FROM rows",
            [DOMAINS],
        )
        cur.execute(
            """INSERT INTO instructions (image_id, itype, lang, question, options, answer, status)
            SELECT 1 + (r % ?),
                   ['judgement', 'multiple_choice', 'short_vqa', 'long_vqa'][1 + (r // ?) % 4],
                   CASE WHEN r % 10 = 0 THEN 'zh' ELSE 'en' END,
                   'Question ' || r || ': what does the picture show about item ' || (r % 97) || '?',
                   CASE WHEN (r // ?) % 4 = 1 THEN ['red', 'green', 'blue', 'grey'] END,
                   CASE (r // ?) % 4 WHEN 0 THEN 'yes' WHEN 1 THEN 'B' WHEN 2 THEN 'A square.'
                        ELSE 'A longer answer that describes the picture in a full sentence ' || r END,
                   'new'
            FROM range(?) t(r)""",
            [n_images, n_images, n_images, n_images, n_qas],
        )
    return {"images": n_images, "instructions": n_qas}


def bulk_decide(root: Path, n: int) -> dict:
    """What a bulk action in the review UI does: the backup hook first, then one status
    change per instruction with its revision row, in one transaction."""
    from core.project import Project
    from core.store.backup import snapshot
    from core.store.review import set_instruction_status

    with Project.open(root) as p:
        ids = [r[0] for r in p.db.fetchall("SELECT id FROM instructions ORDER BY id LIMIT ?", [n])]
        snap = snapshot(p, "before bulk decision")
        changes = set_instruction_status(p.db, ids, "accepted", author="soak")
    return {"decided": len(changes), "snapshot_mb": round(snap.bytes / 1e6, 1)}


# ---------------------------------------------------------------------------- driver
def _child_step(args) -> int:
    root = Path(args.project)
    if args.step == "build":
        out = build(root, args.n_qas, args.n_images, args.memory_limit_mb)
    else:
        out = bulk_decide(root, args.n_decide)
    print(json.dumps(out))
    return 0


def run_step(name: str, cmd: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wait4 gives this child's own rusage; read the pipes on threads so a chatty child never blocks.
    import threading

    got = {}
    readers = [
        threading.Thread(target=lambda k, s: got.__setitem__(k, s.read()), args=(k, s))
        for k, s in (("out", proc.stdout), ("err", proc.stderr))
    ]
    for t in readers:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    for t in readers:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    secs = time.perf_counter() - t0
    result = {
        "step": name,
        "seconds": round(secs, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit": proc.returncode,
    }
    lines = got["out"].strip().splitlines()
    if proc.returncode not in (0,):
        result["stderr"] = got["err"][-2000:]
    try:
        result["output"] = (
            json.loads(got["out"]) if got["out"].strip().startswith("{") else lines[-1:]
        )
    except ValueError:
        result["output"] = lines[-3:]
    print(
        f"  {name:16} {secs:8.1f} s  {result['peak_rss_mb']:8.0f} MB  exit {proc.returncode}",
        file=sys.stderr,
    )
    return result


def _summary(step: dict) -> dict:
    """The few numbers of a step's --json output worth keeping in the table."""
    out = step.get("output")
    if not isinstance(out, dict):
        return {}
    keep = ("decided", "records", "problems", "images", "bytes", "checked", "instructions")
    found = {k: out[k] for k in keep if k in out and not isinstance(out[k], (dict, list))}
    counts = (
        out.get("manifest", {}).get("counts") if isinstance(out.get("manifest"), dict) else None
    )
    if counts:
        found["records"] = counts.get("records")
    return found


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M instructions, 100k images")
    ap.add_argument(
        "--memory-limit-mb", type=int, default=1024, help="project duckdb_memory_limit_mb"
    )
    ap.add_argument(
        "--target-mb", type=float, default=2048, help="peak RSS each step must stay under"
    )
    ap.add_argument("--workdir", help="where the project goes (default: the system temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the project folder afterwards")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", dest="step", choices=("build", "decide"), help=argparse.SUPPRESS)
    ap.add_argument("--project", help=argparse.SUPPRESS)
    ap.add_argument("--n-qas", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--n-images", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--n-decide", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        return _child_step(args)

    n_qas, n_images = int(1_000_000 * args.scale), int(100_000 * args.scale)
    n_decide = int(100_000 * args.scale)
    work = Path(tempfile.mkdtemp(prefix="mmstudio-soak-", dir=args.workdir))
    root = work / "proj"
    me = [sys.executable, str(Path(__file__).resolve())]
    cli = [sys.executable, "-m", "core"]
    env_note = f"DuckDB memory_limit {args.memory_limit_mb} MB (project setting), target RSS < {args.target_mb:.0f} MB"
    print(f"soak: {n_qas:,} instructions, {n_images:,} images; {env_note}", file=sys.stderr)
    steps = []
    try:
        plan = [
            (
                "build",
                me
                + [
                    "--child",
                    "build",
                    "--project",
                    str(root),
                    "--n-qas",
                    str(n_qas),
                    "--n-images",
                    str(n_images),
                    "--memory-limit-mb",
                    str(args.memory_limit_mb),
                ],
            ),
            ("stats", cli + ["stats", str(root), "--json"]),
            ("check", cli + ["run", str(root), "--stage", "check", "--json"]),
            (
                "bulk decision",
                me + ["--child", "decide", "--project", str(root), "--n-decide", str(n_decide)],
            ),
        ]
        plan += [
            (
                f"export {fmt}",
                cli
                + [
                    "export",
                    str(root),
                    "--format",
                    fmt,
                    "--out",
                    str(work / f"out-{fmt}"),
                    "--json",
                ],
            )
            for fmt in FORMATS
        ]
        plan += [
            ("doctor", cli + ["doctor", str(root), "--json"]),
            ("backup", cli + ["backup", "create", str(root), "--reason", "soak", "--json"]),
        ]  # fmt: skip
        for name, cmd in plan:
            step = run_step(name, cmd)
            steps.append(step)
            if step["exit"] != 0:
                print(step.get("stderr", ""), file=sys.stderr)
                break
            if name.startswith("export"):
                shutil.rmtree(work / f"out-{name.split()[1]}", ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    base = next((s for s in steps if s["step"] == "stats"), None)
    for s in steps:
        s["rss_vs_stats"] = round(s["peak_rss_mb"] / base["peak_rss_mb"], 2) if base else None
        s["under_target"] = s["peak_rss_mb"] < args.target_mb
    report = {
        "instructions": n_qas,
        "images": n_images,
        "duckdb_memory_limit_mb": args.memory_limit_mb,
        "target_rss_mb": args.target_mb,
        "steps": [
            {k: v for k, v in s.items() if k not in ("output", "stderr")} | _summary(s)
            for s in steps
        ],
        "all_under_target": all(s["under_target"] for s in steps)
        and all(s["exit"] == 0 for s in steps),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{'step':16} {'seconds':>8} {'cpu s':>8} {'peak RSS':>10} {'x stats':>8}  limit")
        for s in report["steps"]:
            print(
                f"{s['step']:16} {s['seconds']:8.1f} {s['cpu_seconds']:8.1f} {s['peak_rss_mb']:8.0f}MB "
                f"{s['rss_vs_stats'] or 0:7.2f}x  {'PASS' if s['under_target'] else 'OVER'}"
                + ("" if s["exit"] == 0 else f"  (exit {s['exit']})")
            )
        print(env_note)
    return 0 if report["all_under_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
