"""`llama_cpp` kind: a local GGUF model (+ optional mmproj) behind our managed server.

The wire protocol is the same OpenAI chat-completions one, so everything but process
management is inherited from the `openai` kind.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from core.backends.base import (
    GRAMMAR,
    JSON_SCHEMA,
    BackendConfigError,
    BackendUnavailable,
    ChatRequest,
    ConnectionFailed,
    Prepared,
)
from core.backends.llama_native import NativeServer, find_llama_server
from core.backends.llama_server import ManagedServer
from core.backends.openai_kind import OpenAIBackend
from core.backends.registry import register_kind
from core.paths import user_home

# Chat formats of llama-cpp-python that take an mmproj (clip) file. "mtmd" uses the chat
# template stored in the GGUF, which fits most recent VLMs (SmolVLM, Gemma 3, Qwen2.5-VL...).
VISION_FORMATS = {
    "llava-1-5", "llava-1-6", "mtmd", "gemma4", "moondream", "nanollava",
    "llama-3-vision-alpha", "minicpm-v-2.6", "qwen2.5-vl", "obsidian",
}  # fmt: skip


def _python_server(config, **kw) -> ManagedServer:
    return ManagedServer(
        config.gguf, config.mmproj, config.chat_format or ("mtmd" if config.mmproj else None), **kw
    )


def _native_server(config, **kw) -> NativeServer:
    return NativeServer(
        config.gguf, mmproj=config.mmproj, binary=config.server_path, slots=config.parallel, **kw
    )


# config.server -> how to build that managed server
SERVERS = {"python": _python_server, "native": _native_server}


@register_kind
class LlamaCppBackend(OpenAIBackend):
    kind = "llama_cpp"
    default_concurrency = 1  # the server runs one llama.cpp context: requests queue anyway
    # llama_cpp.server takes a GBNF `grammar` field and a json_object schema (prefixItems too).
    output_constraints = frozenset({GRAMMAR, JSON_SCHEMA})
    schema_prefix_items = True
    uses_api_key = False  # the managed server gets a random key of its own
    title = "Local model on a managed llama.cpp server"
    # Both servers (python llama_cpp.server, native llama-server) take GBNF and JSON schema.
    settings_fields = ("gguf", "mmproj", "chat_format", "n_ctx", "n_gpu_layers", "n_threads",
                       "server", "server_path", "parallel")  # fmt: skip
    catalog_models = True

    batch_api = False  # the managed server has no Files / Batches endpoints

    def __init__(self, config, server: ManagedServer | None = None):
        super().__init__(config)
        self.server = server or SERVERS[config.server](
            config,
            n_ctx=config.n_ctx,
            n_gpu_layers=config.n_gpu_layers,
            n_threads=config.n_threads,
            log_path=user_home() / "logs" / f"llama-server-{_safe(config.name)}.log",
            alias=self.model,
        )

    @classmethod
    def validate_config(cls, config) -> None:
        if not config.gguf:
            raise BackendConfigError(f"backend {config.name!r}: a llama_cpp backend needs --gguf")
        for path, what in ((config.gguf, "GGUF model"), (config.mmproj, "mmproj")):
            if path and not Path(path).is_file():
                raise BackendConfigError(f"backend {config.name!r}: {what} file not found: {path}")
            if path and Path(path).suffix.lower() != ".gguf":
                raise BackendConfigError(f"backend {config.name!r}: {what} must be a .gguf file")
        if config.server not in SERVERS:
            raise BackendConfigError(
                f"backend {config.name!r}: server must be one of {', '.join(SERVERS)}"
            )
        if config.parallel < 1:
            raise BackendConfigError(f"backend {config.name!r}: parallel must be at least 1")
        if config.server == "python" and config.parallel > 1:
            raise BackendConfigError(
                f"backend {config.name!r}: llama_cpp.server serves one request at a time; "
                "parallel slots need --server native (llama.cpp's llama-server)"
            )
        if config.server == "native":
            if config.chat_format:
                raise BackendConfigError(
                    f"backend {config.name!r}: llama-server takes the chat template stored "
                    "in the GGUF; --chat-format applies to --server python only"
                )
            try:
                find_llama_server(config.server_path)
            except BackendUnavailable as exc:
                raise BackendConfigError(f"backend {config.name!r}: {exc}") from None
            return
        if config.server_path:
            raise BackendConfigError(
                f"backend {config.name!r}: --server-path is for --server native"
            )
        fmt = config.chat_format
        if fmt and config.mmproj and fmt not in VISION_FORMATS:
            raise BackendConfigError(
                f"backend {config.name!r}: chat format {fmt!r} cannot take images; "
                f"use one of {', '.join(sorted(VISION_FORMATS))}"
            )
        if fmt in VISION_FORMATS and not config.mmproj:
            raise BackendConfigError(f"backend {config.name!r}: chat format {fmt!r} needs --mmproj")

    @property
    def model(self) -> str:
        return self.config.model or f"local/{Path(self.config.gguf).stem}"

    @property
    def supports_images(self) -> bool:
        return self.config.mmproj is not None

    def api_key(self) -> str:
        return self.server.api_key

    def _client(self):
        # The server's port changes after a restart, so the client is keyed by it too.
        import openai

        loop = asyncio.get_running_loop()
        key = (id(loop), self.server.port)
        client = self._clients.get(key)
        if client is None:
            client = openai.AsyncOpenAI(
                api_key=self.server.api_key,
                base_url=self.server.base_url,
                max_retries=0,
                timeout=self.config.timeout_s,
                # Our own server on 127.0.0.1: ignore HTTP(S)_PROXY from the environment.
                http_client=openai.DefaultAsyncHttpxClient(trust_env=False),
            )
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.close()

    def prepare(self, request: ChatRequest) -> Prepared:
        prepared = super().prepare(request)
        fmt = prepared.payload.get("response_format")
        if fmt and fmt.get("type") == "json_schema":  # llama-cpp-python's spelling of it
            prepared.payload["response_format"] = {
                "type": "json_object",
                "schema": fmt["json_schema"]["schema"],
            }
        return prepared

    async def _ensure_started(self) -> None:
        if not self.server.alive():
            # ensure_running serialises concurrent starters with its own thread lock
            await asyncio.to_thread(self.server.ensure_running)

    async def send(self, prepared: Prepared, timeout: float | None = None):
        await self._ensure_started()
        try:
            return await super().send(prepared, timeout)
        except ConnectionFailed:
            # a reset connection may be the server dying right now: give it a moment to go
            if not await asyncio.to_thread(self.server.exited_within, 1.0):
                raise
            await self._ensure_started()  # restarts once; raises BackendUnavailable after
            return await super().send(prepared, timeout)

    def close(self) -> None:
        self.server.stop()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
