"""Shared writer of the JSON formats: DuckDB writes each split's records straight to disk."""

from __future__ import annotations

from core.export.formats.base import Format


class JsonFormat(Format):
    records = ""  # the record shape of core/store/export_records.py; default: the format's name

    def write(self, job) -> list[str]:
        names = []
        for split in job.splits:
            name = self.data_file(split)
            _passes().copy_records(
                job.cur,
                self.records or self.name,
                split,
                job.staging / name,
                self.data_suffix == ".json",
            )
            names.append(name)
            job.progress(f"{self.name} {split}")
        return names


def _passes():
    # Imported on first use: readers (the trainer's environment) must not need DuckDB.
    from core.store import export_passes

    return export_passes
