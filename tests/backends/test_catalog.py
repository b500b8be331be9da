"""Model catalog and downloader: against a loopback stand-in for the hub, and offline."""

from __future__ import annotations

import os
import socket

import pytest

from core.backends.catalog import (
    CatalogError,
    ModelFile,
    backend_config_for,
    download,
    download_file,
    load_catalog,
)
from tests.backends.fake_hub import FakeHub


def test_the_catalog_lists_vlms_with_their_projectors():
    catalog = load_catalog()
    vlms = [e for e in catalog.values() if e.kind == "vlm"]
    assert {"smolvlm-256m", "qwen2.5-vl-3b", "gemma-3-4b"} <= set(catalog)
    assert len(vlms) >= 6 and all(e.mmproj and e.chat_format for e in vlms)
    for e in catalog.values():
        assert e.model.file.endswith(".gguf") and "/" in e.model.repo and e.size_mb > 0


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


def test_download_reports_progress_and_checks_the_hub_checksum(online, tmp_path):
    data = os.urandom(2_500_000)
    hub = FakeHub({"org/repo/m.gguf": data}).start()
    seen = []
    path = download_file(
        ModelFile("org/repo", "m.gguf"), tmp_path, lambda n, d, t: seen.append((n, d, t)), hub.url
    )
    assert path.read_bytes() == data
    assert seen[-1] == ("m.gguf", len(data), len(data))
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)


def test_a_dropped_download_resumes_from_where_it_stopped(online, tmp_path):
    # huggingface_hub writes in 10 MiB chunks: cut the first answer after one whole chunk
    data = os.urandom(12_000_000)
    hub = FakeHub({"org/repo/m.gguf": data}, cut_first_get_at=11_000_000).start()
    path = download_file(ModelFile("org/repo", "m.gguf"), tmp_path, None, hub.url)
    assert path.read_bytes() == data
    gets = [r for r in hub.requests if r[0] == "GET"]
    assert gets[0][2] is None and gets[1][2] == f"bytes={10 * 1024 * 1024}-"  # not all again


def test_a_checksum_mismatch_sets_the_file_aside(online, tmp_path):
    hub = FakeHub({"org/repo/m.gguf": b"GGUF" + os.urandom(1000)}).start()
    with pytest.raises(CatalogError, match="checksum mismatch"):
        download_file(ModelFile("org/repo", "m.gguf", sha256="0" * 64), tmp_path, None, hub.url)
    assert (tmp_path / "m.gguf.corrupt").exists() and not (tmp_path / "m.gguf").exists()


def test_a_catalog_download_becomes_a_backend(online, studio_home, monkeypatch):
    hub = FakeHub({"o/vlm/model.gguf": b"GGUF-model", "o/vlm/mmproj.gguf": b"GGUF-proj"}).start()
    catalog_file = studio_home / "models.yaml"
    catalog_file.write_text(
        "models:\n  - {id: demo, title: Demo, kind: vlm, chat_format: mtmd,\n"
        "     model: {repo: o/vlm, file: model.gguf}, mmproj: {repo: o/vlm, file: mmproj.gguf}}\n"
    )
    entry = load_catalog(catalog_file)["demo"]
    model, mmproj = download(entry, endpoint=hub.url)
    assert (
        model == studio_home / "models" / "demo" / "model.gguf"
        and mmproj.read_bytes() == b"GGUF-proj"
    )
    cfg = backend_config_for(entry, model, mmproj)
    assert (cfg.kind, cfg.chat_format, cfg.max_concurrency) == ("llama_cpp", "mtmd", 1)
    cfg.validate()


def test_offline_fails_at_once_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CatalogError, match="--gguf FILE"):
        download("smolvlm-256m")


def test_no_network_is_a_clear_error_not_a_hang(online, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(CatalogError, match="cannot reach the model hub|failed"):
        download_file(ModelFile("org/repo", "m.gguf"), tmp_path, None, dead)
