"""Widgets, one concern each."""
