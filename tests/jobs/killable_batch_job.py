"""A job process for the Batch API kill test: creates (or resumes) an N-item job as batches.

python -m tests.jobs.killable_batch_job PROJECT_DIR BASE_URL N MAX_REQUESTS ON_EXPIRY
"""

from __future__ import annotations

import sys

from core.backends import BackendConfig, ChatRequest, make_backend
from core.jobs import Limits, Stage, create_job, recover_on_open
from core.jobs.engine import make_runner
from core.project import Project
from core.store import jobs as store


class Echo(Stage):
    name = "echo"

    def build(self, item):
        return ChatRequest.user(f"item {item.key}", max_tokens=16)


def main(root: str, url: str, n: int, max_requests: int, on_expiry: str) -> int:
    with Project.open_or_create(root) as project:
        recover_on_open(project.db)
        jobs = store.list_jobs(project.db)
        job_id = (
            jobs[0]["id"] if jobs else create_job(project.db, "echo", [str(i) for i in range(n)])
        )
        backend = make_backend(
            BackendConfig(name="lb", kind="openai", model="gpt-4o-mini", base_url=url)
        )
        limits = Limits(
            concurrency=16, flush_interval_s=0.02, event_interval_s=0.0,
            batch=True, batch_poll_s=0.05, batch_on_expiry=on_expiry,
        )  # fmt: skip
        runner = make_runner(project.db, job_id, Echo(), backend, limits,
                             lambda e: print(f"EVENT {e.kind} {e.message}", flush=True))  # fmt: skip
        runner.max_requests = max_requests
        final = runner.run()
        print(f"FINAL {final.status} {final.done}", flush=True)
    return 0


if __name__ == "__main__":
    a = sys.argv
    sys.exit(main(a[1], a[2], int(a[3]), int(a[4]), a[5]))
