"""A terminal progress bar that stays off stdout, so --json output remains parseable."""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    def __init__(self, desc: str, total: int | None = None, enabled: bool = True):
        self._bar = tqdm(
            total=total, desc=desc, unit="it", file=sys.stderr, disable=not enabled, leave=True
        )

    def __call__(self, done: int, total: int | None = None, **postfix) -> None:
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        if postfix:
            self._bar.set_postfix(postfix, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
