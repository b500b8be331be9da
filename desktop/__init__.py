"""The PySide6 desktop studio over core's public API."""
