"""User-facing errors: each carries a message fit to show as-is (no secrets, no tracebacks)."""


class StudioError(Exception):
    """Base class for errors the CLI and GUI show to the user verbatim."""


class ProjectError(StudioError):
    pass


class ProjectClosed(ProjectError):
    """A call reached the project after it was closed: a background read that raced a window
    closing or a project switch; nobody is left to show its answer to."""

    def __init__(self):
        super().__init__("project is closed")


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


class ProjectDamaged(ProjectError):
    """DuckDB refused the project file. The message names the file, what is wrong with it and
    the newest backup with the command that restores it (core.store.damage builds it)."""

    def __init__(self, path, problem: str, backup: str | None = None, restore_command: str = ""):
        self.path = path
        self.problem = problem
        self.backup = backup
        self.restore_command = restore_command
        if backup:
            advice = f"The newest backup is {backup}; restore it with: {restore_command}"
        else:
            advice = (
                "There is no backup of this project to restore; keep the file as it is and "
                "copy it somewhere safe before trying anything else."
            )
        super().__init__(f"{path}: {problem}. {advice}")
