"""The worker's file read: every byte, and the size limit exact, whatever fstat says."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from core.library import worker
from core.library.scan import Task
from tests.core.import_fixtures import jpeg_bytes, photo


def _process(root, path, max_bytes):
    config = worker.WorkerConfig(str(root), 256, 10**8, True, np.zeros(0, np.uint64), max_bytes)
    worker.init_worker(config)
    return worker.process(Task(0, str(path), str(path)))


def test_size_limit_is_exact_and_the_whole_file_is_hashed(tmp_path):
    data = jpeg_bytes(photo(3, (640, 480)), quality=95)
    src = tmp_path / "a.jpg"
    src.write_bytes(data)
    ok = _process(tmp_path / "p", src, max_bytes=len(data))
    assert ok.reason is None and ok.bytes == len(data)
    assert ok.sha256 == hashlib.sha256(data).hexdigest()
    over = _process(tmp_path / "p", src, max_bytes=len(data) - 1)
    assert over.reason == "too_large"


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux /proc")
def test_a_file_longer_than_fstat_says_is_read_to_its_end(tmp_path):
    # /proc files report st_size 0 and have content: the read must not stop at the size.
    out = _process(tmp_path / "p", "/proc/self/maps", max_bytes=1 << 30)
    assert out.bytes > 0 and out.reason == "not_an_image"
    capped = _process(tmp_path / "p", "/proc/self/maps", max_bytes=10)
    assert capped.reason == "too_large"
