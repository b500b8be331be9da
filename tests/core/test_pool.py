"""OrderedPool hands results back in task order whatever the batch size it picks."""

from __future__ import annotations

from core.library.pool import BATCH, OrderedPool


def _square(x: int) -> int:
    return x * x


def _nothing() -> None:
    pass


def _crashed(x: int) -> None:
    raise AssertionError(f"no worker should die here ({x})")


def test_results_come_back_in_order_for_small_large_and_unsized_inputs():
    pool = OrderedPool(_square, _crashed, 2, _nothing)
    for tasks in ([1, 2, 3], list(range(BATCH * 40 + 3)), iter(range(BATCH * 3 + 1))):
        expected = list(tasks) if isinstance(tasks, list) else list(range(BATCH * 3 + 1))
        got = list(pool.run(tasks))
        assert [t for t, _ in got] == expected
        assert [r for _, r in got] == [t * t for t in expected]
