"""Settings › Backends on a machine without an OS keyring: a save is all or nothing, the message
says what to do instead, and the key-state text tells a keyring key from a key variable
(issue 14, "Half-saved backend")."""

from __future__ import annotations

import keyring
import pytest

from core.backends.settings import load_backends
from tests.desktop.test_settings import (  # noqa: F401  (fixtures)
    SECRET,
    dialog,
    fill_openai,
    memory_keyring,
    seeded_project,
)

pytestmark = pytest.mark.gui

URL = "http://127.0.0.1:9/v1"  # never called: these tests only save


@pytest.fixture
def no_keyring():
    """keyring's own stand-in for a machine with no keyring backend: every call raises."""
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_no_keyring_saves_nothing_and_points_at_a_key_variable(
    qtbot,
    dialog,  # noqa: F811
    no_keyring,
    studio_home,
    monkeypatch,  # noqa: F811
):
    page = dialog.backends
    fields = page.fields["openai"]
    fill_openai(page, "cloud", URL, key=SECRET)
    assert not page.save()
    assert load_backends() == {} and page.list.count() == 0  # not written without its key
    message = page.result.text()
    assert "environment variable" in message and "Key variable" in message
    assert not page.save()  # the same answer again, never "exists; use --replace"
    assert "exists" not in page.result.text()
    # the way out the message names: the key in a variable, the variable's name in the form
    monkeypatch.setenv("CLOUD_TEST_KEY", SECRET)
    fields.api_key.clear()
    fields.api_key_env.setText("CLOUD_TEST_KEY")
    assert page.save(), page.result.text()
    assert load_backends()["cloud"].api_key_env == "CLOUD_TEST_KEY" and page.list.count() == 1
    qtbot.waitUntil(lambda: "CLOUD_TEST_KEY" in fields.api_key.placeholderText(), timeout=5000)
    assert "environment variable" in fields.api_key.placeholderText()


def test_key_state_tells_the_keyring_from_a_variable(
    qtbot,
    dialog,  # noqa: F811
    memory_keyring,  # noqa: F811
    studio_home,
    monkeypatch,  # noqa: F811
):
    page = dialog.backends
    fields = page.fields["openai"]
    fill_openai(page, "ring", URL, key=SECRET)
    assert page.save()
    qtbot.waitUntil(lambda: "a key is saved" in fields.api_key.placeholderText(), timeout=5000)
    assert "OS keyring" in fields.api_key.placeholderText()

    monkeypatch.delenv("UNSET_TEST_KEY", raising=False)
    fill_openai(page, "var", URL)
    fields.api_key_env.setText("UNSET_TEST_KEY")
    assert page.save()
    qtbot.waitUntil(lambda: "UNSET_TEST_KEY" in fields.api_key.placeholderText(), timeout=5000)
    assert "not set" in fields.api_key.placeholderText()
