"""User-facing errors: each carries a message fit to show as-is (no secrets, no tracebacks)."""


class StudioError(Exception):
    """Base class for errors the CLI and GUI show to the user verbatim."""


class ProjectError(StudioError):
    pass


class ProjectLocked(ProjectError):
    def __init__(self, path, pid: int | None, holder: str | None = None):
        self.path = path
        self.pid = pid
        self.holder = holder
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"Project {path} is open in another window or process ({who}). "
            "Close it there, or open a copy of the project."
        )


class SchemaTooNew(ProjectError):
    pass
