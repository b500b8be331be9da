"""Bridges from Qt to core work on other threads (signals; never blocking the GUI thread)."""
