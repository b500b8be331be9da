"""A job process for the kill -9 test: creates (or resumes) a 1,000-item job and runs it.

python -m tests.jobs.killable_job PROJECT_DIR BASE_URL N
"""

from __future__ import annotations

import sys

from core.backends import BackendConfig, ChatRequest, make_backend
from core.jobs import Limits, Stage, create_job, recover_on_open, run_job
from core.project import Project
from core.store import jobs as store


class Echo(Stage):
    name = "echo"

    def build(self, item):
        return ChatRequest.user(f"item {item.key}", max_tokens=16)


def main(root: str, url: str, n: int) -> int:
    with Project.open_or_create(root) as project:
        recover_on_open(project.db)
        jobs = store.list_jobs(project.db)
        job_id = (
            jobs[0]["id"] if jobs else create_job(project.db, "echo", [str(i) for i in range(n)])
        )
        backend = make_backend(
            BackendConfig(name="lb", kind="openai", model="gpt-4o-mini", base_url=url)
        )
        final = run_job(
            project.db, job_id, Echo(), backend,
            Limits(concurrency=16, flush_interval_s=0.02, event_interval_s=0.0),
            lambda e: print(f"PROGRESS {e.done}", flush=True),
        )  # fmt: skip
        print(f"FINAL {final.status} {final.done}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
