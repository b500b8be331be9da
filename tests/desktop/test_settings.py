"""The Settings dialog over the real settings files, keyring API, project database and the
loopback OpenAI server; the OS keyring is stood in for by the backends tests' memory keyring."""

from __future__ import annotations

import keyring
import pytest
import yaml

from core.backends.settings import load_backends, settings_path
from core.devtools.loopback import LoopbackServer
from tests.backends.fake_hub import FakeHub
from tests.backends.test_settings_keys import MemoryKeyring
from tests.desktop.test_screenshots import save

pytestmark = pytest.mark.gui

SECRET = "sk-loop-0123456789abcdefSECRET"


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def keyed_server():
    with LoopbackServer(latency=0.01, slots=4, api_key=SECRET) as server:
        yield server


@pytest.fixture
def seeded_project(project):
    from core.domains import install_defaults

    install_defaults(project.db)
    return project


@pytest.fixture
def dialog(qtbot, seeded_project):
    from desktop.views.settings.dialog import SettingsDialog

    d = SettingsDialog(seeded_project)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    yield d
    assert d.wait(10000)


def fill_openai(page, name, url, key="", model="gpt-4o-mini"):
    page.new()
    page.name.setText(name)
    page.kind.setCurrentIndex(page.kind.findData("openai"))
    fields = page.fields["openai"]
    fields.base_url.setText(url)
    fields.model.setText(model)
    fields.api_key.setText(key)


def files_under(folder):
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_backend_with_a_key_goes_to_the_keyring_and_tests_ok(
    qtbot, dialog, memory_keyring, keyed_server, studio_home
):
    page = dialog.backends
    fill_openai(page, "loop", keyed_server.url, key=SECRET)
    with qtbot.waitSignal(page.worker.tested, timeout=20000) as tested:
        page.test_button.click()  # saves, then tests on a worker thread
    result = tested.args[0]
    assert result["ok"] and result["text"]["ok"] and result["image"]["ok"]
    assert "Connection works." in page.result.text()
    assert memory_keyring.store[("mmstudio", "loop")] == SECRET
    assert keyed_server.stats.auth_headers[-1] == f"Bearer {SECRET}"
    cfg = load_backends()["loop"]
    assert (cfg.kind, cfg.base_url, cfg.model, cfg.api_key_env) == (
        "openai", keyed_server.url, "gpt-4o-mini", None,
    )  # fmt: skip
    assert page.list.count() == 1 and page.fields["openai"].api_key.text() == ""
    qtbot.waitUntil(lambda: "a key is saved" in page.fields["openai"].api_key.placeholderText())
    written = files_under(studio_home)
    assert settings_path() in written
    for path in written:  # the key is in no file we wrote
        assert SECRET.encode() not in path.read_bytes(), path
    qtbot.wait(100)  # let the result label lay out before the picture
    save(dialog, "settings_backends")

    page.remove_now("loop")
    assert load_backends() == {} and ("mmstudio", "loop") not in memory_keyring.store


def test_a_wrong_key_fails_the_test_without_showing_the_key(
    qtbot, dialog, memory_keyring, keyed_server
):
    page = dialog.backends
    wrong = "sk-wrong-abcdef0123456789"
    fill_openai(page, "bad", keyed_server.url, key=wrong)
    with qtbot.waitSignal(page.worker.tested, timeout=20000) as tested:
        page.test_button.click()
    assert not tested.args[0]["ok"] and tested.args[0]["text"]["error_class"] == "auth"
    assert "FAILED" in page.result.text() and wrong not in page.result.text()


def test_bad_backend_settings_are_refused_and_nothing_is_saved(qtbot, dialog, memory_keyring):
    page = dialog.backends
    fill_openai(page, "bad name!", "http://127.0.0.1:9/v1", key="sk-never-stored-123456")
    assert not page.save()
    assert "backend name" in page.result.text()
    assert load_backends() == {} and memory_keyring.store == {}
    page.name.setText("x")
    page.kind.setCurrentIndex(page.kind.findData("llama_cpp"))
    assert not page.save() and "needs --gguf" in page.result.text()
    assert load_backends() == {}


def test_a_catalog_download_shows_progress_and_becomes_a_backend(
    qtbot, dialog, studio_home, monkeypatch
):
    import os

    from core.backends.catalog import load_catalog

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    model, proj = b"GGUF" + os.urandom(3_000_000), b"GGUF" + os.urandom(400_000)
    hub = FakeHub({"o/vlm/model.gguf": model, "o/vlm/mmproj.gguf": proj}).start()
    catalog = studio_home / "models.yaml"
    catalog.write_text(
        "models:\n  - {id: demo-vlm, title: Demo VLM, kind: vlm, chat_format: mtmd, n_ctx: 8192,\n"
        "     model: {repo: o/vlm, file: model.gguf, size_mb: 3},\n"
        "     mmproj: {repo: o/vlm, file: mmproj.gguf, size_mb: 0.4}}\n"
    )
    page = dialog.backends
    page.new()
    page.kind.setCurrentIndex(page.kind.findData("llama_cpp"))
    llama = page.fields["llama_cpp"]
    llama.set_catalog(load_catalog(catalog))
    llama.from_catalog.setChecked(True)
    page.worker.hub_endpoint = hub.url
    seen = []
    page.worker.progress.connect(lambda name, done, total: seen.append((name, done, total)))
    with qtbot.waitSignal(page.worker.downloaded, timeout=60000):
        llama.download_button.click()
    assert ("model.gguf", len(model), len(model)) in seen
    assert page.name.text() == "demo-vlm"
    assert llama.gguf.edit.text().endswith("model.gguf") and llama.chat_format.text() == "mtmd"
    assert llama.n_ctx.value() == 8192 and "Downloaded Demo VLM" in llama.download_note.text()
    assert page.save()
    qtbot.wait(50)
    save(dialog, "settings_local_model")
    cfg = load_backends()["demo-vlm"]
    assert (cfg.kind, cfg.max_concurrency, cfg.n_ctx) == ("llama_cpp", 1, 8192)
    assert open(cfg.mmproj, "rb").read() == proj


def test_offline_download_says_so_at_once(qtbot, dialog, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    page = dialog.backends
    page.kind.setCurrentIndex(page.kind.findData("llama_cpp"))
    llama = page.fields["llama_cpp"]
    assert llama.catalog_box.count() >= 6  # the bundled catalog
    llama.from_catalog.setChecked(True)
    with qtbot.waitSignal(page.worker.downloadFailed, timeout=5000):
        llama.download_button.click()
    assert "offline" in llama.download_note.text() and "--gguf" in llama.download_note.text()


def test_seed_questions_list_add_edit_delete(qtbot, dialog, seeded_project):
    from core.domains import get_seed, list_seeds

    db = seeded_project.db
    page = dialog.seeds
    dialog.tabs.setCurrentWidget(page)
    page.domain.setCurrentIndex(page.domain.findData("ocr"))
    page.itype.setCurrentIndex(page.itype.findData("short_vqa"))
    before = list_seeds(db, "ocr", "short_vqa", "en")
    assert page.list.count() == len(before) > 0

    page.list.setCurrentRow(0)
    seed_id = page.selected_id()
    page.text.setPlainText("What is the largest word printed on the sign?")
    page.save_button.click()
    assert get_seed(db, seed_id).text == "What is the largest word printed on the sign?"
    assert page.selected_id() == seed_id and "Saved seed" in page.status.text()

    page.text.setPlainText("Which colour is the text?")
    page.add_button.click()
    added = [
        s for s in list_seeds(db, "ocr", "short_vqa", "en") if s.text == "Which colour is the text?"
    ]
    assert len(added) == 1 and added[0].source == "user"
    assert page.list.count() == len(before) + 1

    page.add_button.click()  # the same text again: refused, nothing added
    assert "already exists" in page.status.text()
    assert len(list_seeds(db, "ocr", "short_vqa", "en")) == len(before) + 1
    page.text.setPlainText("   ")
    page.save_button.click()
    assert "empty" in page.status.text() and get_seed(db, added[0].id).text

    page.reload(select=added[0].id)
    save(dialog, "settings_seeds")
    page.delete_button.click()
    assert all(s.id != added[0].id for s in list_seeds(db, "ocr", "short_vqa", "en"))


def test_prompt_override_saved_refused_and_reverted(qtbot, dialog, seeded_project):
    from core.pipeline.prompts import get_template
    from core.store.prompt_overrides import get_prompt_override

    db = seeded_project.db
    page = dialog.prompts
    page.domain.setCurrentIndex(page.domain.findData("ocr"))
    page.itype.setCurrentIndex(page.itype.findData("short_vqa"))
    page.template.setCurrentIndex(page.template.findData("generate_short_vqa"))
    assert page.source.text() == "bundled" and "{caption}" in page.text.toPlainText()

    page.text.setPlainText("Ask {n} short questions about this sign: {caption} {oops}")
    assert not page.save()
    assert (
        "{oops}" in page.status.text()
        and get_prompt_override(db, "generate_short_vqa", "en", "ocr") is None
    )

    page.text.setPlainText("Ask {n} short questions about this sign: {caption}\n{format}")
    assert page.save()
    text, owner = get_prompt_override(db, "generate_short_vqa", "en", "ocr")
    assert owner == "ocr" and text.startswith("Ask {n} short questions")
    assert page.source.text() == "your override for ocr" and page.revert_button.isEnabled()
    dialog.tabs.setCurrentWidget(page)
    save(dialog, "settings_prompts")
    assert get_template(db, "generate_short_vqa", "en", "posters").source == "resource"

    page.revert_button.click()
    assert get_prompt_override(db, "generate_short_vqa", "en", "ocr") is None
    assert page.source.text() == "bundled"


def test_price_table_edits_go_to_the_users_copy(qtbot, dialog, studio_home):
    from core.backends.pricing import price_table

    page = dialog.prices
    models = [page.table.item(n, 0).text() for n in range(page.table.rowCount())]
    row = models.index("gpt-4o-mini")
    page.table.item(row, 1).setText("0.2")
    assert page.table.item(row, 4).text() == "yours (changed)"
    page.add_row()
    n = page.table.rowCount() - 1
    page.table.item(n, 0).setText("my-gateway-model")
    page.table.item(n, 2).setText("3.5")
    assert page.save()
    saved = yaml.safe_load((studio_home / "prices.yaml").read_text())
    assert saved["models"] == {
        "gpt-4o-mini": {"input": 0.2, "output": 0.6, "image": 0.0},
        "my-gateway-model": {"input": 0.0, "output": 3.5, "image": 0.0},
    }  # only what differs from the bundled table
    table = price_table()
    assert table.lookup("gpt-4o-mini").input == 0.2 and table.lookup("gpt-4o").input == 2.5
    assert table.lookup("my-gateway-model-v2").output == 3.5  # prefix match

    before = (studio_home / "prices.yaml").read_text()
    page.table.item(row, 2).setText("cheap")
    assert not page.save() and "not a number" in page.status.text()
    assert (studio_home / "prices.yaml").read_text() == before

    page.table.setCurrentCell(row, 0)
    page.remove_row()  # a bundled model goes back to its bundled price
    assert page.save() and price_table().lookup("gpt-4o-mini").input == 0.15
    dialog.tabs.setCurrentWidget(page)
    save(dialog, "settings_prices")


def test_interface_language_is_a_user_setting(qtbot, dialog, studio_home):
    from desktop.models.ui_settings import load_ui_settings

    page = dialog.interface
    assert page.language.currentData() == "en"
    page.language.setCurrentIndex(page.language.findData("zh"))
    assert page.confirm_cost.value() == 1.0  # the Jobs tab asks above $1 by default
    page.confirm_cost.setValue(2.5)
    assert page.save()
    assert load_ui_settings()["language"] == "zh"
    saved = yaml.safe_load((studio_home / "desktop.yaml").read_text())
    assert saved == {"language": "zh", "confirm_cost_usd": 2.5}


@pytest.mark.llama
def test_local_gguf_files_and_a_test_on_the_managed_server(qtbot, dialog, studio_home):
    from tests.gguf_models import write_tiny_vlm

    text_gguf, mmproj = write_tiny_vlm(studio_home / "tiny")  # random weights, real llama.cpp
    page = dialog.backends
    page.new()
    page.kind.setCurrentIndex(page.kind.findData("llama_cpp"))
    llama = page.fields["llama_cpp"]
    assert llama.from_files.isChecked() and page.concurrency.value() == 1
    page.name.setText("tiny")
    llama.gguf.edit.setText(str(text_gguf))
    llama.mmproj.edit.setText(str(mmproj))
    llama.chat_format.setText("llava-1-5")
    llama.threads.setValue(1)
    with qtbot.waitSignal(page.worker.tested, timeout=120000) as tested:
        page.test_button.click()
        assert not page.test_button.isEnabled()  # the GUI thread is free while it runs
    result = tested.args[0]
    assert result["ok"] and result["text"]["ok"] and result["image"]["ok"], result
    cfg = load_backends()["tiny"]
    assert (cfg.gguf, cfg.mmproj, cfg.n_threads) == (str(text_gguf), str(mmproj), 1)


def test_a_preset_fills_the_conventions_and_tests_against_its_server(
    qtbot, dialog, memory_keyring, studio_home
):
    page = dialog.backends
    page.new()
    page.name.setText("llama")
    fields = page.fields["openai"]
    fields.preset.setCurrentIndex(fields.preset.findData("llama-server"))
    fields.preset.activated.emit(fields.preset.currentIndex())
    assert fields.base_url.text() == "http://localhost:8080/v1"
    assert "grammar" in fields.preset_note.text() and "not needed" in fields.preset_note.text()
    fields.preset.setCurrentIndex(fields.preset.findData("azure"))
    fields.preset.activated.emit(fields.preset.currentIndex())
    assert fields.api_key_env.text() == "AZURE_OPENAI_API_KEY" and fields.api_version.text()

    with LoopbackServer(dialect="azure", model="dep1", strict_models=True, api_key=SECRET) as srv:
        fields.base_url.setText(f"http://127.0.0.1:{srv.port}")
        fields.model.setText("dep1")
        fields.api_key.setText(SECRET)
        with qtbot.waitSignal(page.worker.tested, timeout=20000) as tested:
            page.test_button.click()
        assert tested.args[0]["ok"], tested.args[0]
        assert srv.stats.seen_routes[-1][1] == "/openai/deployments/dep1/chat/completions"
    cfg = load_backends()["llama"]
    assert (cfg.preset, cfg.model) == ("azure", "dep1") and cfg.api_version
