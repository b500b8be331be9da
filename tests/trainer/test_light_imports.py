"""The trainer runs in the user's own Python environment (torch, transformers, peft), which
need not have the app's packages: reading an export must not pull DuckDB, Qt or the backends."""

import subprocess
import sys
import textwrap


def test_trainer_and_export_readers_import_without_app_packages():
    code = textwrap.dedent(
        """
        import sys
        for name in ("duckdb", "PySide6", "imagehash", "openai", "llama_cpp", "keyring"):
            sys.modules[name] = None  # any import of these now raises ImportError
        import core.export.readers, trainer.__main__, trainer.loop, trainer.evaluate
        import core.vocab, core.itypes
        from core.export.readers import iter_conversations, detect_format
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
