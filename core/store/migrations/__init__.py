"""Numbered schema migrations: NNN_name.sql, applied in order, each in its own transaction.

Numbers are allocated by area so parallel work never collides:
001-009 foundation, 010-019 backends/jobs, 020-029 pipeline, 030-039 export,
040-049 desktop, 050-059 collect, 060-069 trainer links.
"""
