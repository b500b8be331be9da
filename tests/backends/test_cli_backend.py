"""`mmstudio backend ...` end to end, through core.cli.main, on real servers."""

from __future__ import annotations

import json

import pytest

from core.cli import main


def _json(capsys, argv) -> tuple[int, dict]:
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith("{") else {}


def test_add_list_test_remove_an_openai_backend(capsys, loopback, studio_home):
    code, added = _json(capsys, ["backend", "add", "lb", "--kind", "openai", "--base-url", loopback.url,
                                 "--model", "gpt-4o-mini", "--rpm", "100", "--json"])  # fmt: skip
    assert code == 0 and added["added"]["rpm"] == 100 and added["added"]["max_concurrency"] == 8
    code, listed = _json(capsys, ["backend", "list", "--json"])
    assert [b["name"] for b in listed["backends"]] == ["lb"]
    code, result = _json(capsys, ["backend", "test", "lb", "--json"])
    assert code == 0 and result["ok"] is True
    assert result["text"]["ok"] and result["text"]["prompt_tokens"] > 0
    assert result["image"]["ok"] and "[image/png 64x64]" in result["image"]["reply"]
    assert main(["backend", "remove", "lb"]) == 0
    assert "removed backend lb" in capsys.readouterr().out
    assert _json(capsys, ["backend", "list", "--json"])[1] == {"backends": []}


def test_a_failing_backend_test_exits_1_and_says_why(capsys, loopback):
    loopback.add_fault("500", times=-1)
    main(["backend", "add", "bad", "--kind", "openai", "--base-url", loopback.url, "--model", "m"])
    capsys.readouterr()
    code, result = _json(capsys, ["backend", "test", "bad", "--json"])
    assert code == 1 and result["ok"] is False
    assert result["text"]["error_class"] == "server_error"


def test_bad_input_is_a_clear_error(capsys):
    assert main(["backend", "test", "nobody"]) == 1
    assert "no backend named 'nobody'" in capsys.readouterr().err
    assert main(["backend", "add", "x", "--kind", "llama_cpp", "--gguf", "/no/file.gguf"]) == 1
    assert "GGUF model file not found" in capsys.readouterr().err


@pytest.mark.llama
def test_backend_test_passes_on_a_local_vlm(capsys, tiny_vlm_files):
    text_gguf, mmproj = tiny_vlm_files
    code, added = _json(capsys, ["backend", "add", "tiny", "--kind", "llama_cpp", "--gguf", str(text_gguf),
                                 "--mmproj", str(mmproj), "--chat-format", "llava-1-5", "--n-ctx", "512",
                                 "--threads", "1", "--json"])  # fmt: skip
    assert code == 0 and added["added"]["max_concurrency"] == 1
    code, result = _json(capsys, ["backend", "test", "tiny", "--json"])
    assert code == 0 and result["ok"] and result["text"]["ok"] and result["image"]["ok"]
    assert result["kind"] == "llama_cpp" and result["text"]["cost_usd"] == 0


def test_models_lists_the_catalog(capsys):
    code, out = _json(capsys, ["backend", "models", "--json"])
    assert code == 0 and any(m["id"] == "smolvlm-256m" and m["mmproj"] for m in out["models"])


def test_add_with_a_key_and_no_keyring_writes_nothing(capsys, studio_home, monkeypatch):
    """All or nothing: without an OS keyring the backend is not written keyless (a later
    add would have said "exists; use --replace" for a backend that cannot work)."""
    import io

    import keyring
    from keyring.backends import fail

    from core.backends.settings import load_backends

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("sk-test-0123456789abcdef\n"))
        argv = ["backend", "add", "cloud", "--kind", "openai", "--model", "m", "--store-key"]
        assert main(argv) != 0
        assert "environment variable" in capsys.readouterr().err
        assert load_backends() == {}
        monkeypatch.setenv("CLOUD_CLI_KEY", "sk-test-0123456789abcdef")
        argv = ["backend", "add", "cloud", "--kind", "openai", "--model", "m",
                "--api-key-env", "CLOUD_CLI_KEY"]  # fmt: skip
        assert main(argv) == 0
        assert load_backends()["cloud"].api_key_env == "CLOUD_CLI_KEY"
    finally:
        keyring.set_keyring(previous)
