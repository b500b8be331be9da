"""Per-user settings, price table, and keys: from the keyring or env, and never leaked."""

from __future__ import annotations

import logging

import keyring
import pytest
from keyring.backend import KeyringBackend

from core.backends import BackendConfig, BackendConfigError, ChatRequest, make_backend
from core.backends import keys as keymod
from core.backends.base import AuthFailed, Usage
from core.backends.pricing import price_table
from core.backends.settings import add_backend, load_backends, remove_backend, settings_path
from core.jobs import Limits, Stage, create_job, run_job
from core.store import jobs as store


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS keyring, which this headless machine does not have."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


def test_settings_live_in_mmstudio_home_and_round_trip(studio_home):
    cfg = BackendConfig(
        name="gpt", kind="openai", model="gpt-4o", api_key_env="OPENAI_API_KEY", rpm=500
    )
    add_backend(cfg)
    assert settings_path() == studio_home / "backends.yaml"
    assert load_backends()["gpt"] == cfg
    with pytest.raises(BackendConfigError, match="exists"):
        add_backend(cfg)
    add_backend(BackendConfig(name="gpt", kind="openai", model="gpt-4o-mini"), replace=True)
    assert load_backends()["gpt"].model == "gpt-4o-mini"
    remove_backend("gpt")
    assert load_backends() == {}


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (dict(name="bad name!", kind="openai", model="m"), "backend name"),
        (dict(name="x", kind="vllm-magic", model="m"), "unknown backend kind"),
        (dict(name="x", kind="openai"), "needs --model"),
        (dict(name="x", kind="openai", model="m", base_url="ftp://h"), "http"),
        (dict(name="x", kind="llama_cpp"), "needs --gguf"),
        (dict(name="x", kind="llama_cpp", gguf="/no/such.gguf"), "not found"),
        (dict(name="x", kind="openai", model="m", max_concurrency=0), "at least 1"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(cfg, message):
    with pytest.raises(BackendConfigError, match=message):
        add_backend(BackendConfig(**cfg))
    assert load_backends() == {}


def test_a_broken_settings_file_is_a_clear_error(studio_home):
    (studio_home / "backends.yaml").write_text("backends: [ {name: x, kind: openai, colour: red} ]")
    with pytest.raises(BackendConfigError, match="unknown settings colour"):
        load_backends()


def test_unknown_backend_name_lists_the_known_ones():
    add_backend(BackendConfig(name="one", kind="openai", model="m"))
    with pytest.raises(BackendConfigError, match="known: one"):
        make_backend("two")


def test_price_table_prefixes_user_overrides_and_unknown_models(studio_home):
    table = price_table()
    assert table.lookup("gpt-4o-2024-08-06") == table.lookup("gpt-4o")
    assert table.lookup("gpt-4o-mini-2024-07-18").input == 0.15  # longest prefix wins
    assert table.cost("some-local-model", Usage(1000, 1000)) == 0.0
    (studio_home / "prices.yaml").write_text(
        "batch_discount: 0.4\nmodels:\n  gpt-4o: {input: 1.0, output: 2.0, image: 0.01}\n"
    )
    table = price_table()
    assert table.cost("gpt-4o", Usage(1_000_000, 1_000_000), n_images=2) == pytest.approx(3.02)
    assert table.cost("gpt-4o", Usage(1_000_000, 0), batch=True) == pytest.approx(0.4)
    assert table.lookup("gpt-4.1").input == 2.0  # untouched entries still come from resources/


def test_key_from_the_keyring_is_used_and_never_written(loopback, memory_keyring, studio_home):
    loopback.api_key = "sk-from-keyring-abcdef123"
    keymod.set_key("kr", "sk-from-keyring-abcdef123")
    add_backend(BackendConfig(name="kr", kind="openai", model="gpt-4o", base_url=loopback.url))
    reply = make_backend("kr").chat_sync(ChatRequest.user("hello"))
    assert reply.text.startswith("loopback reply")
    assert loopback.stats.auth_headers[-1] == "Bearer sk-from-keyring-abcdef123"
    assert "sk-from-keyring" not in (studio_home / "backends.yaml").read_text()


def test_env_key_wins_and_a_missing_openai_key_is_explained(monkeypatch, memory_keyring):
    monkeypatch.setenv("MY_KEY", "sk-env-key-9999999")
    keymod.set_key("both", "sk-keyring-key-888888")
    assert keymod.get_key("both", "MY_KEY") == "sk-env-key-9999999"
    assert keymod.get_key("both", None) == "sk-keyring-key-888888"
    backend = make_backend(
        BackendConfig(name="nokey", kind="openai", model="gpt-4o", api_key_env="NOPE")
    )
    with pytest.raises(AuthFailed, match=r"set \$NOPE"):
        backend.chat_sync(ChatRequest.user("x"))


class Echo(Stage):
    name = "echo"

    def build(self, item):
        return ChatRequest.user(f"item {item.key}")


def test_a_key_never_reaches_the_database_logs_or_error_text(
    loopback, project, monkeypatch, caplog, tmp_path
):
    secret = "sk-proj-TOPSECRET-0123456789abcdef"
    monkeypatch.setenv("LEAKY_KEY", secret)
    loopback.api_key = "sk-the-right-one-000000"  # ours is wrong: the server echoes it back
    backend = make_backend(
        BackendConfig(
            name="leaky",
            kind="openai",
            model="gpt-4o",
            base_url=loopback.url,
            api_key_env="LEAKY_KEY",
        )
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthFailed) as info:
        backend.chat_sync(ChatRequest.user("x"))
    assert secret not in str(info.value) and "TOPSECRET" not in str(info.value)
    # a job that fails on the key, and one that succeeds with the right key
    job_id = create_job(project.db, "echo", ["1", "2"])
    run_job(project.db, job_id, Echo(), backend, Limits(concurrency=2))
    monkeypatch.setenv("LEAKY_KEY", "sk-the-right-one-000000")
    good = make_backend(
        BackendConfig(
            name="leaky",
            kind="openai",
            model="gpt-4o",
            base_url=loopback.url,
            api_key_env="LEAKY_KEY",
        )
    )
    job2 = create_job(project.db, "echo", ["3"])
    assert run_job(project.db, job2, Echo(), good).done == 1
    assert "TOPSECRET" not in (store.get_job(project.db, job_id)["status_reason"] or "")
    project.db.execute("CHECKPOINT")
    raw = (project.root / "project.duckdb").read_bytes()
    assert secret.encode() not in raw and b"TOPSECRET" not in raw
    assert b"sk-the-right-one" not in raw
    assert "TOPSECRET" not in caplog.text and "sk-the-right-one" not in caplog.text


def test_redaction_catches_echoed_and_masked_keys():
    keymod.remember_secret("plain-secret-value")
    assert keymod.redact("got plain-secret-value here") == "got *** here"
    assert "abc" not in keymod.redact("Incorrect API key provided: sk-abc***************wxyz.")
    assert keymod.redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
