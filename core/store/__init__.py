"""The only package that writes SQL. Everything else calls typed functions from here."""

from core.store.db import Database

__all__ = ["Database"]
