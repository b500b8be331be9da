"""The managed llama.cpp server: real `llama_cpp.server` child processes on real GGUF files."""

from __future__ import annotations

import io
import json
import os
import signal

import psutil
import pytest
from PIL import Image

from core.backends import BackendConfig, BackendUnavailable, ChatRequest, ImagePart, make_backend
from core.jobs import Limits, Stage, create_job, run_job
from core.store import jobs as store

pytestmark = pytest.mark.llama


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(buf, "PNG")
    return buf.getvalue()


def _local(name, **kw):
    return make_backend(BackendConfig(name=name, kind="llama_cpp", n_ctx=512, n_threads=1, **kw))


def test_smollm2_answers_text_through_the_managed_server(smollm2_file, studio_home):
    backend = _local("smol", gguf=str(smollm2_file))
    try:
        reply = backend.chat_sync(ChatRequest.user("What is the capital of France?", max_tokens=12))
        assert reply.text.strip() and reply.usage.prompt_tokens > 5
        assert reply.usage.completion_tokens <= 12 and reply.finish_reason in ("stop", "length")
        assert backend.cost(reply.usage) == 0.0
        server = backend.server
        proc = psutil.Process(server.pid)
        listening = [c.laddr for c in proc.net_connections() if c.status == psutil.CONN_LISTEN]
        assert [(a.ip, a.port) for a in listening] == [("127.0.0.1", server.port)]
        assert server.api_key not in " ".join(proc.cmdline())  # key travels in env, not argv
        schema = {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        }
        constrained = backend.chat_sync(
            ChatRequest.user("Name a city in France as JSON.", max_tokens=40, json_schema=schema)
        )
        assert isinstance(json.loads(constrained.text)["city"], str)
    finally:
        backend.close()
    assert not psutil.pid_exists(proc.pid) or proc.status() == psutil.STATUS_ZOMBIE
    log = (studio_home / "logs" / "llama-server-smol.log").read_text()
    assert "POST /v1/chat/completions" in log and backend.server.api_key not in log


@pytest.mark.parametrize("chat_format", ["llava-1-5", "mtmd"])
def test_tiny_vlm_accepts_an_image(tiny_vlm_files, studio_home, chat_format):
    text_gguf, mmproj = tiny_vlm_files
    backend = _local(
        f"tiny-{chat_format}", gguf=str(text_gguf), mmproj=str(mmproj), chat_format=chat_format
    )
    try:
        plain = backend.chat_sync(ChatRequest.user("describe", max_tokens=8))
        seen = backend.chat_sync(
            ChatRequest.user("describe", [ImagePart(data=_png())], max_tokens=8)
        )
    finally:
        backend.close()
    assert plain.text.strip() and seen.text.strip()  # random weights: garbage, but not empty
    # 32x32 pixels in 8x8 patches: the image adds 16 embeddings to the prompt (the template
    # around it differs by a token or two between the image and no-image prompts)
    assert seen.usage.prompt_tokens - plain.usage.prompt_tokens >= 14
    log = (studio_home / "logs" / f"llama-server-tiny-{chat_format}.log").read_text()
    assert "image slice encoded" in log


def test_the_server_restarts_once_after_a_crash_then_says_so(tiny_vlm_files):
    text_gguf, _ = tiny_vlm_files
    backend = _local("crashy", gguf=str(text_gguf))
    try:
        backend.chat_sync(ChatRequest.user("one", max_tokens=4))
        first = backend.server.pid
        os.kill(first, signal.SIGKILL)
        backend.chat_sync(ChatRequest.user("two", max_tokens=4))
        assert backend.server.pid != first and backend.server.restarts == 1
        os.kill(backend.server.pid, signal.SIGKILL)
        with pytest.raises(BackendUnavailable, match="died again"):
            backend.chat_sync(ChatRequest.user("three", max_tokens=4))
    finally:
        backend.close()


def test_a_corrupt_model_fails_fast_with_the_log_tail(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(256))
    backend = _local("broken", gguf=str(bad))
    with pytest.raises(BackendUnavailable, match="exited at start"):
        backend.chat_sync(ChatRequest.user("x", max_tokens=2))
    backend.close()


class Ask(Stage):
    name = "ask"

    def build(self, item):
        return ChatRequest.user(f"Say the word {item.key}.", max_tokens=6)


def test_a_job_runs_on_the_local_model(project, tiny_vlm_files):
    text_gguf, _ = tiny_vlm_files
    backend = _local("jobby", gguf=str(text_gguf))
    try:
        job_id = create_job(project.db, "ask", ["red", "green", "blue"])
        final = run_job(project.db, job_id, Ask(), backend, Limits.from_backend(backend))
    finally:
        backend.close()
    assert final.status == "done" and final.done == 3 and final.cost_usd == 0
    assert len(store.job_outputs(project.db, job_id)) == 3


def test_the_server_dies_with_an_owner_that_is_killed(tiny_vlm_files, tmp_path):
    import subprocess
    import sys
    import time

    from tests.conftest import REPO

    text_gguf, _ = tiny_vlm_files
    script = (
        "import sys, time\n"
        "from core.backends.llama_server import ManagedServer\n"
        f"s = ManagedServer({str(text_gguf)!r}, n_ctx=256, n_threads=1)\n"
        "s.ensure_running(); print(s.pid, flush=True); time.sleep(60)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )  # fmt: skip
    child = int(owner.stdout.readline())
    assert psutil.pid_exists(child)
    owner.kill()
    owner.wait(10)

    def gone() -> bool:
        try:
            return psutil.Process(child).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    deadline = time.monotonic() + 20
    while not gone():
        assert time.monotonic() < deadline, "the llama.cpp server outlived its killed owner"
        time.sleep(0.1)
