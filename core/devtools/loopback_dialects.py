"""How each kind of server the endpoint presets name differs on the wire, for the loopback
server: the path prefix, where the key goes, and how models are listed.

`route(dialect, req)` turns a request into the plain OpenAI route the server answers
(`/v1/chat/completions`, `/v1/models`, ...), the key it carried, and, for Azure, the
deployment that names the model; or an early error the real server would send.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from core.devtools.httpmini import Request, Response

# dialect -> (path prefix before /v1, header holding the key, owner in model listings)
DIALECTS = {
    "openai": ("", "authorization", "openai"),
    "openrouter": ("/api", "authorization", "openrouter"),
    "ollama": ("", "authorization", "library"),
    "lmstudio": ("", "authorization", "organization_owner"),
    "vllm": ("", "authorization", "vllm"),
    "sglang": ("", "authorization", "sglang"),
    "llama-server": ("", "authorization", "llamacpp"),
    "azure": ("", "api-key", "system"),
}
_AZURE = re.compile(r"/openai/deployments/([^/]+)(/.*)")


def _err(status: int, message: str) -> Response:
    return Response.json({"error": {"message": message, "type": "invalid_request_error"}}, status)


def route(dialect: str, req: Request) -> tuple[str, str | None, str | None, Response | None]:
    """(plain route, key given, deployment, early error)."""
    prefix, key_header, _owner = DIALECTS[dialect]
    path = req.path.rstrip("/")
    given = req.headers.get(key_header)
    if key_header == "authorization":
        given = (given or "").removeprefix("Bearer ") or None
    elif req.headers.get("authorization"):
        return path, given, None, _err(401, "Azure takes the key in the api-key header")
    if dialect == "azure":
        if not parse_qs(req.query).get("api-version"):
            return path, given, None, _err(404, "Resource not found (no api-version)")
        m = _AZURE.fullmatch(path)
        if m:
            return "/v1" + m.group(2), given, m.group(1), None
        if path.startswith("/openai/"):
            return "/v1" + path.removeprefix("/openai"), given, None, None
        return path, given, None, _err(404, "Resource not found")
    if prefix and path.startswith(prefix + "/"):
        path = path.removeprefix(prefix)
    elif prefix and path.startswith("/v1"):
        return path, given, None, _err(404, f"no route {path} (this server lives under {prefix})")
    if dialect == "ollama" and path == "/api/tags":
        return "/api/tags", given, None, None
    return path, given, None, None


def models(dialect: str, model: str) -> Response:
    """The model listing as each server writes it."""
    owner = DIALECTS[dialect][2]
    entry = {"id": model, "object": "model", "owned_by": owner, "created": 0}
    if dialect == "vllm":
        entry["max_model_len"] = 4096
    if dialect == "llama-server":
        entry["meta"] = {"n_ctx_train": 4096}
    return Response.json({"object": "list", "data": [entry]})


def ollama_tags(model: str) -> Response:
    return Response.json({"models": [{"name": model, "model": model, "size": 0}]})
