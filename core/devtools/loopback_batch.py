"""The Files and Batches endpoints of the loopback server (OpenAI Batch API shapes)."""

from __future__ import annotations

import asyncio
import json
import re
import time

from core.devtools.httpmini import Request, Response, parse_multipart


class BatchStore:
    def __init__(self, server):
        self.server = server
        self.files: dict[str, dict] = {}  # id -> {"meta": file object, "data": bytes}
        self.batches: dict[str, dict] = {}
        self.delay_s = 0.0  # extra time a batch stays in_progress, to exercise polling
        self.expire_after: int | None = None  # answer this many requests, then expire the batch
        self.fail_validation: str | None = None  # the next batch fails validation with this

    def _file(self, data: bytes, purpose: str, filename: str) -> dict:
        fid = self.server.next_id("file")
        meta = {
            "id": fid,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[fid] = {"meta": meta, "data": data}
        return meta

    async def route(self, req: Request, route: str) -> Response | None:
        if route == "/v1/files" and req.method == "POST":
            parts = parse_multipart(req.body, req.headers.get("content-type", ""))
            if "file" not in parts:
                return Response.json({"error": {"message": "no file part"}}, 400)
            headers, data = parts["file"]
            purpose = parts.get("purpose", ({}, b"batch"))[1].decode()
            return Response.json(self._file(data, purpose, headers.get("filename", "upload")))
        m = re.fullmatch(r"/v1/files/([\w\-]+)(/content)?", route)
        if m and req.method == "GET":
            entry = self.files.get(m.group(1))
            if entry is None:
                return Response.json({"error": {"message": "no such file"}}, 404)
            if m.group(2):
                return Response(200, entry["data"], content_type="application/octet-stream")
            return Response.json(entry["meta"])
        if route == "/v1/batches" and req.method == "GET":
            data = sorted(self.batches.values(), key=lambda b: b["created_seq"], reverse=True)
            return Response.json({"object": "list", "data": data, "has_more": False})
        if route == "/v1/batches" and req.method == "POST":
            body = req.json()
            if body.get("input_file_id") not in self.files:
                return Response.json({"error": {"message": "input file not found"}}, 400)
            bid = self.server.next_id("batch")
            batch = {
                "id": bid,
                "object": "batch",
                "endpoint": body.get("endpoint"),
                "input_file_id": body["input_file_id"],
                "completion_window": body.get("completion_window", "24h"),
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": int(time.time()),
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
                "metadata": body.get("metadata"),
                "created_seq": len(self.batches),
            }
            self.batches[bid] = batch
            asyncio.get_running_loop().create_task(self._process(batch))
            return Response.json(batch)
        m = re.fullmatch(r"/v1/batches/([\w\-]+)(/cancel)?", route)
        if m:
            batch = self.batches.get(m.group(1))
            if batch is None:
                return Response.json({"error": {"message": "no such batch"}}, 404)
            if m.group(2) and req.method == "POST":
                if batch["status"] not in ("completed", "failed", "expired"):
                    batch["status"] = "cancelling"
            return Response.json(batch)
        return None

    async def _process(self, batch: dict) -> None:
        lines = self.files[batch["input_file_id"]]["data"].decode("utf-8").splitlines()
        requests = [json.loads(line) for line in lines if line.strip()]
        batch["request_counts"]["total"] = len(requests)
        if self.fail_validation:
            batch["status"] = "failed"
            batch["errors"] = {"object": "list", "data": [{"message": self.fail_validation}]}
            self.fail_validation = None
            return
        batch["status"] = "in_progress"
        final = "completed"
        if self.expire_after is not None:
            requests, final = requests[: self.expire_after], "expired"
        out, err = [], []

        async def one(entry):
            status, obj, _headers = await self.server.complete(entry.get("body") or {})
            if isinstance(obj, Response):
                status = obj.status
                try:
                    obj = json.loads(obj.body)
                except ValueError:
                    obj = {"error": {"message": "truncated reply"}}
            return entry, status, obj

        results = await asyncio.gather(*(one(e) for e in requests))
        begun = time.monotonic()
        while time.monotonic() - begun < self.delay_s:  # re-read: a test may cut it short
            await asyncio.sleep(0.02)
        for entry, status, obj in results:
            line = {
                "id": self.server.next_id("batch_req"),
                "custom_id": entry.get("custom_id"),
                "response": {"status_code": status, "request_id": "", "body": obj},
                "error": None,
            }
            if status == 200:
                out.append(line)
                batch["request_counts"]["completed"] += 1
            else:
                err.append(line)
                batch["request_counts"]["failed"] += 1
        if batch["status"] == "cancelling":  # a cancelled batch keeps what it finished
            final = "cancelled"
        if out:
            data = "".join(json.dumps(x) + "\n" for x in out).encode()
            batch["output_file_id"] = self._file(data, "batch_output", "output.jsonl")["id"]
        if err:
            data = "".join(json.dumps(x) + "\n" for x in err).encode()
            batch["error_file_id"] = self._file(data, "batch_output", "errors.jsonl")["id"]
        batch["status"] = final
        batch[f"{final}_at"] = int(time.time())
