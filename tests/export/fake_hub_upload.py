"""A loopback stand-in for the Hub's upload endpoints: create repo, preupload, LFS batch and
basic transfer, commit. It keeps what it received so tests can compare it with the export."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
from urllib.parse import unquote

from core.devtools.httpmini import Request, Response, serve_connection

LFS_MIN = (
    10 << 20
)  # files this big (and every parquet file) go to large-file storage, as on the Hub


class FakeUploadHub:
    def __init__(self, token: str, refuse_commits: int = 0):
        self.token = token
        self.refuse_commits = refuse_commits  # answer the first N commits with 422
        self.repos: dict[str, dict] = {}  # "user/name" -> {"private": bool, "files": {path: bytes}}
        self.lfs: dict[str, bytes] = {}  # oid -> bytes
        self.puts: list[str] = []  # oids PUT, in order
        self.requests: list[tuple[str, str]] = []
        self.auth_seen: set[str] = set()
        self.cards: list[str] = []
        self.port = 0
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, req: Request) -> Response:
        path = unquote(req.path.split("?")[0])
        self.requests.append((req.method, path))
        auth = req.headers.get("authorization", "")
        self.auth_seen.add(auth)
        # Storage URLs are presigned on the real Hub: they carry no token.
        if auth != f"Bearer {self.token}" and not path.startswith("/lfs-upload/"):
            return Response.json({"error": "Invalid credentials in Authorization header"}, 401)
        if req.method == "POST" and path == "/api/repos/create":
            body = req.json()
            repo = f"{body.get('organization') or 'me'}/{body['name']}"
            if repo in self.repos:
                return Response.json(
                    {"error": "already created", "url": self.url + "/" + repo}, 409
                )
            self.repos[repo] = {
                "private": bool(body.get("private")) or body.get("visibility") == "private",
                "type": body.get("type"),
                "files": {},
            }
            return Response.json({"url": f"{self.url}/datasets/{repo}", "name": repo})
        if req.method == "PUT" and path.startswith("/lfs-upload/"):
            oid = path.rsplit("/", 1)[1]
            if hashlib.sha256(req.body).hexdigest() != oid:
                return Response.json({"error": "oid mismatch"}, 400)
            self.lfs[oid] = req.body
            self.puts.append(oid)
            return Response(200, b"")
        if req.method == "POST" and path == "/api/validate-yaml":
            return self._validate_card(req.json().get("content", ""))
        parts = path.strip("/").split("/")
        if req.method == "POST" and path.endswith(".git/info/lfs/objects/batch"):
            objects = []
            for o in req.json()["objects"]:
                entry = {"oid": o["oid"], "size": o["size"]}
                if o["oid"] not in self.lfs:
                    entry["actions"] = {"upload": {"href": f"{self.url}/lfs-upload/{o['oid']}"}}
                objects.append(entry)
            return Response.json({"transfer": "basic", "objects": objects})
        if (
            req.method == "POST"
            and len(parts) >= 6
            and parts[0] == "api"
            and parts[1] == "datasets"
        ):
            repo = f"{parts[2]}/{parts[3]}"
            if repo not in self.repos:
                return Response.json({"error": "Repository not found"}, 404)
            if parts[4] == "preupload":
                files = [
                    {
                        "path": f["path"],
                        "uploadMode": "lfs"
                        if f["size"] >= LFS_MIN or f["path"].endswith(".parquet")
                        else "regular",
                        "shouldIgnore": False,
                        "oid": None,
                    }
                    for f in req.json()["files"]
                ]
                return Response.json({"files": files})
            if parts[4] == "commit":
                return self._commit(repo, req.body)
        return Response.json({"error": f"no route {req.method} {path}"}, 404)

    def _validate_card(self, content: str) -> Response:
        """The card's YAML header, checked for what the real Hub refuses (license other
        without license_name / license_link, a config without data files)."""
        import yaml

        self.cards.append(content)
        head = content.split("---")[1] if content.startswith("---") else ""
        meta = yaml.safe_load(head) or {}
        errors = []
        if meta.get("license") == "other" and not (
            meta.get("license_name") and meta.get("license_link")
        ):
            errors.append(
                {"message": '"license_name" and "license_link" are required for license "other"'}
            )
        for cfg in meta.get("configs") or []:
            if not cfg.get("data_files"):
                errors.append({"message": f"config {cfg.get('config_name')} has no data_files"})
        if errors:
            return Response.json({"errors": errors}, 400)
        return Response.json({"errors": [], "warnings": []})

    def _commit(self, repo: str, body: bytes) -> Response:
        if self.refuse_commits:
            self.refuse_commits -= 1
            return Response.json({"error": "commit refused (test)"}, 422)
        files = {}
        for line in body.decode().splitlines():
            item = json.loads(line)
            value = item["value"]
            if item["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif item["key"] == "lfsFile":
                if value["oid"] not in self.lfs:
                    return Response.json({"error": f"LFS object {value['oid']} missing"}, 422)
                files[value["path"]] = self.lfs[value["oid"]]
        self.repos[repo]["files"].update(files)
        oid = hashlib.sha1(body).hexdigest()
        return Response.json(
            {"commitUrl": f"{self.url}/datasets/{repo}/commit/{oid}", "commitOid": oid}
        )

    def start(self) -> FakeUploadHub:
        def run():
            loop = asyncio.new_event_loop()
            server = loop.run_until_complete(
                asyncio.start_server(
                    lambda r, w: serve_connection(r, w, self.handle), "127.0.0.1", 0
                )
            )
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        self._ready.wait(5)
        return self
