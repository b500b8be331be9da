"""API keys: read from an environment variable or the OS keyring, never stored by us.

Every key we hand out is remembered (in memory only) so that `redact` can scrub it from any
text that may reach a log, the database, an export or the screen. Provider error bodies that
echo a key ("Incorrect API key provided: sk-ab***yz") are caught by a pattern as well.
"""

from __future__ import annotations

import logging
import os
import re
import threading

from core.errors import StudioError

SERVICE = "mmstudio"

_known: set[str] = set()
_lock = threading.Lock()
_KEYISH = re.compile(r"\b(?:sk|pk|rk|org|sess|key)-[A-Za-z0-9_\-\*\.]{6,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",]+")


class KeyStoreError(StudioError):
    pass


def remember_secret(secret: str | None) -> None:
    if secret and len(secret) >= 4:
        with _lock:
            _known.add(secret)


def redact(text: str) -> str:
    if not text:
        return text
    with _lock:
        secrets = sorted(_known, key=len, reverse=True)
    for s in secrets:
        text = text.replace(s, "***")
    text = _KEYISH.sub("***", text)
    return _BEARER.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """Scrubs known keys from log records (installed on our loggers' handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def install_redaction(*handlers: logging.Handler) -> None:
    """Put a RedactingFilter on each handler (once): the CLI's stderr handler and the GUI's
    log file, so a key that reached a message never reaches a log."""
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def _keyring():
    try:
        import keyring

        return keyring
    except Exception:  # keyring is optional at run time (some packaged builds lack a backend)
        return None


def get_key(backend_name: str, env_var: str | None = None) -> str | None:
    """The key for a backend: its environment variable first, then the OS keyring."""
    if env_var:
        value = os.environ.get(env_var)
        if value:
            remember_secret(value)
            return value
    kr = _keyring()
    if kr is None:
        return None
    try:
        value = kr.get_password(SERVICE, backend_name)
    except Exception:  # a locked or absent keyring means "no key", not a crash
        return None
    remember_secret(value)
    return value


def key_source(backend_name: str, env_var: str | None = None) -> str | None:
    """Where `get_key` finds this backend's key: "env", "keyring", or None (no key)."""
    if env_var and os.environ.get(env_var):
        return "env"
    return "keyring" if get_key(backend_name) else None


def set_key(backend_name: str, secret: str) -> None:
    """Store a key in the OS keyring. Fails clearly where no keyring exists (use an env var)."""
    remember_secret(secret)
    kr = _keyring()
    if kr is None:
        raise KeyStoreError("no OS keyring is available; put the key in an environment variable")
    try:
        kr.set_password(SERVICE, backend_name, secret)
    except Exception as exc:
        raise KeyStoreError(
            f"could not store the key in the OS keyring ({type(exc).__name__}); "
            "put it in an environment variable and use --api-key-env"
        ) from None


def delete_key(backend_name: str) -> None:
    kr = _keyring()
    if kr is None:
        return
    try:
        kr.delete_password(SERVICE, backend_name)
    except Exception:  # nothing stored is fine
        pass
