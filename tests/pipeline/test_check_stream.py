"""The check stage streams pages of whole images: same results as checking everything at once."""

from __future__ import annotations

from itertools import groupby

from core.pipeline.checks import CheckConfig, run_checks
from core.pipeline.common import StageOptions
from core.pipeline.items import Item
from core.pipeline.stage_check import run_check_stage
from core.store import check_pages
from core.store import pipeline as sp
from core.store.pipeline import NewInstruction


def _fill(db) -> list[int]:
    images = [im.id for im in sp.select_images(db)]
    rows = []
    for k, image in enumerate(images):
        rows += [
            NewInstruction(image, "short_vqa", "en", f"What is shown in picture {k}?", "A sign."),
            NewInstruction(image, "short_vqa", "en", "What is it?", ""),  # empty answer: flagged
            NewInstruction(image, "judgement", "en", f"Is picture {k} red?", "maybe"),
        ]
    return sp.insert_instructions(db, rows)


def _expected(db) -> dict[int, list[str]]:
    """What checking the whole table at once gives (the stage before it streamed)."""
    rows = [r for r in sp.select_instructions(db) if r.status != "rejected"]
    out = {}
    for _, group in groupby(rows, key=lambda r: r.image_id):
        group = list(group)
        items = [Item(r.itype, r.lang, r.question, r.answer, r.options) for r in group]
        for row, flags in zip(group, run_checks(items), strict=True):
            out[row.id] = [f.name for f in flags]
    return out


def test_paged_check_equals_checking_everything_at_once(demo_project, monkeypatch):
    db = demo_project.db
    ids = _fill(db)
    db.execute("UPDATE instructions SET status = 'rejected' WHERE id = ?", [ids[0]])
    db.execute("UPDATE instructions SET status = 'accepted' WHERE id = ?", [ids[1]])
    sp.save_verify(db, ids[3], "no", False, 0.0, "the model answered 'no'")
    expected = _expected(db)
    monkeypatch.setattr(check_pages, "PAGE_IMAGES", 2)  # several pages, each whole images
    seen = []
    summary = run_check_stage(demo_project, StageOptions(), progress=lambda n, t: seen.append(t))
    rows = {r.id: r for r in sp.select_instructions(db)}
    assert summary["checked"] == len(expected) == len(ids) - 1
    assert summary["images"] == len({r.image_id for r in rows.values()}) == seen[-1]
    assert summary["flagged"] == sum(1 for f in expected.values() if f)
    for row_id, names in expected.items():
        kept = [sp.VERIFY_FLAG] if row_id == ids[3] else []
        assert rows[row_id].check_flags == names + kept
    assert rows[ids[0]].status == "rejected" and rows[ids[0]].check_flags == []
    assert rows[ids[1]].status == "accepted"  # a person's decision stays
    assert rows[ids[3]].status == "needs_review"
    assert {rows[i].status for i in ids[4:]} <= {"ok", "needs_review"}


def test_limit_and_domain_select_whole_images(demo_project, monkeypatch):
    db = demo_project.db
    _fill(db)
    monkeypatch.setattr(check_pages, "PAGE_IMAGES", 1)
    first_two = run_check_stage(demo_project, StageOptions(limit=2))
    assert first_two["images"] == 2 and first_two["checked"] == 6
    domain = sp.select_images(db)[0].domain
    mine = run_check_stage(demo_project, StageOptions(domain=domain))
    assert mine["images"] == len(sp.select_images(db, domain=domain))


def test_risk_written_with_the_page_equals_the_risk_formula(demo_project, monkeypatch):
    """The stage scores each item from the row it read, in the same UPDATE as its flags; the
    stored score must be what the one formula gives from the stored inputs afterwards."""
    from core.pipeline.risk import risk_score
    from core.store import quality

    db = demo_project.db
    ids = _fill(db)
    sp.save_verify(db, ids[2], "yes", False, 0.4, "the model answered 'yes'")
    quality.save_blind(db, ids[5], 0.8, "answerable without the image")
    monkeypatch.setattr(check_pages, "PAGE_IMAGES", 2)
    run_check_stage(demo_project, StageOptions())
    stored = quality.risk_of(db, ids)
    recomputed = {r.id: risk_score(r) for r in quality.risk_inputs(db, ids)}
    assert stored == recomputed
    assert stored[ids[2]] > stored[ids[0]]  # the verifier's disagreement counts
    assert stored[ids[5]] > 0


def _stored(db) -> dict:
    return {r.id: (r.check_flags, r.status) for r in sp.select_instructions(db)}


def test_worker_processes_give_what_this_process_gives(demo_project, monkeypatch):
    db = demo_project.db
    _fill(db)
    monkeypatch.setattr(check_pages, "PAGE_IMAGES", 2)
    here = run_check_stage(demo_project, StageOptions(), workers=0)
    in_here = _stored(db)
    db.execute("UPDATE instructions SET check_flags = NULL, check_messages = NULL, risk = NULL")
    seen = []
    there = run_check_stage(
        demo_project, StageOptions(), workers=2, progress=lambda n, t: seen.append((n, t))
    )
    assert there == here and _stored(db) == in_here
    assert seen[-1] == (here["images"], here["images"]) and seen == sorted(seen)


class _KillsItsWorker(CheckConfig):
    """A config whose unpickling ends the process: the worker that receives it dies."""

    def __reduce__(self):
        import os

        return (os._exit, (3,))


def test_a_dead_worker_costs_nothing(demo_project, monkeypatch, caplog):
    db = demo_project.db
    _fill(db)
    monkeypatch.setattr(check_pages, "PAGE_IMAGES", 2)
    here = run_check_stage(demo_project, StageOptions(), workers=0)
    in_here = _stored(db)
    db.execute("UPDATE instructions SET check_flags = NULL, check_messages = NULL")
    there = run_check_stage(demo_project, StageOptions(), cfg=_KillsItsWorker(), workers=1)
    assert "check worker process died" in caplog.text
    assert there == here and _stored(db) == in_here


def _nice_of_worker(path: str) -> CheckConfig:
    """Runs in the worker that unpickles it: writes down that process's CPU priority."""
    import os

    with open(path, "w") as f:
        f.write(str(os.nice(0)))
    return CheckConfig()


class _RecordsItsNice(CheckConfig):
    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def __reduce__(self):
        return (_nice_of_worker, (self.path,))


def test_workers_run_below_this_process_priority(demo_project, monkeypatch, tmp_path):
    """The rules' processes give way to the one that owns the window: on a machine whose
    cores they fill, the window's thread still gets one when it wakes (a GUI stall else)."""
    import os

    from core.pipeline import check_workers

    if not hasattr(os, "nice"):
        return
    _fill(demo_project.db)
    path = tmp_path / "nice.txt"
    run_check_stage(demo_project, StageOptions(), cfg=_RecordsItsNice(str(path)), workers=1)
    assert int(path.read_text()) >= min(19, os.nice(0) + check_workers.WORKER_NICE)


def test_a_page_read_a_slice_at_a_time_is_the_whole_page(demo_project, monkeypatch):
    """Pages are fetched FETCH_ROWS rows per call (each call holds the GIL): the same rows."""
    db = demo_project.db
    _fill(db)
    whole = list(check_pages.pages(db, page_images=3))
    monkeypatch.setattr(check_pages, "FETCH_ROWS", 2)
    sliced = list(check_pages.pages(db, page_images=3))
    assert sliced == whole and max(len(p) for p in whole) > 2


def test_a_re_check_writes_only_the_rows_it_changes(demo_project, monkeypatch):
    """A re-check leaves the rows whose flags, status and risk come out as stored untouched
    (an UPDATE of a list column rewrites the whole row: ~0.6 s CPU a page at 1M items) and
    stores the same results as checking from scratch."""
    db = demo_project.db
    ids = _fill(db)
    monkeypatch.setattr(check_pages, "PAGE_IMAGES", 2)
    run_check_stage(demo_project, StageOptions(), workers=0)
    stamps = dict(db.fetchall("SELECT id, updated_at FROM instructions"))
    db.execute("UPDATE instructions SET answer = '' WHERE id = ?", [ids[0]])  # now flagged
    edited = db.scalar("SELECT updated_at FROM instructions WHERE id = ?", [ids[0]])
    again = run_check_stage(demo_project, StageOptions(), workers=0)
    after = dict(db.fetchall("SELECT id, updated_at FROM instructions"))
    moved = {i for i in after if after[i] != stamps[i]}
    assert moved == {ids[0]} and after[ids[0]] != edited  # the edited row, checked again
    sql = "SELECT id, check_flags, check_messages, status, risk FROM instructions ORDER BY id"
    stored = db.fetchall(sql)
    db.execute("UPDATE instructions SET check_flags = NULL, check_messages = NULL, risk = NULL")
    assert run_check_stage(demo_project, StageOptions(), workers=0) == again
    assert db.fetchall(sql) == stored


def test_a_page_sent_to_a_worker_leaves_the_stored_results_behind(demo_project):
    """A worker needs the rules' inputs, not what is stored (a page was 2.6x the bytes)."""
    import pickle

    db = demo_project.db
    _fill(db)
    run_check_stage(demo_project, StageOptions(), workers=0)
    page = next(check_pages.pages(db))
    sent = pickle.loads(pickle.dumps(page))
    assert all(r.stored is not None for r in page) and all(r.stored is None for r in sent)
    assert [r.__class__(**{**r.__dict__, "stored": None}) for r in page] == sent
