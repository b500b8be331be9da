"""Constraints: our schemas validate what they should, and llama.cpp compiles them as given
(its server falls back to free JSON silently when a schema does not convert)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from core.pipeline.grammar import (
    gbnf_tagged,
    item_shape_schema,
    json_schema,
    request_constraints,
)
from core.pipeline.items import ITYPES, LANGS


def _valid(schema, doc) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(doc)


def test_judgement_schema_forces_the_balance():
    schema = json_schema("judgement", "en", 4)
    good = {"items": [{"question": f"q{i}", "answer": a} for i, a in enumerate(["yes", "no"] * 2)]}
    assert _valid(schema, good)
    three_yes = {"items": [{"question": "q", "answer": a} for a in ["yes", "no", "yes", "yes"]]}
    assert not _valid(schema, three_yes)
    assert not _valid(schema, {"items": good["items"][:3]})
    zh = json_schema("judgement", "zh", 2)
    assert _valid(
        zh, {"items": [{"question": "q", "answer": "是"}, {"question": "q", "answer": "否"}]}
    )


def test_choice_schema_wants_four_options_and_a_letter():
    schema = json_schema("multiple_choice", "en", 1)
    item = {"question": "q", "options": ["a", "b", "c", "d"], "answer": "C"}
    assert _valid(schema, {"items": [item]})
    assert not _valid(schema, {"items": [item | {"answer": "E"}]})
    assert not _valid(schema, {"items": [item | {"options": ["a", "b", "c"]}]})
    assert not _valid(schema, {"items": [item | {"extra": 1}]})


def test_shape_schema_is_looser_than_the_generation_schema():
    shape = item_shape_schema("multiple_choice")
    assert _valid(shape, {"question": "q", "options": ["a", "b"], "answer": "(B)"})
    assert not _valid(shape, {"question": "q", "answer": "B"})


@pytest.mark.llama
@pytest.mark.parametrize("itype", ITYPES)
@pytest.mark.parametrize("lang", LANGS)
def test_llama_cpp_compiles_our_grammars_and_schemas(itype, lang):
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")
    llama_grammar.LlamaGrammar.from_string(gbnf_tagged(itype, lang, 3), verbose=False)
    # The converter raises on what it cannot express; the server would silently fall back.
    gbnf = llama_grammar.json_schema_to_gbnf(json.dumps(json_schema(itype, lang, 4)))
    llama_grammar.LlamaGrammar.from_string(gbnf, verbose=False)


def _caps(kind: str, **config):
    from core.backends import BackendConfig
    from core.backends.registry import kind_class

    return kind_class(kind)(BackendConfig(name="b", kind=kind, model="m", **config)).capabilities


def test_request_constraints_follow_the_backends_capabilities():
    local = request_constraints(_caps("llama_cpp", gguf="m.gguf"), "tagged", "judgement", "en", 2)
    assert "<Q2>" in local.extra["grammar"] and local.json_schema is None
    local_json = request_constraints(
        _caps("llama_cpp", gguf="m.gguf"), "json", "judgement", "en", 2
    )
    assert "prefixItems" in local_json.json_schema["properties"]["items"]
    cloud = request_constraints(_caps("openai"), "json", "judgement", "en", 2)
    assert "prefixItems" not in cloud.json_schema["properties"]["items"]
    assert request_constraints(_caps("openai"), "tagged", "judgement", "en", 2).is_empty
    # One kind, two presets: llama-server takes a grammar (and prefixItems), OpenAI does not.
    server = _caps("openai", preset="llama-server")
    assert "grammar" in request_constraints(server, "tagged", "judgement", "en", 2).extra
    schema = request_constraints(server, "json", "judgement", "en", 2).json_schema
    assert "prefixItems" in schema["properties"]["items"]
    assert request_constraints(_caps("openai", preset="openai"), "tagged", "judgement", "en",
                               2).is_empty  # fmt: skip
