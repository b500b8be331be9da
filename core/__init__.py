"""MMInstruct Studio engine: pure Python, no Qt, no torch at import time."""

__version__ = "0.1.0"
