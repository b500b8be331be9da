"""Fixtures around the loopback OpenAI server; import them into a conftest.py to use them."""

from __future__ import annotations

import pytest

from core.devtools.loopback import LoopbackServer


@pytest.fixture
def loopback():
    """A fresh server: 10 ms latency, 16 slots, no faults (add them with add_fault)."""
    with LoopbackServer(latency=0.01, slots=16) as server:
        yield server


@pytest.fixture
def lb_backend(loopback):
    """An `openai` backend pointed at the loopback server, priced as gpt-4o-mini."""
    from core.backends import BackendConfig, make_backend

    backend = make_backend(
        BackendConfig(
            name="loopback",
            kind="openai",
            model="gpt-4o-mini",
            base_url=loopback.url,
            max_concurrency=16,
            timeout_s=10,
        )
    )
    yield backend
    backend.close()
