"""`backend test` retries like the job engine, reports each attempt, and fails fast on
refusals with the server's own message (the loopback server: 429, cut-off body, 401, 404)."""

from __future__ import annotations

import json

from core.backends import BackendConfig, make_backend
from core.backends.probe import probe
from core.cli import main
from core.devtools.loopback import LoopbackServer
from core.jobs.retry import RetryPolicy

FAST = RetryPolicy(base_s=0.05, cap_s=0.5)


def _backend(url, model="gpt-4o-mini"):
    return make_backend(BackendConfig(name="lb", kind="openai", model=model, base_url=url))


def test_one_429_and_one_cut_off_body_are_retried_and_reported(loopback):
    loopback.add_fault("429", times=1, retry_after=0.3, match="2 + 2")
    loopback.add_fault("truncated", times=1, match="Describe")
    with _backend(loopback.url) as backend:
        result = probe(backend, policy=FAST)
    assert result["ok"] is True
    text, image = result["text"], result["image"]
    assert text["attempts"] == 2 and image["attempts"] == 2
    first = text["tries"][0]
    assert first["error_class"] == "rate_limited" and first["http_status"] == 429
    assert first["waited_s"] >= 0.3  # Retry-After is a floor
    assert image["tries"][0]["error_class"] == "bad_response" and image["tries"][1]["ok"]
    assert text["latency_s"] == text["tries"][-1]["latency_s"]


def test_a_wrong_key_fails_at_once_with_the_servers_message_redacted():
    with LoopbackServer(api_key="right-key-123") as server:
        backend = make_backend(BackendConfig(name="lb", kind="openai", model="m",
                                             base_url=server.url))  # fmt: skip
        backend._api_key = "sk-wrong-key-abcdefghijklmnop"
        with backend:
            result = probe(backend, policy=FAST)
        assert len(server.stats.auth_headers) == 1  # asked once, not retried, no image probe
    text = result["text"]
    assert result["ok"] is False and text["error_class"] == "auth" and text["attempts"] == 1
    assert "Incorrect API key" in text["error"] and "abcdefghijklmnop" not in text["error"]
    assert result["image"]["skipped"]


def test_an_unknown_model_fails_at_once_through_the_cli(capsys):
    with LoopbackServer(strict_models=True) as server:
        main(["backend", "add", "bad", "--kind", "openai", "--base-url", server.url,
              "--model", "gpt-9-nonexistent"])  # fmt: skip
        capsys.readouterr()
        assert main(["backend", "test", "bad", "--json"]) == 1
        result = json.loads(capsys.readouterr().out)
        text = result["text"]
        assert text["attempts"] == 1 and text["gave_up"] == "not retryable"
        assert text["error_class"] == "rejected" and text["tries"][0]["http_status"] == 404
        assert "The model `gpt-9-nonexistent` does not exist" in text["error"]
        assert server.stats.requests == 0  # refused before any completion was made
        assert main(["backend", "test", "bad"]) == 1
        assert "FAILED (rejected, 1 attempt(s))" in capsys.readouterr().out
