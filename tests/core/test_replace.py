"""Find and replace (core.replace) on a real DuckDB file: plain and regex, every field, the
rules of a single edit, one undo for the batch, and clear errors."""

from __future__ import annotations

import json
import random

import pytest

from core import replace
from core.cli import main
from core.store import review
from core.store.browse import ImageQuery
from core.store.review_change import EditConflict
from tests.review_data import populate


@pytest.fixture
def proj(project):
    populate(project, n_images=12, files=True)
    return project


def _texts(db):
    return (
        db.fetchall("SELECT id, question, options, answer, status FROM instructions ORDER BY id"),
        db.fetchall("SELECT image_id, text FROM captions WHERE is_current ORDER BY 1"),
    )


def test_plain_replace_every_field_and_one_undo(proj):
    db = proj.db
    before = _texts(db)
    plan = replace.plan(db, ImageQuery(), "e", "E")
    fields = {e.hit.field for e in plan.valid}
    assert fields == {"question", "options", "caption"} | ({"answer"} & fields)
    changes = replace.apply(proj, plan)
    assert len(changes) == len(plan.valid)
    assert db.scalar("SELECT count(*) FROM instructions WHERE contains(question, 'e')") == 0
    assert db.scalar("SELECT count(*) FROM captions WHERE is_current AND contains(text, 'e')") == 0
    review.apply_changes(db, review.inverse(changes))
    assert _texts(db) == before


def test_regex_groups_options_and_filter_scope(proj):
    db = proj.db
    plan = replace.plan(
        db, ImageQuery(domain="art"), r"(\w+) disc", r"\1 circle", regex=True, fields=["question"]
    )
    art = {r[0] for r in db.fetchall("SELECT id FROM images WHERE domain = 'art'")}
    assert plan.valid and {e.hit.image_id for e in plan.valid} <= art
    assert all("circle" in e.new and "disc" not in e.new for e in plan.valid)
    opts = replace.plan(db, [1, 2, 3, 4], "^(.*)$", r"[\1]", regex=True, fields=["options"])
    for e in opts.valid:
        assert e.new == [f"[{o}]" for o in e.hit.old]


def test_answer_rules_refuse_and_normalise(proj):
    db = proj.db
    refused = replace.plan(db, ImageQuery(itype="judgement"), "yes", "maybe", fields=["answer"])
    assert not refused.valid and refused.refused
    assert "yes or no" in refused.refused[0].problem
    assert replace.apply(proj, refused) == []
    # "yes" -> "YES" is stored as "yes": no change at all
    assert replace.plan(db, ImageQuery(), "yes", "YES", fields=["answer"]).edits == []


def test_ignore_case_plain_text_is_literal(proj):
    db = proj.db
    plan = replace.plan(db, ImageQuery(), "DISC IN", "disc (in", match_case=False,
                        fields=["question"])  # fmt: skip
    assert plan.valid and all("disc (in" in e.new for e in plan.valid)


def test_bad_regex_is_a_clear_error(proj):
    with pytest.raises(replace.ReplaceError, match="not a valid regular expression"):
        replace.plan(proj.db, ImageQuery(), "(unclosed", "x", regex=True)
    with pytest.raises(replace.ReplaceError, match="search text is empty"):
        replace.plan(proj.db, ImageQuery(), "", "x")


def test_stale_preview_is_refused(proj):
    db = proj.db
    plan = replace.plan(db, ImageQuery(), "disc", "circle", fields=["question"])
    first = plan.valid[0].hit
    review.edit_instruction(db, first.row_id, "question", "Changed meanwhile?")
    with pytest.raises(replace.ReplaceError, match="preview again"):
        replace.apply(db, plan, backup=False)
    assert db.scalar("SELECT count(*) FROM instructions WHERE contains(question, 'circle')") == 0


@pytest.mark.parametrize("seed", range(8))
def test_a_pattern_that_matches_nothing_changes_nothing(proj, seed):
    """Property: a search for text that occurs nowhere plans nothing and writes nothing."""
    rng = random.Random(seed)
    db = proj.db
    before = _texts(db)
    n_rev = db.scalar("SELECT count(*) FROM revisions")
    needle = "".join(rng.choice("qxzjQXZJ#@~") for _ in range(rng.randint(6, 12)))
    regex = rng.random() < 0.5
    find = f"{needle}$" if regex else needle
    plan = replace.plan(db, ImageQuery(), find, "anything", regex=regex,
                        match_case=rng.random() < 0.5)  # fmt: skip
    assert plan.edits == []
    assert replace.apply(proj, plan) == []
    assert _texts(db) == before
    assert db.scalar("SELECT count(*) FROM revisions") == n_rev


def test_cli_replace_dry_run_then_write(proj, capsys):
    root = str(proj.root)
    proj.close()
    args = ["replace", root, "--find", "disc", "--replace", "circle", "--field", "question"]
    assert main([*args, "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["changes"] > 0 and dry["written"] == 0
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"changed {dry['changes']} value(s)" in out
    assert main([*args, "--dry-run"]) == 0
    assert "would change 0 value(s)" in capsys.readouterr().out
    assert main(["replace", root, "--find", "(", "--replace", "x", "--regex"]) == 1
    assert "not a valid regular expression" in capsys.readouterr().err


def test_many_captions_are_one_batch_and_undo_exactly(project):
    populate(project, n_images=90, files=False)
    db = project.db
    before = _texts(db)
    plan = replace.plan(db, ImageQuery(), "white", "pale", fields=["caption"])
    assert len(plan.valid) >= 64  # the batched path (core.store.review_apply._BATCH_MIN)
    changes = replace.apply(db, plan, backup=False)
    assert (
        db.scalar("SELECT count(*) FROM captions WHERE is_current AND contains(text, 'white')") == 0
    )
    logged = db.fetchall(
        "SELECT old, new FROM revisions WHERE field = 'caption' ORDER BY id DESC LIMIT 1"
    )
    assert "white" in logged[0][0] and "pale" in logged[0][1]
    review.apply_changes(db, review.inverse(changes))
    assert _texts(db) == before
    with pytest.raises(EditConflict):
        review.apply_changes(db, review.inverse(changes))  # already undone: refused
