"""The OpenAI Batch API: upload a JSONL of requests, create, poll, download (half price).

Works with any server that speaks the Files + Batches endpoints (OpenAI; our loopback server
in tests). Each request carries a `custom_id`; results come back keyed by it, in any order.
One input file holds at most 50,000 requests and 200 MB (images travel inside as data URIs,
so they count): `split` cuts a job's requests into files that fit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from core.backends.base import BackendError, BadResponse, ChatResponse, Prepared
from core.backends.openai_kind import _response

TERMINAL = {"completed", "failed", "expired", "cancelled"}
ENDPOINT = "/v1/chat/completions"
WINDOW = "24h"
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024


class BatchFailed(BackendError):
    error_class = "batch_failed"


class BatchTooLarge(BackendError):
    error_class = "too_large"


def jsonl_line(model: str, custom_id: str, prepared: Prepared) -> bytes:
    body = {"model": model, **prepared.payload}
    entry = {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}
    return (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")


def split(
    lines: Iterable[tuple[str, bytes]],
    max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BYTES,
) -> Iterator[list[tuple[str, bytes]]]:
    """Group (custom_id, line) into input files within both limits, in order.
    A single line over `max_bytes` raises BatchTooLarge (no file could carry it)."""
    chunk: list[tuple[str, bytes]] = []
    size = 0
    for custom_id, line in lines:
        if len(line) > max_bytes:
            raise BatchTooLarge(
                f"request {custom_id} is {len(line) / 1e6:.1f} MB, over the Batch API's "
                f"{max_bytes / 1e6:.0f} MB per file: send smaller images or run it live"
            )
        if chunk and (len(chunk) >= max_requests or size + len(line) > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append((custom_id, line))
        size += len(line)
    if chunk:
        yield chunk


def _err(exc: Exception, what: str, name: str) -> BatchFailed:
    from core.backends.keys import redact

    status = getattr(exc, "status_code", None)
    return BatchFailed(f"{what} on {name} failed: {redact(str(exc))[:300]}", status)


class BatchClient:
    """Thin calls over the SDK client of an `openai` backend; every failure is a BatchFailed."""

    def __init__(self, backend):
        self.backend = backend

    async def upload(self, data: bytes) -> str:
        try:
            f = await self.backend._client().files.create(
                file=("requests.jsonl", data), purpose="batch"
            )
        except BackendError:
            raise
        except Exception as exc:
            raise _err(exc, "uploading a batch file", self.backend.name) from None
        return f.id

    async def create(self, input_file_id: str, metadata: dict) -> dict:
        try:
            batch = await self.backend._client().batches.create(
                input_file_id=input_file_id, endpoint=ENDPOINT, completion_window=WINDOW,
                metadata={k: str(v) for k, v in metadata.items()},
            )  # fmt: skip
        except Exception as exc:
            raise _err(exc, "creating a batch", self.backend.name) from None
        return batch.model_dump()

    async def find(self, token: str, pages: int = 5) -> dict | None:
        """The batch created with metadata token=`token`, if the provider has one (recent first):
        a process killed between the create call and recording its answer adopts it."""
        try:
            page = await self.backend._client().batches.list(limit=100)
            for _ in range(pages):
                for batch in page.data:
                    if (batch.metadata or {}).get("token") == token:
                        return batch.model_dump()
                if not page.has_next_page():
                    break
                page = await page.get_next_page()
        except Exception as exc:
            raise _err(exc, "listing batches", self.backend.name) from None
        return None

    async def retrieve(self, batch_id: str) -> dict:
        try:
            return (await self.backend._client().batches.retrieve(batch_id)).model_dump()
        except Exception as exc:
            raise _err(exc, f"polling batch {batch_id}", self.backend.name) from None

    async def cancel(self, batch_id: str) -> dict:
        try:
            return (await self.backend._client().batches.cancel(batch_id)).model_dump()
        except Exception as exc:
            raise _err(exc, f"cancelling batch {batch_id}", self.backend.name) from None

    async def results(self, batch: dict) -> dict[str, ChatResponse | BackendError]:
        """custom_id -> reply, or the error that request met. Whatever a batch in any final
        state left behind (an expired or cancelled batch keeps what it finished)."""
        out: dict[str, ChatResponse | BackendError] = {}
        for file_id in (batch.get("output_file_id"), batch.get("error_file_id")):
            if not file_id:
                continue
            try:
                content = await self.backend._client().files.content(file_id)
            except Exception as exc:
                raise _err(exc, f"downloading {file_id}", self.backend.name) from None
            for line in content.text.splitlines():
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a cut-off line: its request is requeued as unanswered
                out[str(entry.get("custom_id"))] = self._one(entry)
        return out

    def _one(self, entry: dict) -> ChatResponse | BackendError:
        from openai.types.chat import ChatCompletion

        resp = entry.get("response") or {}
        status = resp.get("status_code")
        if entry.get("error") or status != 200:
            err = entry.get("error") or (resp.get("body") or {}).get("error") or {}
            message = err.get("message", err) if isinstance(err, dict) else err
            exc = BatchFailed(f"request failed in batch ({status}): {message}", status)
            exc.retryable_in_batch = status == 429 or (status or 0) >= 500
            return exc
        try:
            return _response(self.backend.name, ChatCompletion.model_validate(resp["body"]), 0.0)
        except BackendError as exc:
            return exc
        except Exception as exc:
            return BadResponse(f"unreadable batch result: {exc}")
