"""Embedding throughput (tiny random CLIP, CPU) and brute-force search latency over stored
embeddings: DuckDB (FLOAT[N] array functions, the app's path; a FLOAT[] list column with
list_cosine_similarity, the alternative) against numpy, measured in the same run.

    .venv/bin/python bench/embed.py [--sizes 100000,1000000] [--dim 512] [--queries 5]
        [--pool 10000] [--dups 100000] [--base-images 64] [--gui-images 200]

The Curate tab's measures (pool index, ViT-B/32-sized CLIP, ANN, duplicate grouping, GUI
stalls) live in bench/embed_curate.py; 0 skips one.

1M x 512 vectors take about 2 GB per copy; the run holds three (two tables and numpy).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fns: dict, repeat: int) -> dict[str, tuple[float, float]]:
    """name -> (first call, median of `repeat` more) in ms. The repeats go round-robin over
    the methods, so load from other processes on the machine spreads over all of them."""
    first, runs = {}, {name: [] for name in fns}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        first[name] = (time.perf_counter() - t0) * 1000
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            runs[name].append((time.perf_counter() - t0) * 1000)
    return {name: (first[name], statistics.median(runs[name])) for name in fns}


# embedding throughput ----------------------------------------------------------------------
def bench_embedding(tmp: Path, n_images: int, threads: int) -> None:
    import torch

    from core.collect.embed import embed_images
    from core.collect.encoder import load_encoder
    from core.library.importer import import_paths
    from core.project import Project
    from tests.collect.tiny_clip import build_tiny_clip
    from tests.core.import_fixtures import photo

    torch.set_num_threads(threads)
    folder = build_tiny_clip(tmp / "tiny-clip")
    enc = load_encoder(str(folder), device="cpu")
    images = [photo(i, (640, 480)) for i in range(n_images)]
    enc.encode_images(images[:8])  # warm-up
    t0 = time.perf_counter()
    for i in range(0, n_images, 32):
        enc.encode_images(images[i : i + 32])
    model_s = time.perf_counter() - t0
    texts = [f"a photo of a red fox number {i}" for i in range(n_images)]
    t0 = time.perf_counter()
    enc.encode_texts(texts)
    text_s = time.perf_counter() - t0

    src = tmp / "jpegs"
    src.mkdir()
    for i, img in enumerate(images):
        img.save(src / f"{i:05d}.jpg", quality=90)
    with Project.create(tmp / "proj") as project:
        import_paths(project, [src], domain="bench", workers=0)
        t0 = time.perf_counter()
        got = embed_images(project, encoder=enc)
        e2e_s = time.perf_counter() - t0
    print(
        f"embedding, tiny CLIP (16-d, 32 px input), CPU, torch threads={threads}, "
        f"{n_images} images 640x480"
    )
    print(f"  model only (PIL in memory -> vectors): {n_images / model_s:9.1f} images/s")
    print(
        f"  embed_images (JPEG decode + model + DuckDB write): {got.embedded / e2e_s:9.1f} images/s"
    )
    print(f"  texts: {n_images / text_s:9.1f} texts/s")


# search latency ----------------------------------------------------------------------------
def fill(project, n: int, dim: int, rng) -> np.ndarray:
    from core.store import embeddings as store

    # Synthetic library rows; the app's search joins images, so they must exist.
    project.db.execute(
        "INSERT INTO images (id, sha256, storage, path, domain) "
        "SELECT range + 1, md5(range::VARCHAR) || md5((range + 7)::VARCHAR), 'copy', 'x', "
        "CASE WHEN range % 10 = 0 THEN 'small' ELSE 'big' END FROM range(?)",
        [n],
    )
    model = store.register_model(project.db, "bench", dim)
    mat = np.empty((n, dim), np.float32)
    step = 100_000
    for start in range(0, n, step):
        block = rng.standard_normal((min(step, n - start), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        mat[start : start + len(block)] = block
        store.write_vectors(
            project.db, model, list(range(start + 1, start + 1 + len(block))), block
        )
    cur = project.db.cursor()
    cur.execute(
        f"CREATE TABLE list_vecs AS SELECT image_id, vec::FLOAT[] AS vec FROM clip_vectors_{dim}"
    )
    return mat


def bench_search(tmp: Path, n: int, dim: int, queries: int, k: int = 20) -> None:
    from core.project import Project
    from core.store import embeddings as store

    rng = np.random.default_rng(0)
    with Project.create(tmp / f"search-{n}") as project:
        t0 = time.perf_counter()
        mat = fill(project, n, dim, rng)
        load_s = time.perf_counter() - t0
        model = store.get_model(project.db, "bench")
        q = mat[rng.integers(n)] + 0.01 * rng.standard_normal(dim, dtype=np.float32)
        q /= np.linalg.norm(q)
        ql = q.tolist()
        cur = project.db.cursor()

        def numpy_topk():
            s = mat @ q
            top = np.argpartition(-s, k)[:k]
            return top[np.argsort(-s[top])]

        def app_path():  # store.nearest: inner product on FLOAT[dim], joined with images
            return store.nearest(project.db, model, q, k)

        def duck_array_cos():
            return cur.execute(
                f"SELECT image_id, array_cosine_similarity(vec, ?::FLOAT[{dim}]) AS s "
                f"FROM clip_vectors_{dim} ORDER BY s DESC LIMIT {k}",
                [ql],
            ).fetchall()

        def duck_list_cos():
            return cur.execute(
                f"SELECT image_id, list_cosine_similarity(vec, ?::FLOAT[]) AS s "
                f"FROM list_vecs ORDER BY s DESC LIMIT {k}",
                [ql],
            ).fetchall()

        def duck_list_cast():
            return cur.execute(
                f"SELECT image_id, array_inner_product(vec::FLOAT[{dim}], ?::FLOAT[{dim}]) AS s "
                f"FROM list_vecs ORDER BY s DESC LIMIT {k}",
                [ql],
            ).fetchall()

        def app_domain():  # a 10 % domain filter
            return store.nearest(project.db, model, q, k, domain="small")

        def load_numpy():
            return store.load_vectors(project.db, model)

        from core.collect.vector_index import ProjectIndex

        desktop = ProjectIndex(project, model)
        t0 = time.perf_counter()
        desktop.nearest(q, k)
        desktop_load_s = time.perf_counter() - t0

        def desktop_index():  # the Curate tab: vectors in memory, freshness checked per call
            return desktop.nearest(q, k)

        expect = [int(i) + 1 for i in numpy_topk()]
        assert [r[0] for r in desktop_index()] == expect, "the desktop index disagrees"
        assert [r[0] for r in app_path()] == expect, "DuckDB and numpy disagree"
        assert [r[0] for r in duck_list_cos()] == expect
        fns = {
            "numpy matmul + argpartition (baseline)": numpy_topk,
            "DuckDB array_inner_product FLOAT[N] + join (app)": app_path,
            "in-memory ProjectIndex (Curate tab)": desktop_index,
            "DuckDB array_cosine_similarity FLOAT[N]": duck_array_cos,
            "DuckDB list_cosine_similarity FLOAT[]": duck_list_cos,
            "DuckDB FLOAT[] cast to FLOAT[N] per query": duck_list_cast,
            "DuckDB app path, domain filter (10 %)": app_domain,
        }
        times = timed(fns, queries)
        base = times["numpy matmul + argpartition (baseline)"][1]
        print(
            f"\nsearch, {n:,} x {dim}-d unit vectors, top-{k}, {queries} queries "
            f"(median; first call in brackets); filled in {load_s:.1f} s"
        )
        for name, (first, med) in times.items():
            print(f"  {name:<52}{med:9.1f} ms [{first:8.1f}]  {med / base:5.2f}x")
        print(f"  (the in-memory index loaded in {desktop_load_s:.1f} s on its first query)")
        from bench.embed_curate import bench_ann

        extra = rng.integers(n, size=max(queries, 10))
        qs = mat[extra] + 0.01 * rng.standard_normal((len(extra), dim), dtype=np.float32)
        bench_ann(mat, qs / np.linalg.norm(qs, axis=1, keepdims=True), k, base)
        first, med = timed({"load": load_numpy}, 1)["load"]
        print(
            f"  {'load all vectors DuckDB -> numpy (load_vectors)':<52}{med:9.1f} ms [{first:8.1f}]"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=5)
    ap.add_argument("--images", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for embedding")
    ap.add_argument("--pool", type=int, default=10_000, help="images in the pool folder")
    ap.add_argument("--dups", type=int, default=100_000, help="vectors to group")
    ap.add_argument("--base-images", type=int, default=64, help="images for the B/32-sized CLIP")
    ap.add_argument("--gui-images", type=int, default=200, help="images embedded under the GUI")
    ap.add_argument("--gui-only", help=argparse.SUPPRESS)  # MODEL: the fresh-process run
    args = ap.parse_args()
    if args.gui_only:
        from bench import embed_curate as ec

        with tempfile.TemporaryDirectory(prefix="mmstudio-bench-") as tmp:
            ec.bench_gui_stalls(Path(tmp), Path(args.gui_only), args.gui_images,
                                "tiny CLIP, fresh process: torch imported by the job", 16)  # fmt: skip
        return
    import duckdb

    print(f"duckdb {duckdb.__version__}, numpy {np.__version__}")
    with tempfile.TemporaryDirectory(prefix="mmstudio-bench-") as tmp:
        from bench import embed_curate as ec
        from tests.collect.tiny_clip import build_tiny_clip

        tmp = Path(tmp)
        bench_embedding(tmp, args.images, args.threads)
        tiny = build_tiny_clip(tmp / "tiny-gui")
        if args.gui_images:
            # As in the app: the first CLIP job imports torch and transformers itself.
            import subprocess

            subprocess.run([sys.executable, __file__, "--gui-only", str(tiny),
                            "--gui-images", str(args.gui_images)], check=True)  # fmt: skip
            ec.bench_gui_stalls(tmp, tiny, args.gui_images, "tiny CLIP", 16)
        if args.base_images:
            base = ec.bench_base_clip(tmp, args.base_images, args.threads)
            if args.gui_images:
                ec.bench_gui_stalls(tmp, base, min(args.gui_images, 64), "B/32-sized CLIP", 16)
        if args.pool:
            ec.bench_pool(tmp, args.pool, tiny, args.threads)
        if args.dups:
            ec.bench_dups(args.dups, args.dim)
        for n in (int(s) for s in args.sizes.split(",") if s):
            bench_search(tmp, n, args.dim, args.queries)


if __name__ == "__main__":
    main()
