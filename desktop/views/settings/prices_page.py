"""Settings > Prices: the table the job engine costs calls with, saved as the user's copy that
overrides the bundled resources/prices.yaml model by model (desktop.models.price_edit)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.models.price_edit import (
    FIELD_NAMES,
    FIELDS,
    PriceEditError,
    PriceRow,
    bundled_prices,
)
from desktop.strings import N_, tr

COLUMNS = (N_("Model"), N_("Input $ / 1M tokens"), N_("Output $ / 1M tokens"),
           N_("$ per image"), N_("Source"))  # fmt: skip


class PricesPage(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS), objectName="priceTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.discount = QDoubleSpinBox(objectName="batchDiscount")
        self.discount.setRange(0.01, 1.0)
        self.discount.setSingleStep(0.05)
        self.discount.setToolTip(tr("Share of the price the OpenAI Batch API charges (0.5 = half)"))
        self.add_button = QPushButton(tr("Add model"), objectName="addPrice")
        self.remove_button = QPushButton(tr("Remove / reset"), objectName="removePrice")
        self.remove_button.setToolTip(
            tr("Your models go; bundled ones return to the bundled price")
        )
        self.save_button = QPushButton(tr("Save"), objectName="savePrices")
        self.status = QLabel(objectName="priceStatus", wordWrap=True)
        note = QLabel(
            tr(
                "USD per 1 million tokens (and per image where a gateway bills images). A model "
                "uses its exact entry, else the longest entry its name starts with; unknown "
                "models cost 0. Saved to your own prices.yaml, which overrides the bundled table."
            )
        )
        note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel(tr("Batch API share")))
        buttons.addWidget(self.discount)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.add_button.clicked.connect(self.add_row)
        self.remove_button.clicked.connect(self.remove_row)
        self.save_button.clicked.connect(self.save)
        self.table.itemChanged.connect(self._edited)
        self.reload()

    def _edited(self, item: QTableWidgetItem) -> None:
        if item.column() < len(COLUMNS) - 1:
            self.table.blockSignals(True)
            self._set_source(item.row())
            self.table.blockSignals(False)

    def reload(self) -> None:
        from desktop.models.price_edit import load_price_rows

        try:
            rows, discount = load_price_rows()
        except PriceEditError as exc:
            self.say(str(exc), False)
            return
        self.bundled = bundled_prices()[0]
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for row in rows:
            self._append(row)
        self.table.blockSignals(False)
        self.discount.setValue(discount)

    def _append(self, row: PriceRow) -> int:
        n = self.table.rowCount()
        self.table.insertRow(n)
        name = QTableWidgetItem(row.model)
        if row.bundled:  # a bundled model can change price, not name
            name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.table.setItem(n, 0, name)
        for col, value in enumerate(row.prices(), start=1):
            self.table.setItem(n, col, QTableWidgetItem(f"{value:g}"))
        self._set_source(n)
        return n

    def _set_source(self, n: int) -> None:
        model = self.table.item(n, 0).text().strip()
        try:
            prices = self._prices(n)
        except PriceEditError:
            prices = None
        if model not in self.bundled:
            text = tr("yours")
        else:
            text = tr("bundled") if self.bundled[model] == prices else tr("yours (changed)")
        item = QTableWidgetItem(text)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.table.setItem(n, len(COLUMNS) - 1, item)

    def _prices(self, n: int) -> tuple[float, float, float]:
        model = self.table.item(n, 0).text().strip() or tr("row {n}", n=n + 1)
        out = []
        for col, field in enumerate(FIELDS, start=1):
            text = (self.table.item(n, col).text() if self.table.item(n, col) else "").strip()
            try:
                out.append(float(text or 0))
            except ValueError:
                raise PriceEditError(
                    tr(
                        "{model}: the {field} price {text!r} is not a number",
                        model=model,
                        field=tr(FIELD_NAMES[field]),
                        text=text,
                    )
                ) from None
        return tuple(out)

    def rows(self) -> list[PriceRow]:
        rows = []
        for n in range(self.table.rowCount()):
            model = self.table.item(n, 0).text().strip()
            rows.append(PriceRow(model, *self._prices(n), bundled=model in self.bundled))
        return rows

    def add_row(self) -> None:
        self.table.blockSignals(True)
        n = self._append(PriceRow(""))
        self.table.blockSignals(False)
        self.table.setCurrentCell(n, 0)
        self.table.editItem(self.table.item(n, 0))

    def remove_row(self) -> None:
        n = self.table.currentRow()
        if n < 0:
            return
        model = self.table.item(n, 0).text().strip()
        if model in self.bundled:
            self.table.blockSignals(True)
            for col, value in enumerate(self.bundled[model], start=1):
                self.table.item(n, col).setText(f"{value:g}")
            self._set_source(n)
            self.table.blockSignals(False)
        else:
            self.table.removeRow(n)

    def save(self) -> bool:
        from desktop.models.price_edit import save_price_rows

        try:
            path = save_price_rows(self.rows(), round(self.discount.value(), 4))
        except PriceEditError as exc:
            self.say(str(exc), False)
            return False
        self.reload()
        self.say(tr("Saved to {path}; new calls are priced with it.", path=path), True)
        return True

    def say(self, text: str, ok: bool) -> None:
        self.status.setStyleSheet("" if ok else "color: #c8463d;")
        self.status.setText(text)
