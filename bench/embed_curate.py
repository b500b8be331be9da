"""The Curate tab's costs, run from bench/embed.py: embedding a pool folder (the "more like
this" index), the throughput of a ViT-B/32-sized CLIP with random weights (real weights cannot
be downloaded here; the compute is the same), an ANN index (faiss, when importable) against
the brute-force top-k, near-duplicate grouping at 100k, and GUI-thread stalls while the
desktop's embedding job runs. Each prints a ratio against a baseline of the same run."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np


def make_jpegs(folder: Path, n: int, size=(320, 240)) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    paths = []
    for i in range(n):
        small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)  # smooth blobs, like photos
        img = Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
        path = folder / f"{i:06d}.jpg"
        img.save(path, quality=85)
        paths.append(path)
    return paths


def base_clip(folder: Path) -> Path:
    """A CLIP with ViT-B/32's shapes (CLIPConfig defaults) and random weights, saved like a
    downloaded checkpoint, with the tiny word-level tokenizer."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

    from tests.collect.tiny_clip import train_tokenizer

    tok = train_tokenizer()
    cfg = CLIPConfig(text_config=dict(vocab_size=len(tok), eos_token_id=tok.eos_token_id,
                                      bos_token_id=tok.bos_token_id,
                                      pad_token_id=tok.pad_token_id,
                                      max_position_embeddings=77))  # fmt: skip
    torch.manual_seed(0)
    CLIPModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    CLIPImageProcessorPil(size={"shortest_edge": 224},
                          crop_size={"height": 224, "width": 224}).save_pretrained(folder)  # fmt: skip
    return folder


def bench_pool(tmp: Path, n: int, tiny: Path, threads: int) -> None:
    import torch

    from core.collect.encoder import load_encoder
    from core.collect.imageio import open_rgb
    from core.collect.pool_index import index_pool
    from core.project import Project

    torch.set_num_threads(threads)
    enc = load_encoder(str(tiny), device="cpu")
    t0 = time.perf_counter()
    paths = make_jpegs(tmp / "pool", n)
    made_s = time.perf_counter() - t0
    sample = [open_rgb(p, 10**8) for p in paths[:512]]
    t0 = time.perf_counter()
    for i in range(0, len(sample), 16):
        enc.encode_images(sample[i : i + 16])
    model_rate = len(sample) / (time.perf_counter() - t0)
    with Project.create(tmp / "pool-proj") as project:
        t0 = time.perf_counter()
        index = index_pool(project, tmp / "pool", encoder=enc, batch_size=16)
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        index_pool(project, tmp / "pool", encoder=enc, batch_size=16)
        cached_s = time.perf_counter() - t0
        q = index.vecs[0]
        t0 = time.perf_counter()
        for _ in range(20):
            index.nearest(q, 50)
        query_ms = (time.perf_counter() - t0) / 20 * 1000
    rate = len(index) / first_s
    print(f"\npool index, {n:,} JPEGs 320x240 (written in {made_s:.0f} s), tiny CLIP, "
          f"torch threads={threads}")  # fmt: skip
    print(f"  model only, decoded in memory (baseline): {model_rate:9.1f} images/s")
    print(f"  index_pool first run (hash + decode + model + cache): {rate:9.1f} images/s "
          f"= {first_s:6.1f} s  {rate / model_rate:5.2f}x")  # fmt: skip
    print(f"  index_pool again (cache hit, files stat'ed and hashed): {cached_s:6.1f} s  "
          f"{first_s / cached_s:5.1f}x faster")  # fmt: skip
    print(f"  top-50 over the pool: {query_ms:.2f} ms")


def bench_base_clip(tmp: Path, n: int, threads: int) -> Path:
    import torch

    from core.collect.embed import embed_images
    from core.collect.encoder import load_encoder
    from core.library.importer import import_paths
    from core.project import Project

    torch.set_num_threads(threads)
    folder = base_clip(tmp / "base-clip")
    enc = load_encoder(str(folder), device="cpu")
    paths = make_jpegs(tmp / "base-jpegs", n, (640, 480))
    with Project.create(tmp / "base-proj") as project:
        import_paths(project, paths, domain="bench", workers=0)
        embed_images(project, encoder=enc, ids=[1, 2], batch_size=2)  # warm-up
        rates = {}
        for batch in (4, 16, 32):
            t0 = time.perf_counter()
            got = embed_images(project, encoder=enc, batch_size=batch, force=True)
            rates[batch] = got.embedded / (time.perf_counter() - t0)
    base = rates[32]
    print(f"\nViT-B/32-sized CLIP (random weights, {enc.dim}-d), CPU, torch threads={threads}, "
          f"{n} images 640x480, embed_images")  # fmt: skip
    for batch, rate in rates.items():
        print(f"  batch {batch:>2}: {rate:7.2f} images/s  {rate / base:5.2f}x of batch 32; "
              f"10k pool ~ {10_000 / rate / 60:5.1f} min")  # fmt: skip
    return folder


def bench_ann(mat: np.ndarray, queries: np.ndarray, k: int, exact_ms: float) -> None:
    """faiss IVF-Flat (and HNSW below 200k) against brute force: build, latency, recall@k."""
    try:
        import faiss
    except ImportError:
        print("  ANN: faiss is not importable here; skipped (pip install faiss-cpu to compare)")
        return
    n, dim = mat.shape
    truth = [set(np.argpartition(-(mat @ q), k)[:k].tolist()) for q in queries]
    nlist = int(4 * np.sqrt(n))
    indexes = {}
    t0 = time.perf_counter()
    quant = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quant, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    train = mat[np.random.default_rng(2).choice(n, min(n, 40 * nlist), replace=False)]
    ivf.train(train)
    ivf.add(mat)
    ivf.nprobe = 16
    indexes[f"faiss IVF{nlist},Flat nprobe=16"] = (ivf, time.perf_counter() - t0)
    if n <= 200_000:
        t0 = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efSearch = 64
        hnsw.add(mat)
        indexes["faiss HNSW32 efSearch=64"] = (hnsw, time.perf_counter() - t0)
    for name, (index, build_s) in indexes.items():
        times, hits = [], 0
        for q, want in zip(queries, truth, strict=True):
            t0 = time.perf_counter()
            _, got = index.search(q[None, :], k)
            times.append((time.perf_counter() - t0) * 1000)
            hits += len(want & set(got[0].tolist()))
        med = statistics.median(times)
        print(f"  {name:<52}{med:9.2f} ms  {med / exact_ms:6.3f}x  recall@{k} "
              f"{hits / (k * len(queries)):.3f}, built in {build_s:.1f} s")  # fmt: skip


def bench_dups(n: int, dim: int, threshold: float = 0.95) -> None:
    """Exact grouping (core.collect.similarity, blocked matmul + connected components) on n
    random unit vectors with 1 % planted near duplicates; the baseline is one top-k query."""
    from core.collect.similarity import _components, duplicate_pairs

    rng = np.random.default_rng(3)
    mat = rng.standard_normal((n, dim), dtype=np.float32)
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    planted = rng.choice(n, n // 100, replace=False)
    src = rng.choice(n, n // 100, replace=False)
    noisy = mat[src] + 0.01 * rng.standard_normal((len(src), dim), dtype=np.float32)
    mat[planted] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    t0 = time.perf_counter()
    top = np.argpartition(-(mat @ mat[0]), 20)[:20]
    one_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    a, b, _s = duplicate_pairs(mat, threshold)
    labels = _components(n, a, b)
    took = time.perf_counter() - t0
    groups = int((np.bincount(labels) > 1).sum())
    print(f"\nnear-duplicate grouping, {n:,} x {dim}-d, cosine >= {threshold}: {took:.1f} s, "
          f"{groups:,} groups ({len(top)} = k; one top-k query {one_ms:.1f} ms, grouping = "
          f"{took * 1000 / one_ms:,.0f} queries)")  # fmt: skip


def bench_gui_stalls(tmp: Path, model: Path, n: int, label: str, batch: int) -> None:
    """The longest gap between 5 ms timer ticks on the GUI thread, idle and while the Curate
    tab's ClipWorker embeds `n` images."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from core.library.importer import import_paths
    from core.project import Project
    from desktop.workers.clip_worker import ClipWorker, job_threads

    app = QApplication.instance() or QApplication([])
    paths = make_jpegs(tmp / f"gui-{label}", n, (640, 480))
    project = Project.create(tmp / f"gui-proj-{label}")
    import_paths(project, paths, domain="bench", workers=0)

    def ticks(run_until) -> list[tuple[float, float]]:
        """(time the gap ended, gap) in ms since the start, for each timer tick."""
        gaps, clock = [], QElapsedTimer()
        clock.start()
        last = [clock.elapsed()]

        def tick():
            now = clock.elapsed()
            gaps.append((now, now - last[0]))
            last[0] = now

        timer = QTimer(interval=5)
        timer.timeout.connect(tick)
        timer.start()
        while not run_until():
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        return gaps

    worker = ClipWorker(project)
    ended, first_batch = [], []
    worker.jobFinished.connect(lambda name, s: ended.append(s))
    worker.jobFailed.connect(lambda name, m: ended.append(m))
    t0 = time.perf_counter()
    # The batches begin at the first "embed" progress; before it the model loads.
    worker.jobProgress.connect(lambda phase, d, t: phase == "embed" and not first_batch
                               and first_batch.append((time.perf_counter() - t0) * 1000))  # fmt: skip
    t_end = time.perf_counter() + 2.0
    idle = [g for _, g in ticks(lambda: time.perf_counter() > t_end)]
    t0 = time.perf_counter()
    worker.embed(str(model), batch)
    busy = ticks(lambda: bool(ended))
    took = time.perf_counter() - t0
    worker.wait()
    project.close()
    split = first_batch[0] if first_batch else 0.0
    load = [g for t, g in busy if t <= split] or [0.0]
    run = [g for t, g in busy if t > split] or [0.0]
    base = max(idle)
    print(f"\nGUI thread during the embedding job ({label}, {n} images, batch {batch}, "
          f"job threads={job_threads()}, {took:.1f} s, model load {split / 1000:.1f} s)")  # fmt: skip
    print(f"  idle (baseline): longest gap {base:.0f} ms")
    print(f"  model load (first use: torch, transformers, weights): longest gap {max(load):.0f} ms")
    print(f"  embedding batches: longest gap {max(run):.0f} ms ({max(run) / max(base, 1):.1f}x "
          f"idle), p99 {np.percentile(run, 99):.0f} ms, gaps over 100 ms: "
          f"{sum(g > 100 for g in run)} of {len(run)}")  # fmt: skip
    print(f"  {getattr(ended[0], 'describe', lambda: ended[0])()}")
