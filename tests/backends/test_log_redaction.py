"""A key that reaches a log message is scrubbed by the filter the CLI and the GUI install."""

import io
import logging

from core.backends.keys import RedactingFilter, install_redaction, remember_secret


def test_installed_filter_scrubs_known_keys_once_per_handler():
    remember_secret("sk-test-0123456789abcdef")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    install_redaction(handler, handler)
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    log = logging.getLogger("mmstudio.test_redaction")
    log.addHandler(handler)
    try:
        log.warning("calling with key %s failed", "sk-test-0123456789abcdef")
    finally:
        log.removeHandler(handler)
    assert "0123456789abcdef" not in out.getvalue() and "***" in out.getvalue()
