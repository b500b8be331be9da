"""`openai` kind: any OpenAI-compatible chat-completions server, through the openai SDK.

OpenAI itself, Azure-style gateways, vLLM, SGLang, Ollama, LM Studio, and our own managed
llama.cpp server all go through `OpenAIBackend.send`.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time

from core.backends.base import (
    GRAMMAR,
    JSON_SCHEMA,
    AuthFailed,
    Backend,
    BackendConfigError,
    BadResponse,
    Capabilities,
    ChatRequest,
    ChatResponse,
    ConnectionFailed,
    EmptyResponse,
    ImagePart,
    Prepared,
    RateLimited,
    RequestRejected,
    RequestTimeout,
    ServerError,
    Usage,
    prompt_hash,
)
from core.backends.images import encode_image
from core.backends.keys import get_key, redact
from core.backends.ratelimit import parse_rate_headers
from core.backends.registry import register_kind

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Rough token cost of an image when the server does not say (OpenAI "low" detail is 85).
IMAGE_TOKEN_GUESS = {"low": 85, "high": 765, "auto": 765, None: 765}


def retry_after_seconds(headers) -> float | None:
    """Seconds from Retry-After (delta or HTTP date) or OpenAI's retry-after-ms."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def build_payload(
    request: ChatRequest,
    max_side: int | None,
    detail: str | None,
    grammar_field: tuple[str, ...] = (GRAMMAR,),
) -> tuple[dict, int, int]:
    """(body without model, number of images, estimated prompt tokens). A stage's grammar
    (`extra["grammar"]`) goes where the server reads it (`grammar_field`, a path)."""
    messages, n_images, chars = [], 0, 0
    for msg in request.messages:
        if isinstance(msg.content, str):
            messages.append({"role": msg.role, "content": msg.content})
            chars += len(msg.content)
            continue
        parts = []
        for part in msg.content:
            if isinstance(part, ImagePart):
                url, _mime = encode_image(part, max_side)
                image_url = {"url": url}
                if part.detail or detail:
                    image_url["detail"] = part.detail or detail
                parts.append({"type": "image_url", "image_url": image_url})
                n_images += 1
                chars += 4 * IMAGE_TOKEN_GUESS.get(part.detail or detail, 765)
            else:
                parts.append({"type": "text", "text": part})
                chars += len(part)
        messages.append({"role": msg.role, "content": parts})
    body: dict = {"messages": messages}
    for key in ("max_tokens", "temperature", "top_p", "seed", "stop"):
        value = getattr(request, key)
        if value is not None:
            body[key] = value
    if request.json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "reply", "schema": request.json_schema, "strict": True},
        }
    extra = dict(request.extra)
    grammar = extra.pop(GRAMMAR, None)
    body.update(extra)
    if grammar is not None:
        where = body
        for key in grammar_field[:-1]:
            where = where.setdefault(key, {})
        where[grammar_field[-1]] = grammar
    return body, n_images, chars // 4 + 8 * len(messages)


@register_kind
class OpenAIBackend(Backend):
    kind = "openai"
    batch_api = True
    output_constraints = frozenset({JSON_SCHEMA})  # response_format json_schema, strict
    uses_api_key = True
    title = "OpenAI-compatible server (OpenAI, vLLM, Ollama, LM Studio, …)"
    settings_fields = ("preset", "base_url", "api_version", "model", "api_key_env", "image_detail")
    provider_limits = True  # a provider's rate limits: the job engine adapts to them

    def __init_subclass__(cls, **kw):
        # A kind built on this one (a managed local server) has neither unless it says so.
        super().__init_subclass__(**kw)
        for name in ("batch_api", "provider_limits"):
            if name not in cls.__dict__:
                setattr(cls, name, False)

    def __init__(self, config, api_key: str | None = None):
        super().__init__(config)
        preset = self._preset()
        if preset is not None and not preset.batch_api:
            self.batch_api = False  # Ollama, vLLM...: no Files + Batches endpoints
        self._api_key = api_key
        self._clients: dict[int, object] = {}  # one SDK client per event loop it is used on

    @classmethod
    def validate_config(cls, config) -> None:
        if not config.model:
            raise BackendConfigError(f"backend {config.name!r}: an openai backend needs --model")
        if config.preset:
            from core.backends.presets import get_preset

            preset = get_preset(config.preset)
            if preset.client == "azure" and not (config.api_version and config.base_url):
                raise BackendConfigError(
                    f"backend {config.name!r}: Azure needs --base-url "
                    "https://RESOURCE.openai.azure.com and --api-version"
                )
        if config.base_url and not config.base_url.startswith(("http://", "https://")):
            raise BackendConfigError(
                f"backend {config.name!r}: base URL must start with http(s)://"
            )

    # client ----------------------------------------------------------------------------
    def api_key(self) -> str:
        if self._api_key is None:
            self._api_key = get_key(self.config.name, self.config.api_key_env)
        if self._api_key:
            return self._api_key
        preset = self._preset()
        needs = preset.needs_key if preset else None
        if needs or (
            needs is None
            and (self.config.base_url or DEFAULT_BASE_URL).startswith(DEFAULT_BASE_URL)
        ):
            where = (
                f"set ${self.config.api_key_env}"
                if self.config.api_key_env
                else "run `mmstudio backend add ... --api-key-env VAR` or store one in the keyring"
            )
            raise AuthFailed(f"backend {self.config.name!r} has no API key: {where}")
        return "none"  # local servers usually accept any key

    def _client(self):
        import openai

        loop = asyncio.get_running_loop()
        client = self._clients.get(id(loop))
        if client is None:
            preset = self._preset()
            common = {
                "api_key": self.api_key(),
                "timeout": self.config.timeout_s,
                "max_retries": 0,
            }  # the job engine owns retries, with its own backoff
            if preset is not None and preset.client == "azure":
                # the SDK puts the model (the deployment) in the path and the key in api-key
                client = openai.AsyncAzureOpenAI(
                    azure_endpoint=self.config.base_url, api_version=self.config.api_version,
                    **common,
                )  # fmt: skip
            else:
                client = openai.AsyncOpenAI(
                    base_url=self.config.base_url or DEFAULT_BASE_URL, **common
                )
            self._clients[id(loop)] = client
        return client

    @property
    def capabilities(self) -> Capabilities:
        """A preset's declared capabilities (docs/backends.md); without one, the kind's."""
        preset = self._preset()
        if preset is None:
            return super().capabilities
        caps = preset.capabilities()
        return Capabilities(caps.constraints, caps.schema_prefix_items, caps.images,
                            self.supports_batch)  # fmt: skip

    def _grammar_field(self) -> tuple[str, ...] | None:
        preset = self._preset()
        if preset is not None:
            return preset.grammar_field
        return (GRAMMAR,) if GRAMMAR in self.output_constraints else None

    def _preset(self):
        if not self.config.preset:
            return None
        from core.backends.presets import get_preset

        return get_preset(self.config.preset)

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        client = self._clients.pop(id(loop), None)
        if client is not None:
            await client.close()

    # calls -----------------------------------------------------------------------------
    def prepare(self, request: ChatRequest) -> Prepared:
        field = self._grammar_field()
        if GRAMMAR in request.extra and field is None:
            # a stage asks capabilities first; sending one anyway would be rejected or ignored
            raise RequestRejected(f"backend {self.name!r} enforces no grammar")
        body, n_images, est = build_payload(
            request, self.config.image_max_side, self.config.image_detail, field or (GRAMMAR,)
        )
        return Prepared(body, prompt_hash(body), n_images, est, request.max_tokens or 512)

    async def send(self, prepared: Prepared, timeout: float | None = None) -> ChatResponse:
        import openai

        client = self._client()
        known, extra = _split_known(client, prepared.payload)
        started = time.perf_counter()
        try:
            raw = await client.chat.completions.with_raw_response.create(
                model=self.model,
                timeout=timeout or self.config.timeout_s,
                extra_body=extra or None,
                **known,
            )
            completion = raw.parse()
        except openai.RateLimitError as exc:
            err = RateLimited(
                f"rate limited by {self.name}: {_msg(exc)}",
                429,
                retry_after_seconds(exc.response.headers),
            )
            err.rate = parse_rate_headers(exc.response.headers)
            raise err from None
        except openai.APITimeoutError:
            raise RequestTimeout(f"{self.name} did not answer in time") from None
        except openai.APIConnectionError as exc:
            raise ConnectionFailed(f"cannot reach {self.name}: {_cause(exc)}") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise AuthFailed(f"{self.name} refused the key: {_msg(exc)}", exc.status_code) from None
        except openai.APIStatusError as exc:
            cls = ServerError if exc.status_code >= 500 else RequestRejected
            raise cls(
                f"{self.name} answered {exc.status_code}: {_msg(exc)}",
                exc.status_code,
                retry_after_seconds(exc.response.headers),
            ) from None
        except (openai.APIResponseValidationError, json.JSONDecodeError, ValueError) as exc:
            raise BadResponse(f"{self.name} sent an unreadable reply: {_cause(exc)}") from None
        latency = time.perf_counter() - started
        response = _response(self.name, completion, latency)
        response.rate = parse_rate_headers(raw.headers)
        return response


_SDK_PARAMS: set[str] | None = None


def _split_known(client, payload: dict) -> tuple[dict, dict]:
    """Server-specific fields (llama.cpp's repeat_penalty, vLLM's top_k...) go as extra_body."""
    global _SDK_PARAMS
    if _SDK_PARAMS is None:
        import inspect

        _SDK_PARAMS = set(inspect.signature(client.chat.completions.create).parameters)
    known = {k: v for k, v in payload.items() if k in _SDK_PARAMS}
    return known, {k: v for k, v in payload.items() if k not in _SDK_PARAMS}


def _response(name: str, completion, latency: float) -> ChatResponse:
    choices = getattr(completion, "choices", None)
    if not choices:
        raise BadResponse(f"{name} sent a reply without choices")
    choice = choices[0]
    text = (choice.message.content or "") if choice.message else ""
    if not text.strip():
        raise EmptyResponse(f"{name} sent an empty reply (finish_reason={choice.finish_reason})")
    usage = completion.usage
    return ChatResponse(
        text=text,
        finish_reason=choice.finish_reason,
        usage=Usage(
            getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0
        ),
        model=getattr(completion, "model", None),
        latency_s=latency,
    )


def _msg(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return redact(str(inner["message"]))[:300]
    return redact(str(getattr(exc, "message", exc)))[:300]


def _cause(exc) -> str:
    cause = exc.__cause__ or exc.__context__
    text = f"{type(cause).__name__}: {cause}" if cause else str(exc)
    return redact(text)[:300]
