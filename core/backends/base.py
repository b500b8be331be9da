"""One protocol for chat completions, with and without images, whatever serves the model.

A call has two halves: `prepare` (sync, CPU-bound: encode images, build the wire body, hash
the prompt) runs in a worker thread; `send` (async, I/O) runs on the event loop. The job
engine uses the halves separately so image resizing never stalls hundreds of in-flight calls.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from core.errors import StudioError


# request / response ------------------------------------------------------------------------
@dataclass(frozen=True)
class ImagePart:
    """An image in a message: a file or raw bytes. `detail` is low | high | auto (OpenAI)."""

    path: Path | str | None = None
    data: bytes | None = None
    detail: str | None = None

    def __post_init__(self):
        if (self.path is None) == (self.data is None):
            raise ValueError("ImagePart needs exactly one of path or data")


@dataclass(frozen=True)
class Message:
    role: str  # system | user | assistant
    content: str | tuple[str | ImagePart, ...]


@dataclass
class ChatRequest:
    messages: list[Message]
    max_tokens: int | None = 512
    temperature: float | None = 0.0
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] | None = None
    json_schema: dict | None = (
        None  # constrain the reply (local grammar / OpenAI structured output)
    )
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def user(
        cls, text: str, images: list[ImagePart | Path | str] = (), system: str | None = None, **kw
    ) -> ChatRequest:
        """One user turn: text, then images (paths or ImageParts), optionally after a system turn."""
        parts: list[str | ImagePart] = [text]
        for img in images:
            parts.append(img if isinstance(img, ImagePart) else ImagePart(path=img))
        messages = [Message("system", system)] if system else []
        content = tuple(parts) if len(parts) > 1 else text
        messages.append(Message("user", content))
        return cls(messages=messages, **kw)


@dataclass
class Prepared:
    """A request ready for the wire. `payload` is the chat-completions body without `model`."""

    payload: dict
    prompt_hash: str
    n_images: int
    est_prompt_tokens: int
    max_tokens: int

    @property
    def est_tokens(self) -> int:
        return self.est_prompt_tokens + self.max_tokens


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass
class ChatResponse:
    text: str
    finish_reason: str | None
    usage: Usage
    model: str | None = None
    latency_s: float = 0.0
    rate: Any = None  # core.backends.ratelimit.RateInfo from the reply's headers, if sent

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "usage": self.usage.to_json(),
            "model": self.model,
        }

    @classmethod
    def from_json(cls, obj: dict) -> ChatResponse:
        u = obj.get("usage") or {}
        return cls(
            text=obj["text"],
            finish_reason=obj.get("finish_reason"),
            usage=Usage(u.get("prompt_tokens", 0), u.get("completion_tokens", 0)),
            model=obj.get("model"),
        )


def prompt_hash(payload: dict) -> str:
    """Stable hash of everything that shapes the reply (messages, images, sampling), not the model."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


# errors ------------------------------------------------------------------------------------
class BackendError(StudioError):
    """A failed model call. Messages are redacted of keys before they are built."""

    error_class: ClassVar[str] = "error"
    retryable: ClassVar[bool] = False
    fatal: ClassVar[bool] = False  # stops the whole job: every other item would fail the same way

    def __init__(
        self, message: str, http_status: int | None = None, retry_after: float | None = None
    ):
        from core.backends.keys import redact

        super().__init__(redact(message))
        self.http_status = http_status
        self.retry_after = retry_after
        self.rate = None  # RateInfo from the error's headers, if sent


class RateLimited(BackendError):
    error_class = "rate_limited"
    retryable = True


class ServerError(BackendError):
    error_class = "server_error"
    retryable = True


class RequestTimeout(BackendError):
    error_class = "timeout"
    retryable = True


class ConnectionFailed(BackendError):
    error_class = "connection"
    retryable = True


class BadResponse(BackendError):
    """The server answered with something that is not a chat completion (cut-off JSON, ...)."""

    error_class = "bad_response"
    retryable = True


class EmptyResponse(BackendError):
    error_class = "empty"
    retryable = True


class RequestRejected(BackendError):
    """4xx other than auth and rate limits: this request will never succeed as it is."""

    error_class = "rejected"


class AuthFailed(BackendError):
    error_class = "auth"
    fatal = True


class BackendUnavailable(BackendError):
    """The backend cannot serve at all (local server failed to start, model file missing)."""

    error_class = "unavailable"
    fatal = True


class BackendConfigError(StudioError):
    pass


# the protocol ------------------------------------------------------------------------------
GRAMMAR, JSON_SCHEMA = "grammar", "json_schema"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, asked instead of its kind.

    constraints: the output constraints it enforces: GRAMMAR (a GBNF `grammar` request field)
    and/or JSON_SCHEMA (ChatRequest.json_schema); empty: none, the tolerant parsers cope.
    schema_prefix_items: its JSON-schema mode honours prefixItems (llama.cpp does; OpenAI's
    strict mode does not), so a schema may fix each judgement answer in turn.
    """

    constraints: frozenset[str] = frozenset()
    schema_prefix_items: bool = False
    images: bool = True
    batch: bool = False  # runs jobs through a Batch API (half price, hours)

    def to_json(self) -> dict:
        return {"constraints": sorted(self.constraints), "images": self.images,
                "batch": self.batch, "schema_prefix_items": self.schema_prefix_items}  # fmt: skip


class Backend(ABC):
    """A configured model endpoint. Subclasses register themselves in `core.backends.registry`."""

    kind: ClassVar[str]
    default_concurrency: ClassVar[int] = 8
    batch_api: ClassVar[bool] = False  # speaks the OpenAI Files + Batches endpoints
    provider_limits: ClassVar[bool] = False  # rate limits to adapt to (a cloud endpoint)
    # Declared by each kind; `capabilities` adds what depends on the configuration.
    output_constraints: ClassVar[frozenset[str]] = frozenset()
    schema_prefix_items: ClassVar[bool] = False
    uses_api_key: ClassVar[bool] = False  # a key from the keyring or an environment variable
    # What the Settings dialog shows for this kind: a title, the BackendConfig fields it reads
    # (in form order), and whether catalog models can be downloaded into it.
    title: ClassVar[str] = ""
    settings_fields: ClassVar[tuple[str, ...]] = ()
    catalog_models: ClassVar[bool] = False

    def __init__(self, config):
        self.config = config

    @classmethod
    def validate_config(cls, config) -> None:
        """Raise BackendConfigError for settings this kind cannot use."""
        return None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def model(self) -> str:
        return self.config.model or ""

    @property
    def supports_images(self) -> bool:
        return True

    @property
    def supports_batch(self) -> bool:
        return self.batch_api

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            frozenset(self.output_constraints),
            self.schema_prefix_items,
            self.supports_images,
            self.supports_batch,
        )

    @abstractmethod
    def prepare(self, request: ChatRequest) -> Prepared:
        """Encode a request for the wire. Thread-safe; may be slow (images)."""

    @abstractmethod
    async def send(self, prepared: Prepared, timeout: float | None = None) -> ChatResponse:
        """One call. Raises a BackendError subclass on failure."""

    def cost(self, usage: Usage, n_images: int = 0, batch: bool = False) -> float:
        from core.backends.pricing import price_table

        return price_table().cost(self.model, usage, n_images, batch=batch)

    def max_cost(self, prepared: Prepared) -> float:
        """An upper bound on what `prepared` can cost (the reply at max_tokens), for budgets."""
        return self.cost(Usage(prepared.est_prompt_tokens, prepared.max_tokens), prepared.n_images)

    async def chat(self, request: ChatRequest, timeout: float | None = None) -> ChatResponse:
        loop = asyncio.get_running_loop()
        prepared = await loop.run_in_executor(None, self.prepare, request)
        return await self.send(prepared, timeout)

    def chat_sync(self, request: ChatRequest, timeout: float | None = None) -> ChatResponse:
        """For scripts and the CLI: one call on a private event loop."""

        async def once():
            try:
                return await self.chat(request, timeout)
            finally:
                await self.aclose()

        return asyncio.run(once())

    async def aclose(self) -> None:
        """Release connections bound to the running event loop."""
        return None

    def close(self) -> None:
        """Release everything (stop a managed server). Safe to call twice."""
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
