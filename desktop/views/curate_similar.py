"""Two pages of the Curate tab: "more like this" from an image, over the project or over a
pool folder the user picks (a cached local CLIP index), with a similarity threshold and
add-to-domain; and search by text ("a red bus at night")."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.strings import N_, tr
from desktop.views.curate_pages import domain_combo
from desktop.views.curate_tiles import TileList

SOURCES = (("project", N_("This project")), ("pool", N_("A pool folder")))


class HitsBox(QWidget):
    """Result tiles with check boxes, and what to do with the checked ones."""

    def __init__(self, page, name: str):
        super().__init__(page)
        self.tiles = TileList(page.panel.thumbs, self, checkable=True, name=name)
        self.target = domain_combo(page.panel.project, f"{name}Target", everything=False)
        self.add_button = QPushButton(tr("Add checked to domain"), objectName=f"{name}Add")
        self.check_all = QPushButton(tr("Check all"))
        self.count = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.check_all)
        row.addWidget(QLabel(tr("Domain")))
        row.addWidget(self.target, 1)
        row.addWidget(self.add_button)
        row.addStretch(1)
        row.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tiles, 1)
        layout.addLayout(row)
        self.check_all.clicked.connect(lambda: self.tiles.set_all_checked(True))

    def show_hits(self, cards: list[dict], scores: dict) -> None:
        def caption(card):
            key = card.get("id", card.get("path"))
            where = card.get("domain") or card.get("where") or ""
            name = f"#{key}" if "id" in card else str(key)[-28:]
            return f"{scores[key]:.3f}  {where}\n{name}"

        self.tiles.show_cards(cards, caption)
        self.count.setText(tr("{n:,} match(es)", n=len(cards)))


def move_checked(panel, ids, domain) -> None:
    from core.collect.curate import move_to_domain

    if not ids or not domain:
        panel.say(tr("Check some images and choose a domain first"))
        return
    db = panel.project.db
    text = tr("move {n} image(s) to {domain}", n=len(ids), domain=domain)
    if panel.history.run(text, ids, lambda: move_to_domain(db, ids, domain)):
        panel.say(text)
        panel.libraryChanged.emit()


class SimilarPage(QWidget):
    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.index = None  # core.collect.pool_index.PoolIndex of the chosen folder
        self.pool_folder: str | None = None
        self.hits: list = []
        self.source = QComboBox(objectName="similarSource")
        for value, text in SOURCES:
            self.source.addItem(tr(text), value)
        self.pool_button = QPushButton(tr("Choose pool folder…"), objectName="similarPool")
        self.pool_label = QLabel(tr("no pool folder chosen"))
        self.image = QSpinBox(objectName="similarImage", minimum=1, maximum=2**31 - 1)
        self.image.setPrefix(tr("image #"))
        self.k = QSpinBox(objectName="similarK", minimum=1, maximum=1000)
        self.k.setValue(50)
        self.k.setPrefix(tr("at most "))
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="similarThreshold")
        self.slider.setRange(0, 100)
        self.slider.setValue(50)
        self.slider_label = QLabel()
        self.find_button = QPushButton(tr("Find similar"), objectName="similarFind")
        self.results = HitsBox(self, "similarTiles")
        self._debounce = QTimer(self, singleShot=True, interval=250)
        top = QHBoxLayout()
        for w in (self.source, self.pool_button, self.pool_label):
            top.addWidget(w)
        top.addStretch(1)
        query = QHBoxLayout()
        query.addWidget(self.image)
        query.addWidget(self.k)
        query.addWidget(QLabel(tr("Similarity at least")))
        query.addWidget(self.slider, 2)
        query.addWidget(self.slider_label)
        query.addWidget(self.find_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(query)
        layout.addWidget(self.results, 1)
        self.pool_button.clicked.connect(self.choose_pool)
        self.find_button.clicked.connect(self.search)
        self.slider.valueChanged.connect(self._threshold_changed)
        self._debounce.timeout.connect(self.search)
        self.results.add_button.clicked.connect(self.add_checked)
        panel.jobDone.connect(self._job_done)
        self._threshold_changed()

    def threshold(self) -> float:
        return self.slider.value() / 100

    def _threshold_changed(self, *_a) -> None:
        self.slider_label.setText(f"{self.threshold():.2f}")
        if self.hits or self.results.tiles.count():
            self._debounce.start()

    def choose_pool(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Choose a folder of candidate images"))
        if folder:
            self.set_pool(folder)

    def set_pool(self, folder: str) -> None:
        self.pool_folder = folder
        self.index = None
        self.pool_label.setText(folder)
        self.source.setCurrentIndex(self.source.findData("pool"))

    def search_like(self, image_id: int) -> None:
        self.image.setValue(int(image_id))
        self.search()

    def search(self) -> None:
        from core.collect.curate import more_like_this

        p, image_id, k, t = self.panel, self.image.value(), self.k.value(), self.threshold()
        if self.source.currentData() == "pool":
            if not self.pool_folder:
                p.say(tr("Choose a pool folder first"))
                return
            if self.index is None or self.index.model != _key(p.current_model()):
                p.start_job(p.worker.index_pool(self.pool_folder, p.current_model()),
                            tr("Indexing the pool folder (cached for next time)…"))  # fmt: skip
                return
            from core.collect.pool_index import pool_like

            index = self.index
            p.worker.query(lambda project: pool_like(project, index, image_id, k, t),
                           self._pool_hits)  # fmt: skip
            return
        model = p.current_model()
        p.worker.query(
            lambda project, enc: more_like_this(project, image_id, k=k, min_score=t,
                                                model=enc.key, encoder=enc,
                                                index=p.worker.project_index(enc.key)),
            self._project_hits, needs_encoder=True, model=model,
        )  # fmt: skip

    def _job_done(self, name: str, summary) -> None:
        if name == "pool":
            if summary.cancelled:
                return
            self.index = summary
            self.search()
        elif name == "add_pool":
            self.panel.say(tr("{n:,} pool image(s) added", n=summary["imported"]))
            self.panel.libraryChanged.emit()
            self.search()

    def _project_hits(self, result) -> None:
        self.hits = result.hits
        self.results.show_hits([h.card for h in result.hits],
                          {h.card["id"]: h.score for h in result.hits})  # fmt: skip

    def _pool_hits(self, hits) -> None:
        self.hits = hits
        cards = [{"path": h.path, "file": h.path,
                  "where": tr("in the project") if h.in_project else tr("pool")} for h in hits]  # fmt: skip
        self.results.show_hits(cards, {h.path: h.score for h in hits})

    def add_checked(self) -> None:
        checked = set(self.results.tiles.checked())
        domain = self.results.target.currentData()
        if self.source.currentData() == "pool" and self.index is not None:
            hits = [h for h in self.hits if getattr(h, "path", None) in checked]
            if not hits or not domain:
                self.panel.say(tr("Check some images and choose a domain first"))
                return
            p = self.panel
            p.start_job(p.worker.add_pool(self.index, hits, domain, self.image.value()),
                        tr("Adding {n} pool image(s) to {domain}…", n=len(hits), domain=domain))  # fmt: skip
            return
        move_checked(self.panel, [i for i in self.results.tiles.keys() if i in checked], domain)


class TextSearchPage(QWidget):
    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.text = QLineEdit(objectName="textSearch")
        self.text.setPlaceholderText(tr("Describe the picture, e.g. a red bus at night"))
        self.k = QSpinBox(objectName="textSearchK", minimum=1, maximum=1000)
        self.k.setValue(50)
        self.k.setPrefix(tr("at most "))
        self.search_button = QPushButton(tr("Search"), objectName="textSearchGo")
        self.results = HitsBox(self, "textTiles")
        self.reject_button = QPushButton(tr("Reject checked"), objectName="textReject")
        top = QHBoxLayout()
        top.addWidget(self.text, 3)
        top.addWidget(self.k)
        top.addWidget(self.search_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.reject_button)
        self.text.returnPressed.connect(self.search)
        self.search_button.clicked.connect(self.search)
        self.results.add_button.clicked.connect(
            lambda: move_checked(panel, self.results.tiles.checked(),
                                 self.results.target.currentData()))  # fmt: skip
        self.reject_button.clicked.connect(self.reject_checked)

    def search(self) -> None:
        from core.collect.curate import more_like_this

        text, k, p = self.text.text(), self.k.value(), self.panel
        p.worker.query(
            lambda project, enc: more_like_this(project, text=text, k=k, model=enc.key,
                                                encoder=enc, index=p.worker.project_index(enc.key)),
            self._hits, needs_encoder=True, model=p.current_model(),
        )  # fmt: skip

    def _hits(self, result) -> None:
        self.results.show_hits([h.card for h in result.hits],
                          {h.card["id"]: h.score for h in result.hits})  # fmt: skip

    def reject_checked(self) -> None:
        from core.collect.curate import reject_images

        ids = self.results.tiles.checked()
        if not ids:
            self.panel.say(tr("Check the images to reject first"))
            return
        db = self.panel.project.db
        text = tr("reject {n} image(s)", n=len(ids))
        if self.panel.history.run(text, ids, lambda: reject_images(db, ids)):
            self.panel.say(text)
            self.panel.libraryChanged.emit()
            self.search()


def _key(name):
    from core.collect.embed import model_key

    return model_key(name) if name else None
