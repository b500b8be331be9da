"""The managed native llama-server, run as a stand-in executable that speaks its command line
and protocol (tests/backends/fake_llama_server.py); the real binary is measured in
bench/generation.py --local."""

from __future__ import annotations

import json
import os
import signal
import urllib.request

import psutil
import pytest

from core.backends import BackendConfig, BackendUnavailable, ChatRequest, make_backend
from core.backends.base import BackendConfigError
from core.backends.catalog import backend_config_for, load_catalog
from core.jobs import Limits, Stage, create_job, run_job
from tests.backends.fake_llama_server import write_executable


@pytest.fixture
def fake_exe(tmp_path):
    return write_executable(tmp_path)


@pytest.fixture
def gguf(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF")  # the stand-in loads nothing
    return path


def _native(name, gguf, exe, **kw):
    kw.setdefault("parallel", 4)
    kw.setdefault("max_concurrency", kw["parallel"])
    config = BackendConfig(
        name=name, kind="llama_cpp", gguf=str(gguf), server="native", server_path=str(exe),
        n_ctx=512, n_threads=1, timeout_s=20, **kw,
    )  # fmt: skip
    return make_backend(config)


def _stats(backend) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{backend.server.port}/_stats") as resp:
        return json.load(resp)


class Ask(Stage):
    name = "ask"

    def build(self, item):
        return ChatRequest.user(f"Say the word {item.key}.", max_tokens=6)


def test_the_engine_keeps_one_request_per_slot_in_flight(project, gguf, fake_exe, studio_home):
    backend = _native("slots", gguf, fake_exe, parallel=4)
    try:
        job_id = create_job(project.db, "ask", [f"w{i}" for i in range(8)])
        final = run_job(project.db, job_id, Ask(), backend, Limits.from_backend(backend))
        stats = _stats(backend)
    finally:
        backend.close()
    assert final.status == "done" and final.done == 8
    assert stats["requests"] == 8 and stats["slots"] == 4
    assert stats["max_open"] == 4  # four at once: every slot busy, none queued in the server


def test_command_line_key_port_and_log(gguf, fake_exe, studio_home, tmp_path):
    mmproj = tmp_path / "mmproj.gguf"
    mmproj.write_bytes(b"GGUF")
    backend = _native("cmd", gguf, fake_exe, parallel=3, mmproj=str(mmproj))
    try:
        reply = backend.chat_sync(ChatRequest.user("hello", max_tokens=4))
        assert reply.text
        server = backend.server
        argv = _stats(backend)["argv"]
        flags = dict(zip(argv[::2], argv[1::2], strict=False))
        assert argv[argv.index("--parallel") + 1] == "3"
        assert argv[argv.index("--ctx-size") + 1] == str(512 * 3)  # n_ctx is per slot
        assert argv[argv.index("--mmproj") + 1] == str(mmproj)
        assert "--cont-batching" in argv and flags.get("--host") == "127.0.0.1"
        assert argv[argv.index("--port") + 1] == str(server.port)
        proc = psutil.Process(server.pid)
        assert server.api_key not in " ".join(proc.cmdline())  # the key is in the environment
        wrong = urllib.request.Request(
            f"{server.base_url}/chat/completions", data=b"{}", headers={"Authorization": "x"}
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(wrong)
        assert err.value.code == 401
    finally:
        backend.close()
    log = (studio_home / "logs" / "llama-server-cmd.log").read_text()
    assert "server is listening" in log and server.api_key not in log


def test_a_crashed_native_server_restarts_once(gguf, fake_exe, studio_home):
    backend = _native("crashy", gguf, fake_exe, parallel=2)
    try:
        backend.chat_sync(ChatRequest.user("one", max_tokens=4))
        first = backend.server.pid
        os.kill(first, signal.SIGKILL)
        backend.chat_sync(ChatRequest.user("two", max_tokens=4))
        assert backend.server.pid != first and backend.server.restarts == 1
        with pytest.raises(BackendUnavailable, match="died again"):
            backend.chat_sync(ChatRequest.user("CRASH now", max_tokens=4))
    finally:
        backend.close()


def test_a_stand_in_that_refuses_its_flags_fails_fast_with_the_log(gguf, tmp_path, studio_home):
    exe = tmp_path / "llama-server"
    exe.write_text("#!/bin/sh\necho 'error: invalid argument: --parallel' >&2\nexit 1\n")
    exe.chmod(0o755)
    backend = _native("old", gguf, exe)
    with pytest.raises(BackendUnavailable, match="(?s)exited at start.*invalid argument"):
        backend.chat_sync(ChatRequest.user("x", max_tokens=2))
    backend.close()


def test_configuration_errors_are_clear(gguf, fake_exe, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("MMSTUDIO_LLAMA_SERVER", raising=False)
    with pytest.raises(BackendConfigError, match="no llama-server executable"):
        make_backend(BackendConfig(name="n", kind="llama_cpp", gguf=str(gguf), server="native"))
    with pytest.raises(BackendConfigError, match="--server native"):
        make_backend(BackendConfig(name="p", kind="llama_cpp", gguf=str(gguf), parallel=4))
    with pytest.raises(BackendConfigError, match="chat template stored in the GGUF"):
        _native("c", gguf, fake_exe, chat_format="chatml")
    with pytest.raises(BackendConfigError, match="server must be one of"):
        make_backend(BackendConfig(name="s", kind="llama_cpp", gguf=str(gguf), server="vllm"))
    monkeypatch.setenv("MMSTUDIO_LLAMA_SERVER", str(fake_exe))  # found through the variable
    make_backend(BackendConfig(name="e", kind="llama_cpp", gguf=str(gguf), server="native")).close()


def test_the_catalog_recommends_slots_per_model_and_context(tmp_path):
    catalog = load_catalog()
    small, big = catalog["smolvlm-256m"], catalog["qwen2.5-vl-7b"]
    assert small.recommended_slots() == 8 and big.recommended_slots() == 2
    assert big.recommended_slots(n_ctx=4096) == 4 and big.recommended_slots(65536) == 1
    config = backend_config_for(big, tmp_path / "m.gguf", tmp_path / "p.gguf", server="native")
    assert (config.server, config.parallel, config.max_concurrency) == ("native", 2, 2)
    assert config.chat_format is None  # llama-server reads the GGUF's own template
    plain = backend_config_for(big, tmp_path / "m.gguf", tmp_path / "p.gguf")
    assert (plain.server, plain.parallel, plain.max_concurrency) == ("python", 1, 1)
    assert small.to_json()["recommended_slots"] == 8


def test_cli_adds_a_native_backend_with_a_slot_per_request(capsys, gguf, fake_exe, studio_home):
    from core.cli import main

    code = main(["backend", "add", "nat", "--kind", "llama_cpp", "--gguf", str(gguf),
                 "--server", "native", "--server-path", str(fake_exe), "--json"])  # fmt: skip
    added = json.loads(capsys.readouterr().out)["added"]
    assert code == 0 and added["server"] == "native" and added["server_path"] == str(fake_exe)
    assert added["parallel"] == 4 and added["max_concurrency"] == 4
    assert main(["backend", "test", "nat", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["text"]["ok"] is True


def _real_binary():
    try:
        from core.backends.llama_native import find_llama_server

        return find_llama_server()
    except BackendUnavailable:
        return None


@pytest.mark.llama
@pytest.mark.skipif(
    _real_binary() is None, reason="no llama-server on PATH or in $MMSTUDIO_LLAMA_SERVER"
)
def test_a_real_llama_server_answers_with_parallel_slots(smollm2_file, studio_home):
    backend = make_backend(BackendConfig(
        name="real", kind="llama_cpp", gguf=str(smollm2_file), server="native", parallel=2,
        max_concurrency=2, n_ctx=512, n_threads=1,
    ))  # fmt: skip
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    try:
        reply = backend.chat_sync(ChatRequest.user("Capital of France?", max_tokens=8))
        assert reply.text.strip() and reply.usage.completion_tokens <= 8
        shaped = backend.chat_sync(
            ChatRequest.user("Name a city in France as JSON.", max_tokens=40, json_schema=schema)
        )
        assert isinstance(json.loads(shaped.text)["city"], str)
    finally:
        backend.close()
    log = (studio_home / "logs" / "llama-server-real.log").read_text()
    assert "n_slots = 2, n_ctx_slot = 512" in log  # two slots, each with the backend's n_ctx
