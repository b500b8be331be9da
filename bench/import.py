"""Benchmark: `import_paths` against a naive one-process loop, on the same files, in one run.

    .venv/bin/python bench/import.py            # 2,000 JPEGs of 1600x1200 + 5 % exact copies
    .venv/bin/python bench/import.py --n 400    # quicker

The naive loop is what a first version would do per file: open with PIL, decode fully,
thumbnail to 256 px, save WebP, sha256 the bytes. Ours also writes the content-addressed copy,
computes a perceptual hash and fills DuckDB, and still has to be faster.

The floor is the work no importer can skip, timed per file in this process on a sample:
read + sha256 + draft (DCT-scaled) decode + encoding the thumbnail the way ours does, then
scaled to the usable CPUs. "ours / floor" says how close the import comes to it. "pinned"
adds the two steps the stored pHashes fix (the bilinear shrink that is the pHash's input, and
the pHash): the best any import that keeps older projects' pHashes can do. The resize table
shows what a cheaper filter would cost in PSNR and in pHash bits, on these files and on the
demo's real photos.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 1600, 1200


def _make(args: tuple[str, int]) -> None:
    path, seed = args
    rng = np.random.default_rng(seed)
    base = Image.fromarray((rng.random((9, 12, 3)) * 255).astype(np.uint8))
    base = np.asarray(base.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC), dtype=np.int16)
    # Fine grain, so that files have a photo's size (~0.4 MB, 1.7 bits/pixel at quality 90)
    # and entropy-decoding cost, rather than being flat colour fields.
    grain = rng.integers(-6, 7, size=(HEIGHT, WIDTH, 1), dtype=np.int16)
    Image.fromarray((base + grain).clip(0, 255).astype(np.uint8)).save(path, quality=90)


def generate(folder: Path, n: int, dup_ratio: float = 0.05) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(str(folder / f"img_{i:05d}.jpg"), i) for i in range(n)]
    with multiprocessing.get_context("spawn").Pool() as pool:
        pool.map(_make, jobs, chunksize=8)
    files = [Path(p) for p, _ in jobs]
    rng = np.random.default_rng(1)
    for k, i in enumerate(rng.choice(n, size=int(n * dup_ratio), replace=False)):
        copy = folder / f"copy_{k:05d}.jpg"
        shutil.copyfile(files[i], copy)
        files.append(copy)
    return files


class PeakRSS:
    """Highest sum of RSS over this process and all its descendants, sampled every 50 ms, and
    the CPU seconds they used (last sample of each descendant, this process exactly, less the
    sampler's own): on a loaded machine wall time depends on the share the scheduler grants,
    CPU time does not. The sampler's reads of /proc cost as much as a fifth of a core; they
    are the benchmark's cost, not the import's."""

    def __init__(self):
        import psutil

        self._psutil = psutil
        self.peak = 0
        self._cpu: dict[int, float] = {}
        self._own0 = time.process_time()
        self.cpu = 0.0
        self._sampler_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = self._psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                    if p.pid != me.pid:
                        t = p.cpu_times()
                        self._cpu[p.pid] = t.user + t.system
                except self._psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.05)
        self._sampler_cpu = time.thread_time()

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        own = time.process_time() - self._own0 - self._sampler_cpu
        self.cpu = own + sum(self._cpu.values())


def naive(files: list[Path], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        with Image.open(f) as im:
            im.load()
            im.thumbnail((256, 256))
            im.save(out / f"{digest}.webp", "WEBP", quality=80)


def floor_seconds(files: list[Path], sample: int, side: int = 256) -> tuple[float, float]:
    """Per-file CPU seconds of read + hash + draft decode + thumbnail encode, one core (CPU
    time, not wall time: on a shared machine the wall clock measures the neighbours); and of
    the two steps the pHash pins on top of it: the bilinear shrink to the thumbnail, which is
    the pHash's input, and the pHash itself (values must equal the ones older projects
    stored, so neither can be swapped for a cheaper filter without a migration)."""
    from core.library.phash import phash
    from core.library.worker import THUMB_ENCODERS, _shrunk

    fmt, options = THUMB_ENCODERS["jpg"]
    picked = files[:: max(1, len(files) // sample)][:sample]
    spent = pinned = 0.0
    for f in picked:
        t0 = time.process_time()
        data = f.read_bytes()
        hashlib.sha256(data).hexdigest()
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (side, side))
            im.decodermaxblock = max(im.decodermaxblock, len(data))  # as the worker does
            im.load()
            spent += time.process_time() - t0
            t0 = time.process_time()
            thumb = _shrunk(im, side)
            phash(thumb)
            pinned += time.process_time() - t0
            t0 = time.process_time()
            thumb.save(io.BytesIO(), fmt, **options)
            spent += time.process_time() - t0
    return spent / len(picked), pinned / len(picked)


TRADE = (
    ("JPEG q85 (ours)", "JPEG", {"quality": 85}),
    ("WebP q80 method 0", "WEBP", {"quality": 80, "method": 0}),
    ("WebP q80 method 4 (default)", "WEBP", {"quality": 80}),
)


def thumb_trade(
    files: list[Path], sample: int, side: int = 256
) -> list[tuple[str, float, float, float]]:
    """(encoder, CPU ms, bytes, PSNR dB) per thumbnail encoder on the same 256-px thumbnails,
    PSNR against the thumbnail before encoding."""
    from core.library.worker import _shrunk

    picked = files[:: max(1, len(files) // sample)][:sample]
    thumbs = []
    for f in picked:
        with Image.open(f) as im:
            im.draft("RGB", (side, side))
            thumbs.append(_shrunk(im.convert("RGB"), side))
    rows = []
    for label, fmt, options in TRADE:
        spent, size, err = 0.0, 0, []
        for th in thumbs:
            buf = io.BytesIO()
            t0 = time.process_time()
            th.save(buf, fmt, **options)
            spent += time.process_time() - t0
            size += buf.tell()
            with Image.open(buf) as back:
                diff = np.asarray(back.convert("RGB"), np.float64) - np.asarray(th, np.float64)
            err.append(float(np.mean(diff**2)))
        psnr = 10 * np.log10(255.0**2 / max(np.mean(err), 1e-12))
        rows.append((label, spent / len(thumbs) * 1000, size / len(thumbs), float(psnr)))
    return rows


RESAMPLES = ("BILINEAR", "BOX", "NEAREST", "BICUBIC")  # the first is ours
DEMO_PHOTOS = Path(__file__).resolve().parent.parent / "resources" / "demo" / "images"


def resize_trade(files: list[Path], side: int = 256) -> list[tuple[str, str, float, float, float]]:
    """(set, filter, CPU ms, PSNR dB, pHash bits moved) of shrinking the decoded picture (the
    draft for JPEGs) to the thumbnail with each filter. PSNR is against a Lanczos resize of
    the full-size decode, the best thumbnail these pixels allow; the pHash is computed from
    the thumbnail, so a filter that moves its bits changes the values older projects stored."""
    from core.library.phash import phash

    photos = sorted(p for p in DEMO_PHOTOS.glob("*/*.jpg"))  # real photos, 451-800 px
    rows = []
    for label, paths in (("bench files", files), ("demo photos", photos)):
        acc = {name: [0.0, 0.0, 0] for name in RESAMPLES}
        for path in paths:
            with Image.open(path) as full:
                full = full.convert("RGB")
            scale = side / max(full.size)
            size = (max(1, round(full.width * scale)), max(1, round(full.height * scale)))
            ideal = np.asarray(full.resize(size, Image.Resampling.LANCZOS), np.float64)
            with Image.open(path) as im:
                im.draft("RGB", (side, side))
                im = im.convert("RGB")
            base = None
            for name in RESAMPLES:
                t0 = time.process_time()
                th = im.resize(size, Image.Resampling[name], reducing_gap=None)
                spent = time.process_time() - t0
                base = phash(th) if base is None else base
                mse = float(np.mean((np.asarray(th, np.float64) - ideal) ** 2))
                a = acc[name]
                a[0] += spent
                a[1] += 10 * np.log10(255.0**2 / max(mse, 1e-12))
                a[2] += bin(phash(th) ^ base).count("1")
        n = max(1, len(paths))
        for name, (spent, psnr, bits) in acc.items():
            rows.append((f"{label} ({len(paths)})", name, spent / n * 1000, psnr / n, bits / n))
    return rows


def ours(files_dir: Path, project_dir: Path, workers: int | None):
    from core.library.importer import import_paths
    from core.project import Project

    with Project.create(project_dir) as project:
        return import_paths(project, [files_dir], workers=workers)


def timed(fn, *args):
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        result = fn(*args)
        seconds = time.perf_counter() - t0
    return result, seconds, rss.peak, rss.cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="distinct images (default 2000)")
    ap.add_argument("--workers", type=int, default=None, help="import workers (default: CPUs)")
    ap.add_argument("--keep", type=Path, help="generate into / reuse this folder")
    ap.add_argument("--floor-sample", type=int, default=200, help="files timed for the floor")
    ap.add_argument("--generate-only", action="store_true", help="make the files, time nothing")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="mmstudio-bench-"))
    src = args.keep or tmp / "images"
    try:
        t0 = time.perf_counter()
        files = sorted(src.glob("*.jpg")) if args.keep and src.is_dir() else []
        if len(files) < args.n:
            files = generate(src, args.n)
        mb = sum(f.stat().st_size for f in files) / 1e6
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        print(
            f"{len(files)} files ({args.n} distinct {WIDTH}x{HEIGHT} JPEGs + exact copies), "
            f"{mb:.0f} MB ({mb * 1000 / len(files):.0f} kB each), ready in "
            f"{time.perf_counter() - t0:.1f} s; {cpus} usable CPUs",
            flush=True,
        )
        if args.generate_only:
            return 0
        for f in files:  # both contenders start from the page cache
            f.read_bytes()

        per_file, pinned = floor_seconds(files, args.floor_sample)
        _, t_naive, rss_naive, cpu_naive = timed(naive, files, tmp / "naive")
        summary, t_ours, rss_ours, cpu_ours = timed(ours, src, tmp / "project", args.workers)
        counts = summary.to_json()
        counts["rejected"] = len(counts["rejected"])
        print(f"import summary: {counts}")
        n = len(files)
        print(
            f"naive loop : {n / t_naive:7.1f} images/s  ({t_naive:.2f} s, "
            f"peak RSS {rss_naive / 2**20:.0f} MiB)"
        )
        print(
            f"import     : {n / t_ours:7.1f} images/s  ({t_ours:.2f} s, "
            f"peak RSS {rss_ours / 2**20:.0f} MiB summed over parent + workers)"
        )
        print(f"ratio      : {t_naive / t_ours:.2f}x")
        used = args.workers or cpus
        print(
            f"CPU time   : naive {cpu_naive / n * 1000:.2f} ms/file, ours {cpu_ours / n * 1000:.2f} "
            f"ms/file over all processes ({cpu_naive / cpu_ours:.2f}x less; x {used} cores "
            f"= {cpu_naive / cpu_ours * used:.2f}x on an idle machine)"
        )
        floor = used / per_file
        print(
            f"floor      : {floor:7.1f} images/s  (read + sha256 + draft decode + thumbnail "
            f"encode = {per_file * 1000:.2f} ms per file per core x {used} cores); "
            f"ours / floor = {n / t_ours / floor:.2f} by wall time, "
            f"{per_file / (cpu_ours / n):.2f} by CPU time per file"
        )
        # The target is 5x the naive loop; on an idle machine the ratio is CPU per file times
        # the cores, so the floor alone bounds what any importer of these files can reach.
        print(
            f"5x target  : needs <= {cpu_naive / n / 5 * used * 1000:.2f} ms/file of CPU; "
            f"the floor alone would give {cpu_naive / n / per_file * used:.2f}x, ours "
            f"{cpu_naive / cpu_ours * used:.2f}x"
        )
        best = per_file + pinned
        print(
            f"pinned     : + bilinear shrink and pHash {pinned * 1000:.2f} ms = "
            f"{best * 1000:.2f} ms/file: at most {cpu_naive / n / best * used:.2f}x with no "
            f"writes, no parent and no start-up at all"
        )
        print("thumbnail encoders on the same 256-px thumbnails (CPU ms, bytes, PSNR):")
        for label, ms, size, psnr in thumb_trade(files, min(args.floor_sample, 100)):
            print(f"  {label:28s} {ms:6.2f} ms  {size / 1024:5.1f} KiB  {psnr:5.1f} dB")
        print("thumbnail resize from the decoded picture (CPU ms, PSNR, pHash bits moved):")
        for label, name, ms, psnr, bits in resize_trade(files[:: max(1, len(files) // 40)][:40]):
            print(f"  {label:18s} {name:9s} {ms:5.2f} ms  {psnr:5.1f} dB  {bits:4.2f} bits")
        print(f"load       : {os.getloadavg()[0]:.1f} (1-min load average at the end)")
        self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(
            f"ru_maxrss  : this process {self_kb / 1024:.0f} MiB, "
            f"largest finished child {child_kb / 1024:.0f} MiB"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
