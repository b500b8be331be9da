"""Endpoint presets for `backend add --preset` and the Settings page: where each kind of
OpenAI-compatible server lives, how it wants its key, and what it can do.

A preset fills the settings a user would otherwise look up (base URL, key variable, the
Azure fields) and says, for the Settings page and docs/backends.md, whether images are
accepted, whether a key is needed, and which output constraints the server enforces
(`json_schema`: OpenAI's response_format; `grammar`: a GBNF grammar, in the request field that
server reads). A backend made from a preset declares exactly these as its capabilities, so
the stages constrain what that server enforces and nothing it would reject or ignore.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.backends.base import GRAMMAR, JSON_SCHEMA, BackendConfigError, Capabilities

AZURE_API_VERSION = "2024-10-21"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    base_url: str  # default; a {placeholder} must be replaced by the user (--base-url)
    needs_key: bool
    api_key_env: str | None
    images: str  # "yes" | "vision models" (the served model decides)
    constraints: tuple[str, ...]  # json_schema, grammar
    batch_api: bool = False
    auth: str = "bearer"  # bearer: Authorization: Bearer KEY; api-key: Azure's header
    client: str = "openai"  # the SDK client: openai | azure (AsyncAzureOpenAI)
    notes: str = ""
    fields: dict = field(default_factory=dict)  # extra settings it fills
    # Where a GBNF grammar goes in the request body (a path: vLLM nests it); None: no grammar.
    grammar_field: tuple[str, ...] | None = None
    schema_prefix_items: bool = False  # its JSON-schema mode honours prefixItems

    def __post_init__(self):
        if (GRAMMAR in self.constraints) != (self.grammar_field is not None):
            raise ValueError(f"preset {self.name}: a grammar constraint needs its grammar_field")
        if not set(self.constraints) <= {GRAMMAR, JSON_SCHEMA}:
            raise ValueError(f"preset {self.name}: unknown constraints {self.constraints}")

    def capabilities(self) -> Capabilities:
        """What a backend of this preset can do; the stages ask this, not the preset's name.
        Images: the served model decides ("vision models"), so a request with images is sent
        and a text-only model's refusal comes back as the item's error."""
        return Capabilities(frozenset(self.constraints), self.schema_prefix_items,
                            images=True, batch=self.batch_api)  # fmt: skip

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "base_url": self.base_url,
                "needs_key": self.needs_key, "api_key_env": self.api_key_env,
                "images": self.images, "constraints": list(self.constraints),
                "grammar_field": ".".join(self.grammar_field or ()) or None,
                "batch_api": self.batch_api, "auth": self.auth, "notes": self.notes}  # fmt: skip


PRESETS: dict[str, Preset] = {}


def register_preset(preset: Preset) -> Preset:
    PRESETS[preset.name] = preset
    return preset


for _p in (
    Preset("openai", "OpenAI", "https://api.openai.com/v1", True, "OPENAI_API_KEY", "yes",
           ("json_schema",), batch_api=True,
           notes="structured outputs (strict JSON schema); the Batch API at half price"),
    Preset("azure", "Azure OpenAI", "https://{resource}.openai.azure.com", True,
           "AZURE_OPENAI_API_KEY", "yes", ("json_schema",), auth="api-key", client="azure",
           notes="--model is the deployment name; --api-version picks the REST version",
           fields={"api_version": AZURE_API_VERSION}),
    Preset("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", True,
           "OPENROUTER_API_KEY", "vision models", ("json_schema",),
           notes="models as vendor/name (openai/gpt-4o-mini); JSON schema where the model has it"),
    Preset("ollama", "Ollama", "http://localhost:11434/v1", False, None, "vision models",
           ("json_schema",), notes="any key is accepted; `ollama pull MODEL` first"),
    Preset("lmstudio", "LM Studio", "http://localhost:1234/v1", False, None, "vision models",
           ("json_schema",), notes="start the local server in the Developer tab"),
    # vLLM 0.12 removed guided_grammar: the grammar goes in structured_outputs.grammar
    Preset("vllm", "vLLM", "http://localhost:8000/v1", False, None, "vision models",
           ("json_schema", "grammar"), grammar_field=("structured_outputs", "grammar"),
           notes="a key only if started with --api-key; grammar via structured_outputs.grammar"),
    # SGLang's default grammar backend (XGrammar) reads GGML BNF, the same GBNF we write
    Preset("sglang", "SGLang", "http://localhost:30000/v1", False, None, "vision models",
           ("json_schema", "grammar"), grammar_field=("ebnf",),
           notes="grammar in `ebnf` (GBNF syntax); a key only with --api-key"),
    Preset("llama-server", "llama.cpp llama-server", "http://localhost:8080/v1", False, None,
           "with --mmproj", ("json_schema", "grammar"), grammar_field=("grammar",),
           schema_prefix_items=True,
           notes="GBNF `grammar` and json_schema; a key only with --api-key"),
):  # fmt: skip
    register_preset(_p)


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise BackendConfigError(f"unknown preset {name!r} (known: {', '.join(sorted(PRESETS))})")
    return PRESETS[name]


def apply_preset(name: str, fields: dict) -> dict:
    """The settings for `backend add --preset NAME`: the preset's, then the user's on top."""
    preset = get_preset(name)
    out = {"base_url": preset.base_url, **preset.fields}
    if preset.api_key_env:
        out["api_key_env"] = preset.api_key_env
    out.update({k: v for k, v in fields.items() if v is not None})
    if "{" in (out.get("base_url") or ""):
        raise BackendConfigError(
            f"preset {name}: give --base-url (the convention is {preset.base_url})"
        )
    out["preset"] = name
    return out


def list_models(backend) -> list[str]:
    """The model ids the endpoint lists (GET /models), through the backend's own client."""
    import asyncio

    async def run():
        try:
            page = await backend._client().models.list()
            return [m.id for m in page.data]
        finally:
            await backend.aclose()

    try:
        return asyncio.run(run())
    except Exception as exc:
        from core.backends.keys import redact

        raise BackendConfigError(
            f"cannot list the models of {backend.name}: {redact(str(exc))[:300]}"
        ) from None
