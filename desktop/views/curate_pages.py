"""Two pages of the Curate tab: near-duplicate groups side by side, settled in one keystroke
(1-9 or K keep one and reject the rest, A keeps all, N / P move between groups), and
off-domain candidates by CLIP relevance, least relevant first, for bulk rejection."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.strings import N_, domain_title, tr
from desktop.views.curate_tiles import TileList

DUP_KINDS = (("phash", N_("Perceptual hash (from import)")), ("embedding", N_("CLIP embedding")))
DIGITS = [getattr(Qt.Key, f"Key_{d}") for d in range(1, 10)]


def _size(card: dict) -> str:
    kb = (card.get("bytes") or 0) / 1024
    return f"{card.get('width') or '?'}×{card.get('height') or '?'}, {kb:,.0f} KB"


def domain_combo(project, name: str, everything: bool = True) -> QComboBox:
    from core.domains import list_domains

    combo = QComboBox(objectName=name)
    if everything:
        combo.addItem(tr("All domains"), None)
    for d in list_domains(project.db):
        combo.addItem(domain_title(d.name, d.title), d.name)
    return combo


class DuplicatesPage(QWidget):
    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.groups: list = []
        self.position = 0
        self.kind = QComboBox(objectName="dupKind")
        for value, text in DUP_KINDS:
            self.kind.addItem(tr(text), value)
        self.threshold = QDoubleSpinBox(objectName="dupThreshold", decimals=3, minimum=0.5,
                                        maximum=1.0, singleStep=0.005)  # fmt: skip
        self.threshold.setValue(0.95)
        self.threshold.setToolTip(tr("Cosine similarity at or above which two images group"))
        self.find_button = QPushButton(tr("Find groups"), objectName="dupFind")
        self.counter = QLabel(objectName="dupCounter")
        self.tiles = TileList(panel.thumbs, self, name="dupTiles")
        self.tiles.claim([*DIGITS, Qt.Key.Key_K, Qt.Key.Key_A, Qt.Key.Key_N, Qt.Key.Key_P])
        self.keep_button = QPushButton(tr("Keep selected, reject the rest (K)"),
                                       objectName="dupKeepOne")  # fmt: skip
        self.keep_all_button = QPushButton(tr("Keep all (A)"), objectName="dupKeepAll")
        self.prev_button = QPushButton(tr("Previous group (P)"))
        self.next_button = QPushButton(tr("Next group (N)"))
        top = QHBoxLayout()
        top.addWidget(self.kind, 2)
        top.addWidget(QLabel(tr("Embedding threshold")))
        top.addWidget(self.threshold)
        top.addWidget(self.find_button)
        top.addStretch(1)
        top.addWidget(self.counter)
        actions = QHBoxLayout()
        for b in (self.keep_button, self.keep_all_button, self.prev_button, self.next_button):
            actions.addWidget(b)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel(tr("The first tile is the suggested keeper (most pixels). "
                                   "Keys: 1-9 keep that one, K keep the selected one, "
                                   "A keep all, N / P next / previous group.")))  # fmt: skip
        layout.addWidget(self.tiles, 1)
        layout.addLayout(actions)
        self.find_button.clicked.connect(self.find)
        self.kind.currentIndexChanged.connect(lambda _i: self.load())
        self.tiles.keyCommand.connect(self._key)
        self.keep_button.clicked.connect(lambda: self.keep_one(self.tiles.current_key()))
        self.keep_all_button.clicked.connect(self.keep_all)
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        panel.jobDone.connect(lambda name, _s: name == "groups" and self.load())
        self._show()

    def find(self) -> None:
        """Perceptual groups are there since import; embedding groups are computed first."""
        if self.kind.currentData() == "phash":
            self.load()
            return
        p = self.panel
        p.start_job(p.worker.group(p.current_model(), self.threshold.value()),
                    tr("Grouping near duplicates by embedding…"))  # fmt: skip

    def load(self) -> None:
        from core.collect.curate import duplicate_groups

        kind, model = self.kind.currentData(), self.panel.current_model()
        self.panel.worker.query(lambda project: duplicate_groups(project, kind, model=model),
                                self._loaded)  # fmt: skip

    def _loaded(self, groups) -> None:
        self.groups, self.position = list(groups), 0
        self._show()
        self.tiles.setFocus()

    def _show(self) -> None:
        n = len(self.groups)
        self.position = min(self.position, max(0, n - 1))
        if not n:
            self.tiles.clear()
            self.counter.setText(tr("No near-duplicate groups left"))
        else:
            group = self.groups[self.position]
            text = tr("Group {i:,} of {n:,}", i=self.position + 1, n=n)
            if group.similarity is not None:
                text += " — " + tr("similarity {s:.3f}", s=group.similarity)
            self.counter.setText(text)
            self.tiles.show_cards(group.members, lambda c: (
                f"{group.members.index(c) + 1}. #{c['id']} {c['domain'] or ''}\n{_size(c)}"))  # fmt: skip
        for b in (self.keep_button, self.keep_all_button, self.prev_button, self.next_button):
            b.setEnabled(bool(n))

    def step(self, delta: int) -> None:
        if self.groups:
            self.position = (self.position + delta) % len(self.groups)
            self._show()

    def _key(self, key: str) -> None:
        if key.isdigit():
            ids = self.tiles.keys()
            if 1 <= int(key) <= len(ids):
                self.keep_one(ids[int(key) - 1])
        elif key == "K":
            self.keep_one(self.tiles.current_key())
        elif key == "A":
            self.keep_all()
        elif key in ("N", "P"):
            self.step(1 if key == "N" else -1)

    def keep_one(self, image_id) -> None:
        from core.collect.curate import keep_one

        if not self.groups or image_id is None:
            return
        group = self.groups[self.position]
        db = self.panel.project.db
        text = tr("keep #{id}, reject {n} near duplicate(s)", id=image_id, n=len(group.ids) - 1)
        if self.panel.history.run(text, group.ids, lambda: keep_one(db, group, image_id)):
            self._settled(text)

    def keep_all(self) -> None:
        from core.collect.curate import keep_all

        if not self.groups:
            return
        keep_all(self.panel.project.db, self.groups[self.position])
        self._settled(tr("kept the whole group"))

    def _settled(self, text: str) -> None:
        del self.groups[self.position]
        self._show()
        self.panel.say(text)
        self.panel.libraryChanged.emit()
        self.tiles.setFocus()


class OffDomainPage(QWidget):
    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.candidates: list = []
        self.domain = domain_combo(panel.project, "offDomainDomain")
        self.threshold = QDoubleSpinBox(objectName="offDomainThreshold", decimals=3,
                                        minimum=-1.0, maximum=1.0, singleStep=0.01)  # fmt: skip
        self.threshold.setSpecialValueText(tr("model default"))
        self.threshold.setValue(-1.0)
        self.score_button = QPushButton(tr("Score relevance"), objectName="offDomainScore")
        self.tiles = TileList(panel.thumbs, self, checkable=True, name="offDomainTiles")
        self.check_all = QPushButton(tr("Check all"))
        self.reject_button = QPushButton(tr("Reject checked"), objectName="offDomainReject")
        self.count = QLabel(objectName="offDomainCount")
        top = QHBoxLayout()
        top.addWidget(self.domain, 2)
        top.addWidget(QLabel(tr("Flag below")))
        top.addWidget(self.threshold)
        top.addWidget(self.score_button)
        top.addStretch(1)
        top.addWidget(self.count)
        actions = QHBoxLayout()
        actions.addWidget(self.check_all)
        actions.addWidget(self.reject_button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tiles, 1)
        layout.addLayout(actions)
        self.score_button.clicked.connect(self.score)
        self.domain.currentIndexChanged.connect(lambda _i: self.load())
        self.check_all.clicked.connect(lambda: self.tiles.set_all_checked(True))
        self.reject_button.clicked.connect(self.reject_checked)
        panel.jobDone.connect(lambda name, _s: name == "relevance" and self.load())

    def score(self) -> None:
        p = self.panel
        value = self.threshold.value()
        threshold = None if value <= self.threshold.minimum() else value
        p.start_job(p.worker.score(p.current_model(), threshold),
                    tr("Scoring every image against its domain's prompts…"))  # fmt: skip

    def load(self) -> None:
        from core.collect.curate import off_domain_candidates

        domain, model = self.domain.currentData(), self.panel.current_model()
        self.panel.worker.query(
            lambda project: off_domain_candidates(project, domain, model), self._loaded
        )

    def _loaded(self, candidates) -> None:
        self.candidates = list(candidates)
        by_id = {c.card["id"]: c for c in self.candidates}

        def caption(card):
            c = by_id[card["id"]]
            return tr("#{id} in {domain}, score {score:.3f}\nlooks like {other}", id=card["id"],
                      domain=card["domain"], score=c.score, other=c.best_domain or "?")  # fmt: skip

        self.tiles.show_cards([c.card for c in self.candidates], caption)
        self.count.setText(tr("{n:,} off-domain candidate(s)", n=len(self.candidates)))

    def reject_checked(self) -> None:
        from core.collect.curate import reject_images

        ids = self.tiles.checked()
        if not ids:
            self.panel.say(tr("Check the images to reject first"))
            return
        db = self.panel.project.db
        text = tr("reject {n} off-domain image(s)", n=len(ids))
        if self.panel.history.run(text, ids, lambda: reject_images(db, ids)):
            self.panel.say(text)
            self.panel.libraryChanged.emit()
            self.load()
