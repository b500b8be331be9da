"""The grid over the id list: filters from the sidebar and the filter bar, paging, thumbnails."""

import pytest

from core.store import browse
from core.store.browse import ANY_FLAG, ImageQuery
from desktop.models.image_list import MISSING, ROW_ROLE, THUMB_ROLE, ImageListModel
from desktop.views.filter_bar import DISAGREE
from desktop.views.sidebar import COUNT_ROLE
from desktop.workers.thumbnails import ThumbnailLoader
from tests.desktop.conftest import wait_idle

pytestmark = pytest.mark.gui


def _apply(qtbot, window, action):
    with qtbot.waitSignal(window.model.queryApplied, timeout=5000):
        action()
    wait_idle(qtbot, window)


def _shown_ids(window):
    return [window.model.image_id(r) for r in range(window.model.rowCount())]


def test_sidebar_counts_and_domain_filter(qtbot, window):
    db = window.project.db
    items = [window.sidebar.list.item(i) for i in range(window.sidebar.list.count())]
    assert [(i.text(), i.data(COUNT_ROLE)) for i in items] == [
        ("All images", 12),
        ("Art", 4),
        ("Science", 4),
        ("Street view", 3),  # domains.title, the name in the tooltip
        ("(no domain)", 1),
    ]
    assert items[3].toolTip() == "street\nStreet view"
    _apply(qtbot, window, lambda: window.sidebar.list.setCurrentRow(2))
    assert _shown_ids(window) == browse.image_ids(db, ImageQuery(domain="science")).tolist()
    assert window.count_label.text() == "4 images"
    # the first image of the new list is shown in the review pane
    assert window.review.image_id == _shown_ids(window)[0]
    _apply(qtbot, window, lambda: window.sidebar.list.setCurrentRow(4))
    assert _shown_ids(window) == browse.image_ids(db, ImageQuery(domain="")).tolist()


def test_long_domain_titles_are_elided_not_scrolled(qtbot, window):
    db = window.project.db
    long_title = ("Scientific diagrams, charts and figures from papers and textbooks " * 3).strip()
    db.execute("UPDATE domains SET title = ? WHERE name = 'science'", [long_title])
    window.refresh_library()
    view = window.sidebar.list
    qtbot.waitUntil(lambda: view.item(2).text() == long_title)
    view.resize(180, 300)
    qtbot.wait(20)
    assert view.horizontalScrollBar().maximum() == 0
    assert view.visualItemRect(view.item(2)).right() <= view.viewport().width()
    assert view.item(2).toolTip() == f"science\n{long_title}"
    picture = view.viewport().grab().toImage()
    row = view.visualItemRect(view.item(2))
    text = view.palette().text().color().lightness()
    # the count is painted at the right end of the row, past where the title was cut
    right = [
        picture.pixelColor(x, y).lightness()
        for x in range(row.right() - 20, row.right())
        for y in range(row.top(), row.bottom())
    ]
    assert min(right) <= text + 60


def test_filter_bar_combines_with_domain(qtbot, window):
    db = window.project.db
    bar = window.filter_bar
    _apply(qtbot, window, lambda: bar.itype.setCurrentIndex(bar.itype.findData("long_vqa")))
    assert _shown_ids(window) == browse.image_ids(db, ImageQuery(itype="long_vqa")).tolist()
    _apply(qtbot, window, lambda: bar.flag.setCurrentIndex(bar.flag.findData(ANY_FLAG)))
    expected = browse.image_ids(db, ImageQuery(itype="long_vqa", check_flag=ANY_FLAG)).tolist()
    assert _shown_ids(window) == expected
    _apply(qtbot, window, lambda: bar.flag.setCurrentIndex(bar.flag.findData(DISAGREE)))
    assert window.filters.query == ImageQuery(itype="long_vqa", disagree=True)
    _apply(qtbot, window, lambda: bar.sort.setCurrentIndex(bar.sort.findData("newest")))
    got = _shown_ids(window)
    assert got == sorted(got, reverse=True)
    # the check flags present in the project are offered
    assert bar.flag.findData("answer_leak") > 0 and bar.flag.findData("too_short") > 0


def test_text_search_is_debounced_and_literal(qtbot, window):
    search = window.filter_bar.search
    window.on_focus_search()
    assert search.hasFocus()
    with qtbot.waitSignal(window.model.queryApplied, timeout=3000):
        qtbot.keyClicks(search, "number 5 ")
    assert window.filters.query.text == "number 5 "
    assert window.model.rowCount() == 1
    row = window.model.data(window.model.index(0), ROW_ROLE)
    assert row.id == browse.image_ids(window.project.db, ImageQuery(text="number 5 "))[0]


def test_rows_page_in_and_edits_invalidate_only_their_row(qtbot, review_project):
    loader = ThumbnailLoader()
    model = ImageListModel(review_project, loader)
    model.PAGE = 5  # three pages over twelve images
    model.set_query(ImageQuery(), wait=True)
    assert model.rowCount() == 12 and list(model._pages) == [0]  # the first page comes along
    assert model.data(model.index(7), ROW_ROLE) is None  # page 1 is read on the pager thread
    with qtbot.waitSignal(model.dataChanged, timeout=3000) as landed:
        pass
    assert [i.row() for i in landed.args[:2]] in ([5, 9], [10, 11])
    qtbot.waitUntil(lambda: not model.busy())
    assert sorted(model._pages) == [0, 1, 2]  # and the one after it, read ahead
    row = model.data(model.index(7), ROW_ROLE)
    assert row.id == model.image_id(7)
    review_project.db.execute("UPDATE images SET status = 'accepted' WHERE id = ?", [row.id])
    with qtbot.waitSignal(model.dataChanged):
        model.invalidate([row.id])
    assert model.data(model.index(7), ROW_ROLE).status == "accepted"
    assert model.row_of(row.id) == 7 and model.row_of(-5) is None
    loader.shutdown()


def test_thumbnails_load_on_pool_threads_with_placeholder_for_missing(qtbot, review_project):
    first, second = browse.page_rows(
        review_project.db, browse.image_ids(review_project.db, ImageQuery())[:2]
    )
    (review_project.root / second.thumb).unlink()
    loader = ThumbnailLoader(box=64)
    model = ImageListModel(review_project, loader)
    model.set_query(ImageQuery(), wait=True)
    assert model.data(model.index(0), THUMB_ROLE) is None  # placeholder while it loads
    model.data(model.index(1), THUMB_ROLE)
    qtbot.waitUntil(lambda: loader.pending() == 0, timeout=3000)
    image = model.data(model.index(0), THUMB_ROLE)
    assert max(image.width(), image.height()) == 64
    assert model.data(model.index(1), THUMB_ROLE) is MISSING
    assert first.id in loader.cache and second.id in loader.failed
    loader.shutdown()


def test_grid_paints_tiles_with_status_and_badges(qtbot, window):
    window.grid.viewport().repaint()
    image = window.grid.viewport().grab().toImage()
    # the first tile is selected and painted in the highlight colour around its thumbnail
    highlight = window.grid.palette().highlight().color()
    rect = window.grid.visualRect(window.model.index(0))
    assert image.pixelColor(rect.left() + 6, rect.bottom() - 8) == highlight
    # the thumbnail (a coloured picture) is drawn, not the grey placeholder
    centre = image.pixelColor(rect.center().x(), rect.top() + 30)
    assert centre.name() not in ("#d6d9de", highlight.name())
    assert window.model.data(window.model.index(0)) == f"#{window.model.image_id(0)}"


def _merged(qtbot, window, changes):
    with qtbot.waitSignal(window.model.rowsMerged, timeout=5000):
        window.show_changes(changes)
    wait_idle(qtbot, window)


def test_a_finished_job_reapplies_the_filters_and_keeps_the_place(qtbot, window):
    from core.changes import Changes
    from core.store import pipeline as sp
    from core.store.pipeline import NewInstruction

    db = window.project.db
    _apply(qtbot, window, lambda: window.filters.update(has_caption=False))
    bare = _shown_ids(window)
    assert len(bare) == 3  # every 4th image of the fixture has no caption
    window.grid.select_row(1)
    wait_idle(qtbot, window)
    place = window.grid.current_image()

    # A caption job captioned the first one: it leaves the list, the reviewer stays put.
    sp.add_caption(db, bare[0], "A caption from a job.", "en", "m", None, None)
    _merged(qtbot, window, Changes.of([bare[0]]))
    assert _shown_ids(window) == bare[1:]
    assert window.grid.current_image() == place and window.review.image_id == place
    assert window.count_label.text() == "2 images"

    # An import added an image without a caption: a new match comes in, at its place.
    new_id = db.execute(
        "INSERT INTO images (sha256, width, height, format, storage, path) "
        "VALUES ('f' || repeat('0', 63), 10, 10, 'PNG', 'copy', 'x.png') RETURNING id"
    ).fetchone()[0]
    _merged(qtbot, window, Changes.of([new_id], added=True))
    assert _shown_ids(window) == [*bare[1:], new_id]
    assert window.grid.current_image() == place

    # The sort moves a touched row (most instructions first): rows follow their ids.
    _apply(qtbot, window, lambda: window.filters.update(has_caption=None, sort="items"))
    before = _shown_ids(window)
    window.grid.select_row(0)
    wait_idle(qtbot, window)
    top = window.grid.current_image()
    last = before[-1]
    sp.insert_instructions(db, [NewInstruction(last, "short_vqa", "en", f"Q{k}?", "A")
                                for k in range(9)])  # fmt: skip
    _merged(qtbot, window, Changes.of([last]))
    after = _shown_ids(window)
    assert after[0] == last and sorted(after) == sorted(before)
    assert after == browse.image_ids(db, window.filters.query).tolist()
    assert window.grid.current_image() == top  # the reviewer's image, one row lower now
    qtbot.waitUntil(lambda: window.model.data(window.model.index(0), ROW_ROLE) is not None)
    row = window.model.data(window.model.index(0), ROW_ROLE)
    assert row.id == last and row.n_items >= 9  # the touched row was re-read


def test_a_run_over_every_image_re_reads_only_the_cached_tiles(qtbot, review_project, monkeypatch):
    """A check of the whole project names every image in its Changes: the grid re-reads the
    rows of the pages it holds, not every named image (100k rows and a search for each
    one's row, on the GUI thread, at 100k images)."""

    loader = ThumbnailLoader()
    model = ImageListModel(review_project, loader)
    model.PAGE = 5  # three pages over twelve images; only the first is read
    model.set_query(ImageQuery(), wait=True)
    asked = []
    real = browse.page_rows
    monkeypatch.setattr(
        browse, "page_rows", lambda db, ids: (asked.append(list(ids)), real(db, ids))[1]
    )
    db = review_project.db
    first = model.image_id(0)
    db.execute("UPDATE images SET status = 'accepted' WHERE id = ?", [first])
    everything = browse.image_ids(db, ImageQuery()).tolist()
    with qtbot.waitSignal(model.dataChanged, timeout=3000):
        model.reapply(frozenset(everything))
    qtbot.waitUntil(lambda: not model.busy())
    assert asked and all(len(ids) <= 5 for ids in asked)  # a page's rows at most
    assert model.data(model.index(0), ROW_ROLE).status == "accepted"  # the shown one re-read
    loader.shutdown()
