"""Multi-selection in the image grid: Shift/Ctrl clicks, a rubber band, and "select all
matching the filter", read as ids without a Python object per selected row.

The grid's model holds the filter's ids as one int64 array; a selection is a few row ranges
(select-all is a single range over 100k rows), so the selected ids are slices of that array.
With nothing selected the current image is the selection.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QAbstractItemView

from desktop.views.grid import ImageGrid


class GridSelection:
    def __init__(self, grid: ImageGrid):
        self.grid = grid
        grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        grid.setSelectionRectVisible(True)

    def _ranges(self) -> list[tuple[int, int]]:
        model = self.grid.selectionModel()
        if model is None:
            return []
        return [(r.top(), r.bottom()) for r in model.selection()]

    def ids(self) -> np.ndarray:
        """The selected images' ids in grid order (the current one when none is selected)."""
        model = self.grid.model()
        if model is None:
            return np.empty(0, dtype=np.int64)
        all_ids = model.ids()
        ranges = self._ranges()
        if not ranges:
            current = self.grid.current_image()
            return np.array([] if current is None else [current], dtype=np.int64)
        if len(ranges) == 1:
            top, bottom = ranges[0]
            return all_ids[top : bottom + 1]
        mask = np.zeros(len(all_ids), dtype=bool)
        for top, bottom in ranges:
            mask[top : bottom + 1] = True
        return all_ids[mask]

    def count(self) -> int:
        ranges = self._ranges()
        if not ranges:
            return 0 if self.grid.current_image() is None else 1
        if len(ranges) == 1:
            return ranges[0][1] - ranges[0][0] + 1
        return int(len(self.ids()))

    def is_all(self) -> bool:
        model = self.grid.model()
        return model is not None and model.rowCount() > 0 and self.count() == model.rowCount()

    def select_all(self) -> None:
        """Everything the filter matches (one selection range, whatever the count)."""
        self.grid.selectAll()
