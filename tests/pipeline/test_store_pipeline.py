"""Pipeline rows in a real DuckDB file: captions keep their versions, checks and verify never
overrule a person, OCR results replace their own engine's earlier ones."""

from __future__ import annotations

from core.store import ocr as ocr_store
from core.store import pipeline as sp
from core.store.pipeline import NewInstruction


def _image_id(project) -> int:
    return sp.select_images(project.db, domain="ocr")[0].id


def test_recaptioning_keeps_old_versions(demo_project):
    db, image = demo_project.db, _image_id(demo_project)
    first = sp.add_caption(db, image, "A sign.", "en", "m1", "h1", None)
    second = sp.add_caption(db, image, "A yellow sign that reads FRESH BREAD.", "en", "m2", "h2", 7)
    zh = sp.add_caption(db, image, "一块黄色的招牌。", "zh", "m2", "h3", 7)
    assert (first.version, second.version, zh.version) == (1, 2, 3)
    assert sp.current_caption(db, image, "en").text.startswith("A yellow sign")
    assert sp.current_caption(db, image, "zh").id == zh.id
    history = sp.caption_history(db, image)
    assert [c.is_current for c in history] == [False, True, True]
    demo_project.close()
    from core.project import Project

    with Project.open(demo_project.root) as again:  # survives a reopen
        assert len(sp.caption_history(again.db, image)) == 3


def test_check_results_do_not_overrule_people(demo_project):
    db, image = demo_project.db, _image_id(demo_project)
    ids = sp.insert_instructions(
        db,
        [
            NewInstruction(image, "short_vqa", "en", f"Q{i}?", "A", seed_ids=[1, 2])
            for i in range(3)
        ],
    )
    db.execute("UPDATE instructions SET status = 'accepted' WHERE id = ?", [ids[2]])
    sp.save_check_results(
        db,
        [(ids[0], [], []), (ids[1], ["leakage"], ["says 'the caption'"]), (ids[2], ["x"], ["m"])],
    )
    rows = {r.id: r for r in sp.select_instructions(db, image_ids=[image])}
    assert rows[ids[0]].status == "ok"
    assert rows[ids[1]].status == "needs_review" and rows[ids[1]].check_flags == ["leakage"]
    assert rows[ids[2]].status == "accepted" and rows[ids[2]].check_flags == ["x"]


def test_verify_flag_survives_a_recheck_and_is_replaced_by_a_new_verdict(demo_project):
    db, image = demo_project.db, _image_id(demo_project)
    (row_id,) = sp.insert_instructions(
        db, [NewInstruction(image, "judgement", "en", "Red?", "yes")]
    )
    sp.save_check_results(db, [(row_id, [], [])])
    sp.save_verify(db, row_id, "no", False, 0.0, "the model answered 'no'")
    sp.save_check_results(db, [(row_id, [], [])])
    (row,) = sp.select_instructions(db, ids=[row_id])
    assert row.check_flags == [sp.VERIFY_FLAG] and row.status == "needs_review"
    assert (row.verify_answer, row.verify_agree) == ("no", False)
    sp.save_verify(db, row_id, "yes", True, 1.0, "")
    (row,) = sp.select_instructions(db, ids=[row_id])
    assert row.check_flags == [] and row.verify_agree is True


def test_conversation_grouping_numbers_rounds(demo_project):
    db, image = demo_project.db, _image_id(demo_project)
    rows = [NewInstruction(image, "long_vqa", "en", f"Q{i}?", "Long answer.") for i in range(3)]
    ids = sp.insert_instructions(db, rows, conversation=True)
    got = sp.select_instructions(db, ids=ids)
    assert {r.conversation_id for r in got} == {ids[0]}
    assert [r.round for r in got] == [1, 2, 3]


def test_ocr_rows_replace_their_engine_only(demo_project):
    db, image = demo_project.db, _image_id(demo_project)
    ocr_store.save_ocr(db, image, "rapidocr", [{"text": "OLD"}], "OLD")
    ocr_store.save_ocr(db, image, "rapidocr", [{"text": "FRESH BREAD"}], "FRESH BREAD")
    assert ocr_store.ocr_text(db, image) == "FRESH BREAD"
    assert ocr_store.ocr_lines(db, image) == [{"text": "FRESH BREAD"}]
    assert db.scalar("SELECT count(*) FROM ocr WHERE image_id = ?", [image]) == 1
