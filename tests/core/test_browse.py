import numpy as np
import pytest

from core.store import browse
from core.store.browse import ANY_FLAG, NO_DOMAIN, ImageQuery
from tests.review_data import populate


@pytest.fixture
def ids(project):
    return populate(project, n_images=12, files=False)


def _ids(project, **kw):
    return browse.image_ids(project.db, ImageQuery(**kw)).tolist()


def test_no_filter_lists_every_image_in_import_order(project, ids):
    got = browse.image_ids(project.db, ImageQuery())
    assert got.dtype == np.int64
    assert got.tolist() == ids
    assert browse.count_images(project.db, ImageQuery()) == 12
    assert _ids(project, sort="newest") == ids[::-1]


def test_domain_filter_and_no_domain(project, ids):
    art = _ids(project, domain="art")
    assert art == [ids[k] for k in range(0, 11, 3)]
    assert _ids(project, domain=NO_DOMAIN) == [ids[-1]]
    assert browse.count_images(project.db, ImageQuery(domain="science")) == len(
        _ids(project, domain="science")
    )


def test_instruction_filters_match_rows(project, ids):
    db = project.db
    # image k has 1 + k % 5 instructions; multiple_choice is the 2nd, so k % 5 >= 1
    assert _ids(project, itype="multiple_choice") == [ids[k] for k in range(12) if k % 5 >= 1]
    flagged = {
        r[0] for r in db.fetchall("SELECT image_id FROM instructions WHERE len(check_flags) > 0")
    }
    assert set(_ids(project, check_flag=ANY_FLAG)) == flagged
    leak = {
        r[0]
        for r in db.fetchall(
            "SELECT image_id FROM instructions WHERE list_contains(check_flags, 'answer_leak')"
        )
    }
    assert set(_ids(project, check_flag="answer_leak")) == leak and leak < flagged
    disagree = {
        r[0] for r in db.fetchall("SELECT image_id FROM instructions WHERE NOT verify_agree")
    }
    assert set(_ids(project, disagree=True)) == disagree and disagree
    assert set(_ids(project, item_status="needs_review")) == flagged
    # filters combine with AND
    both = _ids(project, domain="art", check_flag=ANY_FLAG)
    assert set(both) == flagged & set(_ids(project, domain="art"))


def test_caption_and_text_filters(project, ids):
    with_caption = [ids[k] for k in range(12) if k % 4 != 3]
    assert _ids(project, has_caption=True) == with_caption
    assert _ids(project, has_caption=False) == [ids[k] for k in range(12) if k % 4 == 3]
    # caption text, case-insensitive; '%' is a literal character, not a wildcard
    assert _ids(project, text="PICTURE NUMBER 5 ") == [ids[4]]
    assert _ids(project, text="picture 7?") == [ids[6]]  # a question
    assert _ids(project, text="%") == []
    assert _ids(project, text="picture_number") == []  # '_' is not a wildcard either
    assert _ids(project, text="WHAT colour") == _ids(project, itype="multiple_choice")


def test_sorts_registry(project, ids):
    for key in browse.SORTS:
        assert sorted(_ids(project, sort=key)) == ids
    most = _ids(project, sort="items")
    assert most[0] == ids[4]  # k % 5 == 4 has five instructions, the first such image
    with pytest.raises(ValueError, match="unknown sort"):
        _ids(project, sort="nope")


def test_page_rows_keep_order_and_count(project, ids):
    page = browse.page_rows(project.db, [ids[4], ids[0], 99999])
    assert [r.id for r in page] == [ids[4], ids[0]]
    assert page[0].n_items == 5 and page[1].n_items == 1
    assert page[0].has_caption and page[0].domain == "science"
    assert page[0].thumb.startswith("thumbs/")
    assert browse.page_rows(project.db, []) == []


def test_domain_counts_include_empty_domains_and_none(project, ids):
    project.db.execute("INSERT INTO domains (name, position) VALUES ('food', 9)")
    counts = dict(browse.domain_counts(project.db))
    assert counts == {"art": 4, "science": 4, "street": 3, "food": 0, NO_DOMAIN: 1}
    assert [n for n, _ in browse.domain_counts(project.db)][:3] == ["art", "science", "street"]
    titled = {name: (title, n) for name, title, n in browse.domain_entries(project.db)}
    assert titled["street"] == ("Street view", 3) and titled["food"] == ("food", 0)
    assert titled[NO_DOMAIN] == ("", 1)


def test_details_captions_and_instructions(project, ids):
    db = project.db
    d = browse.image_detail(db, ids[1])
    assert d.storage == "copy" and d.width == 480 and d.domain == "science"
    assert browse.image_detail(db, 424242) is None
    caps = browse.caption_versions(db, ids[1])
    assert len(caps) == 1 and caps[0].is_current and caps[0].version == 1
    items = browse.instructions_for_image(db, ids[1])
    assert [i.itype for i in items] == ["judgement", "multiple_choice"]
    assert items[1].options == ["Red", "Black", "Green", "Blue"]
    assert all(isinstance(i.check_flags, list) for i in items)
    assert browse.check_flag_names(db) == ["answer_leak", "too_short"]
