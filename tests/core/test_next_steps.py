"""What a project needs next, from its real state: no backend, no images, images without
captions, captions without instructions, unchecked, unreviewed, nothing exported or trained."""

from __future__ import annotations

import pytest

from core.backends.settings import BackendConfig, add_backend
from core.next_steps import STEPS, Step, next_steps, project_state, register_step
from core.store import pipeline
from tests.review_data import populate


def names(project, **kw) -> list[str]:
    return [name for name, _n in next_steps(project_state(project, **kw))]


def test_a_fresh_project_needs_a_model_then_images(project):
    assert next_steps(project_state(project)) == [("add_backend", 0), ("import", 0)]
    add_backend(BackendConfig(name="local", kind="openai", model="m", base_url="http://x/v1"))
    assert names(project) == ["import"]  # the user's backends file counts


def test_each_stage_shows_up_while_work_waits_for_it(project):
    ids = populate(project, n_images=12, files=False)  # every 4th image has no caption
    state = project_state(project, backends=1)
    assert state.images == 12 and state.captioned_images == 9
    steps = dict(next_steps(state))
    assert list(steps) == ["caption", "review"]
    assert steps["caption"] == 3 and steps["review"] == state.instructions

    # A captioned image without instructions: generate comes next, counted exactly.
    bare = ids[3]  # has no caption yet
    with project.db.tx() as cur:
        cur.execute("DELETE FROM instructions WHERE image_id = ?", [bare])
    pipeline.add_caption(project.db, bare, "A white disc on a red ground.", "en", "t", None, None)
    steps = dict(next_steps(project_state(project, backends=1)))
    assert steps["caption"] == 2 and steps["generate"] == 1

    with project.db.tx() as cur:
        cur.execute("UPDATE instructions SET status = 'new' WHERE image_id = ?", [ids[0]])
    assert dict(next_steps(project_state(project, backends=1)))["check"] == 1


def test_decided_work_leads_to_export_then_training(project):
    from core.export import ExportOptions, export_project

    populate(project, n_images=4, files=True)
    with project.db.tx() as cur:
        cur.execute("UPDATE instructions SET status = 'accepted'")
        cur.execute("INSERT INTO captions (image_id, version, text, lang, model) "
                    "SELECT id, 9, 'A picture.', 'en', 't' FROM images "
                    "WHERE id NOT IN (SELECT image_id FROM captions)")  # fmt: skip
    state = project_state(project, backends=1)
    assert next_steps(state) == [("export", state.accepted)]
    export_project(project, project.exports_dir / "v1", ExportOptions(format="llava"))
    assert names(project, backends=1) == ["train"]
    (project.runs_dir / "first-run").mkdir()
    assert names(project, backends=1) == []


def test_steps_are_a_registry_that_refuses_a_second_entry():
    assert [s.name for s in STEPS][:2] == ["add_backend", "import"]
    with pytest.raises(ValueError, match="registered twice"):
        register_step(Step("import", lambda s: True, lambda s: 0))
