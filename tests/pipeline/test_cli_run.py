"""`mmstudio run` and the pipeline part of `mmstudio stats --json`, in-process."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from tests.pipeline.scripted import reply


def _json(capsys, argv) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def cli_project(demo_project, loopback):
    loopback.reply = reply
    assert main(["backend", "add", "lb", "--kind", "openai", "--base-url", loopback.url,
                 "--model", "gpt-4o-mini"]) == 0  # fmt: skip
    root = str(demo_project.root)
    demo_project.close()  # the CLI opens the project itself, as a separate run would
    return root


def test_run_stages_from_the_command_line(cli_project, capsys, loopback):
    capsys.readouterr()
    dry = _json(
        capsys, ["run", cli_project, "--stage", "caption", "--backend", "lb", "--dry-run", "--json"]
    )
    assert dry["requests"] == 4 and dry["priced"] and dry["estimated_cost_usd"] > 0
    assert loopback.stats.requests == 0
    assert dry["prompts"][0]["messages"][0]["images"]

    cap = _json(capsys, ["run", cli_project, "--stage", "caption", "--backend", "lb", "--json"])
    assert cap["done"] == 4 and cap["job_id"] and cap["model"] == "gpt-4o-mini"
    gen = _json(capsys, ["run", cli_project, "--stage", "generate", "--backend", "lb",
                         "--types", "judgement,short_vqa", "--domain", "ocr", "--json"])  # fmt: skip
    assert (gen["items"], gen["failed"]) == (4, 0)
    chk = _json(capsys, ["run", cli_project, "--stage", "check", "--json"])
    assert chk["checked"] == 14 and set(chk) >= {"passed", "flagged", "flags"}

    stats = _json(capsys, ["stats", cli_project, "--json"])
    assert stats["instructions"] == 14 and "by_domain" in stats  # existing keys stay
    ocr = stats["pipeline"]["by_domain"]["ocr"]
    assert ocr["judgement"]["generated"] == 8 and ocr["judgement"]["passed"] == 8
    assert ocr["short_vqa"]["cost_usd"] > 0 and ocr["short_vqa"]["cost_per_accepted"] is None

    assert main(["run", cli_project, "--stage", "check"]) == 0
    assert "check: 14 items" in capsys.readouterr().out


def test_bad_arguments_are_clear_errors(cli_project, capsys):
    assert main(["run", cli_project, "--stage", "generate", "--types", "essay"]) == 1
    assert "unknown type(s) essay" in capsys.readouterr().err
    assert main(["run", cli_project, "--stage", "verify"]) == 1
    assert "--backend" in capsys.readouterr().err
    assert main(["run", cli_project, "--stage", "expand", "--mode", "import"]) == 1
    assert "--source" in capsys.readouterr().err


def test_caption_verify_and_blind_from_the_command_line(cli_project, capsys):
    for stage in ("caption", "generate"):
        argv = ["run", cli_project, "--stage", stage, "--backend", "lb", "--domain", "posters"]
        assert main([*argv, "--json"]) == 0
    capsys.readouterr()
    ver = _json(capsys, ["run", cli_project, "--stage", "verify", "--against", "caption",
                         "--backend", "lb", "--domain", "posters", "--json"])  # fmt: skip
    assert ver["against"] == "caption" and ver["items"] == 13 and ver["failed"] == 0
    blind = _json(capsys, ["run", cli_project, "--stage", "blind", "--blind-trials", "2",
                           "--backend", "lb", "--domain", "posters", "--json"])  # fmt: skip
    assert blind["items"] == (4 + 3) * 2 and blind["skipped"] == {"already_scored": 0}
    stats = _json(capsys, ["stats", cli_project, "--json", "--risk-threshold", "0.3"])
    posters = stats["risk"]["by_domain"]["posters"]
    assert posters["judgement"]["scored"] == 4 and sum(t["above"] for t in posters.values()) > 0
    assert main(["run", cli_project, "--stage", "blind", "--blind-trials", "50",
                 "--backend", "lb"]) == 1  # fmt: skip
    assert "blind trials must be 1 to 20" in capsys.readouterr().err
