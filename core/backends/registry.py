"""Backend kinds by name. A kind module registers its class; nothing switches on kind strings."""

from __future__ import annotations

import importlib

from core.backends.base import Backend, BackendConfigError, Capabilities

# kind -> module that defines and registers it; imported on first use so that a kind's
# dependencies (the openai SDK, a llama.cpp child process) cost nothing until asked for.
KIND_MODULES: dict[str, str] = {
    "openai": "core.backends.openai_kind",
    "llama_cpp": "core.backends.llama_cpp_kind",
}
KINDS: dict[str, type[Backend]] = {}


def register_kind(cls: type[Backend]) -> type[Backend]:
    KINDS[cls.kind] = cls
    return cls


def kind_class(kind: str) -> type[Backend]:
    if kind not in KINDS:
        module = KIND_MODULES.get(kind)
        if module is None:
            raise BackendConfigError(
                f"unknown backend kind {kind!r} (known: {', '.join(sorted(KIND_MODULES))})"
            )
        importlib.import_module(module)
    return KINDS[kind]


def make_backend(config_or_name) -> Backend:
    """A backend from a BackendConfig or the name of one in the user's settings."""
    from core.backends.settings import BackendConfig, get_backend_config

    config = (
        config_or_name
        if isinstance(config_or_name, BackendConfig)
        else get_backend_config(config_or_name)
    )
    config.validate()
    return kind_class(config.kind)(config)


def capabilities_of(config) -> Capabilities:
    """What a configured backend can do (its kind's, or its preset's), for forms that offer
    only what it has; building the backend starts nothing."""
    backend = make_backend(config)
    try:
        return backend.capabilities
    finally:
        backend.close()
