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


@pytest.fixture
def web():
    """The loopback fake of image hosts and the Openverse API."""
    from tests.collect.fake_web import FakeWeb

    w = FakeWeb()
    yield w
    w.close()


@pytest.fixture
def library(project, tmp_path):
    """Two domains of photos, each with a re-encoded near duplicate of its first photo."""
    from core.domains import add_domain
    from tests.collect.test_clip import add_images, variant
    from tests.core.import_fixtures import photo

    add_domain(project.db, "animals", "Animals", "Pictures of animals", ["fox", "dog"])
    add_domain(project.db, "cars", "Cars", keywords=["red car"])
    a = add_images(project, tmp_path, {f"a{i}": photo(i) for i in range(4)}, "animals")
    a["a0v"] = add_images(project, tmp_path, {"a0v": variant(photo(0))}, "animals")["a0v"]
    c = add_images(project, tmp_path, {f"c{i}": photo(50 + i) for i in range(3)}, "cars")
    c["c0v"] = add_images(project, tmp_path, {"c0v": variant(photo(50))}, "cars")["c0v"]
    return a | c
