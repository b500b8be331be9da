"""The OpenAI Batch API: upload a JSONL of requests, poll, download results (half price).

Works with any server that speaks the Files + Batches endpoints (OpenAI; our loopback server
in tests). Each request carries a `custom_id`; results come back keyed by it, in any order.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from core.backends.base import BackendError, BadResponse, ChatResponse, Prepared
from core.backends.openai_kind import OpenAIBackend, _response

TERMINAL = {"completed", "failed", "expired", "cancelled"}
ENDPOINT = "/v1/chat/completions"


class BatchFailed(BackendError):
    error_class = "batch_failed"


def build_jsonl(model: str, requests: list[tuple[str, Prepared]]) -> bytes:
    lines = []
    for custom_id, prepared in requests:
        body = {"model": model, **prepared.payload}
        lines.append(
            json.dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body})
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


class BatchClient:
    def __init__(self, backend: OpenAIBackend, poll_s: float = 30.0):
        self.backend = backend
        self.poll_s = poll_s

    async def submit(
        self, requests: list[tuple[str, Prepared]], metadata: dict | None = None
    ) -> str:
        """Upload and start a batch; returns its id (persist it: polling can resume later)."""
        client = self.backend._client()
        data = build_jsonl(self.backend.model, requests)
        try:
            upload = await client.files.create(file=("requests.jsonl", data), purpose="batch")
            batch = await client.batches.create(
                input_file_id=upload.id,
                endpoint=ENDPOINT,
                completion_window="24h",
                metadata={k: str(v) for k, v in (metadata or {}).items()} or None,
            )
        except Exception as exc:
            raise BatchFailed(f"could not start a batch on {self.backend.name}: {exc}") from None
        return batch.id

    async def wait(
        self,
        batch_id: str,
        on_status: Callable[[dict], None] | None = None,
        timeout_s: float | None = None,
    ) -> dict:
        client = self.backend._client()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            batch = (await client.batches.retrieve(batch_id)).model_dump()
            if on_status is not None:
                on_status(batch)
            if batch["status"] in TERMINAL:
                return batch
            if deadline is not None and time.monotonic() > deadline:
                raise BatchFailed(
                    f"batch {batch_id} still {batch['status']} after {timeout_s:.0f} s"
                )
            await asyncio.sleep(self.poll_s)

    async def results(self, batch: dict) -> dict[str, ChatResponse | BackendError]:
        """custom_id -> reply, or the error that request met."""
        if batch["status"] != "completed":
            raise BatchFailed(f"batch {batch['id']} ended {batch['status']}")
        client = self.backend._client()
        out: dict[str, ChatResponse | BackendError] = {}
        for file_id in (batch.get("output_file_id"), batch.get("error_file_id")):
            if not file_id:
                continue
            content = await client.files.content(file_id)
            for line in content.text.splitlines():
                if line.strip():
                    entry = json.loads(line)
                    out[entry["custom_id"]] = self._one(entry)
        return out

    def _one(self, entry: dict) -> ChatResponse | BackendError:
        from openai.types.chat import ChatCompletion

        resp = entry.get("response") or {}
        status = resp.get("status_code")
        if entry.get("error") or status != 200:
            err = entry.get("error") or (resp.get("body") or {}).get("error") or {}
            return BatchFailed(
                f"request failed in batch ({status}): {err.get('message', err)}", status
            )
        try:
            return _response(self.backend.name, ChatCompletion.model_validate(resp["body"]), 0.0)
        except BackendError as exc:
            return exc
        except Exception as exc:
            return BadResponse(f"unreadable batch result: {exc}")

    async def cancel(self, batch_id: str) -> None:
        await self.backend._client().batches.cancel(batch_id)
