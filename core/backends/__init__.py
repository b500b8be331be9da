"""Model endpoints behind one chat-completions protocol (see docs/backends.md)."""

from core.backends.base import (
    AuthFailed,
    Backend,
    BackendConfigError,
    BackendError,
    BackendUnavailable,
    ChatRequest,
    ChatResponse,
    ImagePart,
    Message,
    Prepared,
    Usage,
)
from core.backends.registry import KINDS, kind_class, make_backend, register_kind
from core.backends.settings import BackendConfig

__all__ = [
    "AuthFailed",
    "Backend",
    "BackendConfig",
    "BackendConfigError",
    "BackendError",
    "BackendUnavailable",
    "ChatRequest",
    "ChatResponse",
    "ImagePart",
    "KINDS",
    "Message",
    "Prepared",
    "Usage",
    "kind_class",
    "make_backend",
    "register_kind",
]
