"""Fixtures for collection tests: a tiny CLIP folder built once, one torch thread."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory):
    import torch

    from tests.collect.tiny_clip import build_tiny_clip

    torch.set_num_threads(1)
    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture
def encoder(tiny_clip):
    from core.collect.encoder import load_encoder

    return load_encoder(str(tiny_clip), device="cpu")
