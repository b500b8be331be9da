"""Tiny models are built once per session: each takes about a second."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    from tests.trainer.tiny_models import BUILDERS

    cache = {}

    def get(family: str):
        if family not in cache:
            cache[family] = BUILDERS[family](tmp_path_factory.mktemp(f"hub-{family}"))
        return cache[family]

    return get
