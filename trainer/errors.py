"""Errors the trainer reports to the user as one clear line (no traceback)."""


class TrainerError(Exception):
    """Base: the message is fit to show as-is."""


class ConfigError(TrainerError):
    pass


class DataError(TrainerError):
    """A bad record; the message names the row (file and record number) and its id."""

    def __init__(self, where: str | None, row_id: str | None, reason: str):
        self.where, self.row_id, self.reason = where, row_id, reason
        label = where or "a record"
        if row_id:
            label += f" (id {row_id!r})"
        super().__init__(f"{label}: {reason}")


class ModelError(TrainerError):
    pass
