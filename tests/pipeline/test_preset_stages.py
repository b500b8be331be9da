"""Each endpoint preset through the pipeline, against the loopback server speaking that
server's dialect: the stages constrain what the preset declares, in the field that server
reads (vLLM's structured_outputs.grammar, SGLang's ebnf, llama-server's grammar, OpenAI's
response_format), never a field it would refuse (OpenAI, Azure answer 400) or silently drop;
the Batch API only where the preset has it, with the same constraints inside the batch file."""

from __future__ import annotations

import json

import pytest

from core.backends.presets import PRESETS
from core.cli import main
from core.devtools.loopback import LoopbackServer
from tests.pipeline.scripted import reply as scripted

KEY = "sk-preset-stage-0123456789"
MODEL = "served-model-1"


def _fill(schema: dict, i: int = 0):
    """A value a constrained model could write under `schema` (our generation schemas)."""
    if "enum" in schema:
        return schema["enum"][i % len(schema["enum"])]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {k: _fill(v, i) for k, v in schema["properties"].items()}
    if kind == "array":
        n = schema.get("minItems", 1)
        fixed = schema.get("prefixItems")
        return [_fill(fixed[j] if fixed else schema["items"], j) for j in range(n)]
    if kind == "boolean":
        return i % 2 == 0
    return f"Is the border of the sign number {i + 1} drawn in black?"


def reply(body: dict, images: list) -> str:
    """JSON under the request's schema when it has one; else the scripted tagged replies."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return json.dumps(_fill(fmt["json_schema"]["schema"]))
    return scripted(body, images)


def _url(preset: str, server: LoopbackServer) -> str:
    root = f"http://127.0.0.1:{server.port}"
    return {"azure": root, "openrouter": root + "/api/v1"}.get(preset, root + "/v1")


def _run(capsys, root, *argv) -> dict:
    code = main(["run", root, "--backend", "b", "--json", *argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_stages_constrain_what_the_preset_declares_where_its_server_reads_it(
    preset, demo_project, capsys, monkeypatch
):
    p = PRESETS[preset]
    grammar = "grammar" in p.constraints
    root = str(demo_project.root)
    demo_project.close()
    with LoopbackServer(dialect=preset, model=MODEL, reply=reply, latency=0.0,
                        api_key=KEY if p.needs_key else None) as server:  # fmt: skip
        if p.needs_key:
            monkeypatch.setenv(p.api_key_env, KEY)
        assert main(["backend", "add", "b", "--preset", preset, "--base-url",
                     _url(preset, server), "--model", MODEL]) == 0  # fmt: skip
        listed = json.loads((capsys.readouterr(), main(["backend", "list", "--json"]),
                             capsys.readouterr().out)[2])["backends"][0]  # fmt: skip
        assert listed["capabilities"]["constraints"] == sorted(p.constraints)
        assert listed["capabilities"]["batch"] is p.batch_api

        def sent(since: int) -> list[frozenset]:
            return server.stats.constraints[since:]

        cap = _run(capsys, root, "--stage", "caption")
        assert cap["done"] == 4 and cap["failed"] == 0
        assert set(sent(0)) == {frozenset()}  # captions are free text

        mark = len(server.stats.constraints)
        tagged = _run(capsys, root, "--stage", "generate", "--domain", "ocr",
                      "--types", "judgement,multiple_choice")  # fmt: skip
        assert tagged["failed"] == 0 and tagged["items"] > 0
        want = {frozenset({"grammar"})} if grammar else {frozenset()}
        assert set(sent(mark)) == want  # the tagged layout: a grammar exactly where there is one

        mark = len(server.stats.constraints)
        as_json = _run(capsys, root, "--stage", "generate", "--domain", "posters",
                       "--types", "judgement,short_vqa", "--format", "json")  # fmt: skip
        assert as_json["failed"] == 0 and as_json["items"] > 0
        assert set(sent(mark)) == {frozenset({"json_schema"})}

        assert main(["run", root, "--stage", "check"]) == 0
        capsys.readouterr()
        mark = len(server.stats.constraints)
        verified = _run(capsys, root, "--stage", "verify")
        assert verified["failed"] == 0 and verified["done"] > 0
        assert set(sent(mark)) == (
            {frozenset({"grammar"}), frozenset()} if grammar else {frozenset()}
        )  # fmt: skip  (one-word: letter, yes/no)
        assert not server.stats.ignored  # nothing sent that the server would drop unread

        mark = len(server.stats.constraints)
        argv = ["run", root, "--backend", "b", "--stage", "generate", "--domain", "image_scene",
                "--types", "judgement", "--batch", "--poll", "0.02", "--json"]  # fmt: skip
        if not p.batch_api:
            assert main(argv) == 1
            assert "has no Batch API" in capsys.readouterr().err
            assert not server.batches.batches
            return
        assert main(argv) == 0
        batch = json.loads(capsys.readouterr().out)
        assert batch["batch"]["batches"] == 1 and batch["failed"] == 0
        assert len(server.batches.batches) == 1
        assert set(sent(mark)) == want  # the batch file carries the same constraints
