"""The connection test: one text and (where the backend takes images) one image request.

`mmstudio backend test` and the Settings dialog's Test button both call `probe`, so they send
the same requests and report the same shape. Each request is retried like a job would retry
it (the engine's `RetryPolicy`, Retry-After honoured): one 429 or one cut-off body is not
"broken". Auth, unknown-model and other refusals fail at once, with the server's message.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from pathlib import Path

from core.backends.base import BackendError, ChatRequest, ImagePart

TEXT_PROMPT = "Reply with one short sentence: what is 2 + 2?"
IMAGE_PROMPT = "Describe this image in one sentence."
NO_IMAGES = "this backend has no vision projector (mmproj)"
REFUSED = "the text request was refused"
MAX_ATTEMPTS = 4


def sample_image(path: Path | None = None) -> ImagePart:
    """The image to send: `path`, or a small drawing made here (no file needed)."""
    from PIL import Image, ImageDraw

    if path is not None:
        return ImagePart(path=path)
    img = Image.new("RGB", (64, 64), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((8, 8, 40, 40), fill="red")
    draw.ellipse((30, 30, 60, 60), fill="blue")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return ImagePart(data=buf.getvalue())


async def _attempts(backend, request: ChatRequest, policy, max_attempts: int) -> dict:
    loop = asyncio.get_running_loop()
    prepared = await loop.run_in_executor(None, backend.prepare, request)
    tries: list[dict] = []
    while True:
        started = time.perf_counter()
        try:
            resp = await backend.send(prepared)
        except BackendError as exc:
            try_ = {"ok": False, "latency_s": round(time.perf_counter() - started, 3),
                    "error_class": exc.error_class, "http_status": exc.http_status}  # fmt: skip
            tries.append(try_)
            last = len(tries) >= max_attempts
            if not exc.retryable or exc.fatal or last:
                return {"ok": False, "error_class": exc.error_class, "error": str(exc),
                        "attempts": len(tries), "tries": tries,
                        "gave_up": "not retryable" if not exc.retryable or exc.fatal
                        else f"{max_attempts} attempts"}  # fmt: skip
            wait = policy.delay(len(tries), exc.retry_after)
            try_["waited_s"] = round(wait, 3)
            await asyncio.sleep(wait)
            continue
        latency = time.perf_counter() - started
        tries.append({"ok": True, "latency_s": round(latency, 3)})
        return {
            "ok": True,
            "latency_s": round(latency, 3),
            "reply": resp.text[:500],
            "prompt_tokens": resp.usage.prompt_tokens,
            "completion_tokens": resp.usage.completion_tokens,
            "cost_usd": backend.cost(resp.usage, prepared.n_images),
            "attempts": len(tries),
            "tries": tries,
        }


def one_request(backend, request: ChatRequest, policy=None, max_attempts=MAX_ATTEMPTS) -> dict:
    """One request, retried as the job engine would: ok, latency of the answering call, the
    reply's start, tokens, cost and each attempt (its latency, error class, wait after it)."""
    from core.jobs.retry import RetryPolicy

    policy = policy or RetryPolicy(base_s=0.5, cap_s=10.0)

    async def run():
        try:
            return await _attempts(backend, request, policy, max_attempts)
        finally:
            await backend.aclose()

    return asyncio.run(run())


def probe(backend, image: Path | None = None, policy=None) -> dict:
    """The `mmstudio backend test --json` document for an open backend."""
    text = one_request(backend, ChatRequest.user(TEXT_PROMPT, max_tokens=32), policy)
    if text["ok"] is False and text.get("gave_up") == "not retryable":
        shot = {"ok": None, "skipped": REFUSED}  # same refusal again
    elif backend.supports_images:
        request = ChatRequest.user(IMAGE_PROMPT, [sample_image(image)], max_tokens=48)
        shot = one_request(backend, request, policy)
    else:
        shot = {"ok": None, "skipped": NO_IMAGES}
    ok = bool(text["ok"]) and shot["ok"] is not False
    record(backend.name, backend.model, ok)
    return {"backend": backend.name, "kind": backend.kind, "model": backend.model, "ok": ok,
            "text": text, "image": shot}  # fmt: skip


# the last result per backend ------------------------------------------------------------
RESULTS_FILE = "backend_tests.yaml"


def _results_path() -> Path:
    from core.paths import user_home

    return user_home() / RESULTS_FILE


def last_results() -> dict[str, dict]:
    """name -> {"ok", "model", "at"} of each backend's last test (an unreadable file: none)."""
    import yaml

    path = _results_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, yaml.YAMLError):
        return {}
    return {k: v for k, v in (raw or {}).items() if isinstance(v, dict)}


def record(name: str, model: str, ok: bool) -> None:
    """Keep this test's outcome beside the backends (the Jobs form prefers one that passed);
    written atomically, and never the reason a test fails."""
    import os
    import tempfile
    from datetime import UTC, datetime

    import yaml

    results = last_results()
    results[name] = {
        "ok": ok,
        "model": model,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = _results_path()
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tests-", suffix=".yaml")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(results, fh, sort_keys=True)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home: the test itself still stands
        logging.getLogger(__name__).warning("cannot record the backend test: %s", exc)


def passed(names) -> list[str]:
    """Those of `names` whose last test passed."""
    results = last_results()
    return [name for name in names if results.get(name, {}).get("ok")]
