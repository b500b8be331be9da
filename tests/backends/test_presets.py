"""Each endpoint preset against the loopback server speaking that server's quirks: its path,
where the key goes, and how models are listed; `backend add --preset`, then `backend test`."""

from __future__ import annotations

import json

import pytest

from core.backends.presets import PRESETS
from core.cli import main
from core.devtools.loopback import LoopbackServer

KEY = "sk-preset-test-0123456789"
MODEL = "served-model-1"


def _url(preset: str, server: LoopbackServer) -> str:
    root = f"http://127.0.0.1:{server.port}"
    return {"azure": root, "openrouter": root + "/api/v1"}.get(preset, root + "/v1")


def _json(capsys, argv, code=0):
    assert main(argv) == code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_a_preset_reaches_its_server_the_way_that_server_wants(preset, capsys, monkeypatch):
    p = PRESETS[preset]
    with LoopbackServer(dialect=preset, model=MODEL, strict_models=True,
                        api_key=KEY if p.needs_key else None) as server:  # fmt: skip
        argv = ["backend", "add", "b", "--preset", preset, "--base-url", _url(preset, server),
                "--json"]  # fmt: skip
        if p.needs_key:
            monkeypatch.setenv(p.api_key_env, KEY)
            argv += ["--model", MODEL]  # cloud: the user names the model (or deployment)
        added = _json(capsys, argv)["added"]
        assert added["preset"] == preset and added["model"] == MODEL  # local: from the listing
        assert added.get("api_key_env") == p.api_key_env
        result = _json(capsys, ["backend", "test", "b", "--json"])
        assert result["ok"] and result["text"]["attempts"] == 1
        assert "[image/png 64x64]" in result["image"]["reply"]
        chat = [path for m, path in server.stats.seen_routes if m == "POST"]
        auth = server.stats.auth_headers[-1]
    if preset == "azure":
        assert chat[-1] == f"/openai/deployments/{MODEL}/chat/completions"
        assert server.stats.seen_queries[-1].startswith("api-version=")
        assert auth == ""  # the key went in api-key, not Authorization
    elif preset == "openrouter":
        assert chat[-1] == "/api/v1/chat/completions" and auth == f"Bearer {KEY}"
    else:
        assert chat[-1] == "/v1/chat/completions"
        assert auth == (f"Bearer {KEY}" if p.needs_key else "Bearer none")


def test_presets_are_listed_and_bad_ones_are_clear_errors(capsys):
    listed = _json(capsys, ["backend", "presets", "--json"])["presets"]
    assert {p["name"] for p in listed} == set(PRESETS)
    azure = next(p for p in listed if p["name"] == "azure")
    assert azure["auth"] == "api-key" and azure["needs_key"] and not azure["batch_api"]
    assert "grammar" in next(p for p in listed if p["name"] == "llama-server")["constraints"]
    assert main(["backend", "add", "x", "--preset", "nope"]) == 1
    assert "unknown preset 'nope'" in capsys.readouterr().err
    assert main(["backend", "add", "x", "--preset", "azure", "--model", "d"]) == 1
    assert "give --base-url" in capsys.readouterr().err
    assert main(["backend", "add", "x", "--preset", "ollama", "--base-url",
                 "http://127.0.0.1:9/v1"]) == 1  # fmt: skip
    assert "cannot list the models" in capsys.readouterr().err
    assert main(["backend", "add", "x"]) == 1
    assert "--preset NAME" in capsys.readouterr().err


def test_a_preset_without_the_batch_api_refuses_batch_runs(capsys, project):
    from core.backends import make_backend
    from core.backends.settings import BackendConfig

    ollama = make_backend(BackendConfig(name="o", kind="openai", model="m", preset="ollama",
                                        base_url="http://127.0.0.1:9/v1"))  # fmt: skip
    openai = make_backend(BackendConfig(name="a", kind="openai", model="m", preset="openai"))
    assert not ollama.batch_api and openai.batch_api
