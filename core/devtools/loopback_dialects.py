"""How each kind of server the endpoint presets name differs on the wire, for the loopback
server: the path prefix, where the key goes, and how models are listed.

`check_params(dialect, body)` says which output constraints the request carried in a form
that server enforces, which fields it would silently ignore, or the 400 a server that
refuses unknown fields (OpenAI, Azure) sends.

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
# The chat-completions fields every dialect reads, then each one's own (where its grammar goes).
CHAT_FIELDS = frozenset({
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed",
    "stop", "response_format", "n", "stream", "stream_options", "logprobs", "top_logprobs",
    "presence_penalty", "frequency_penalty", "logit_bias", "user", "tools", "tool_choice",
    "parallel_tool_calls", "metadata", "store", "reasoning_effort", "service_tier",
})  # fmt: skip
OWN_FIELDS = {
    "vllm": {"structured_outputs", "top_k", "min_p", "repetition_penalty"},
    "sglang": {"ebnf", "regex", "top_k", "min_p", "repetition_penalty"},
    "llama-server": {"grammar", "json_schema", "top_k", "min_p", "repeat_penalty", "n_predict",
                     "cache_prompt"},
    "openrouter": {"top_k", "min_p", "repetition_penalty", "provider", "models", "transforms"},
    "lmstudio": {"top_k", "repeat_penalty"},
}  # fmt: skip
GRAMMAR_AT = {"vllm": ("structured_outputs", "grammar"), "sglang": ("ebnf",),
              "llama-server": ("grammar",)}  # fmt: skip
REFUSES_UNKNOWN = {"openai", "azure"}  # "Unrecognized request argument supplied"
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


def check_params(dialect: str, body: dict) -> tuple[set[str], set[str], Response | None]:
    """(constraints it enforces: grammar / json_schema, fields it ignores, early 400)."""
    known = CHAT_FIELDS | OWN_FIELDS.get(dialect, set())
    unknown = {k for k in body if k not in known}
    if unknown and dialect in REFUSES_UNKNOWN:
        return set(), unknown, _err(400, f"Unrecognized request argument supplied: "
                                         f"{', '.join(sorted(unknown))}")  # fmt: skip
    enforced = set()
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema" and (fmt.get("json_schema") or {}).get("schema"):
        enforced.add("json_schema")
    path = GRAMMAR_AT.get(dialect)
    where = body if path else None
    for key in path or ():
        where = where.get(key) if isinstance(where, dict) else None
    if isinstance(where, str) and "::=" in where:
        enforced.add("grammar")
    return enforced, unknown, None
