"""Real damage to real project files: zeroed blocks, truncation, random bytes, a newer
storage version (with a valid header checksum), WALs left by a killed process."""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

from core.project import DB_NAME, Project

HEADER_BYTES = 3 * 4096  # DuckDB: main header + two database headers
BLOCK = 262144


def fill(project: Project, instructions: int = 60_000) -> None:
    """Enough rows that the instructions table spans several blocks."""
    db = project.db
    db.execute(
        "INSERT INTO images (sha256, storage, path, domain) "
        "SELECT md5(range::VARCHAR) || md5((range + 7)::VARCHAR), 'copy', "
        "'media/x/' || range || '.png', 'misc' FROM range(500)"
    )
    db.execute(
        "INSERT INTO instructions (image_id, itype, lang, question, answer, status) "
        "SELECT 1 + range % 500, 'short_vqa', 'en', 'question ' || md5(range::VARCHAR), "
        "'answer ' || md5((range * 3)::VARCHAR), CASE WHEN range % 3 = 0 THEN 'ok' ELSE 'new' END "
        "FROM range(?)",
        [instructions],
    )
    db.execute("CHECKPOINT")


def status_block(project: Project) -> int:
    """A block holding instructions.status, which `mmstudio stats` reads."""
    rows = project.db.fetchall(
        "SELECT block_id FROM pragma_storage_info('instructions') "
        "WHERE column_name = 'status' AND persistent AND block_id >= 0 ORDER BY block_id"
    )
    assert rows, "instructions.status is stored inline; add more rows"
    return rows[len(rows) // 2][0]


def zero_block(path: Path, block_id: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(HEADER_BYTES + block_id * BLOCK)
        fh.write(b"\0" * BLOCK)


def truncate(path: Path) -> None:
    os.truncate(path, os.path.getsize(path) // 2)


def random_bytes(path: Path) -> None:
    size = os.path.getsize(path)
    path.write_bytes(os.urandom(size))


def _duckdb_checksum(buf: bytes) -> int:
    result = 5381
    for (word,) in struct.iter_unpack("<Q", buf):
        result ^= (word * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    return result


def newer_storage_version(path: Path, version: int = 10_000) -> None:
    """Rewrite the main header as a future DuckDB would: a higher storage version number,
    with its checksum recomputed so DuckDB reaches the version check."""
    with open(path, "r+b") as fh:
        header = bytearray(fh.read(4096))
        assert header[8:12] == b"DUCK"
        header[12:20] = struct.pack("<Q", version)
        header[0:8] = struct.pack("<Q", _duckdb_checksum(bytes(header[8:])))
        fh.seek(0)
        fh.write(header)


def wal_of(path: Path) -> Path:
    return Path(str(path) + ".wal")


def killed_writer(root: Path, rows: int = 20_000) -> None:
    """A process that writes without checkpointing, killed with SIGKILL: leaves a WAL."""
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from core.project import Project
        p = Project.open({str(root)!r})
        p.db.execute("SET checkpoint_threshold = '10GB'")
        p.db.execute(
            "INSERT INTO instructions (image_id, itype, lang, question, answer) "
            "SELECT 1, 'short_vqa', 'en', 'killed ' || range, 'a' FROM range({rows})"
        )
        print("written", flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "written"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert wal_of(root / DB_NAME).exists()


def corrupt_wal(root: Path) -> None:
    wal = wal_of(root / DB_NAME)
    size = os.path.getsize(wal)
    with open(wal, "r+b") as fh:
        # 0xFF at several offsets, not zeros in the middle: DuckDB replays a WAL whose middle
        # was zeroed without a word at some offsets (measured: 10 % and 50 % of a 4 MB WAL)
        for share in (0.1, 0.3, 0.5, 0.7, 0.9):
            fh.seek(int(size * share))
            fh.write(b"\xff" * 4096)


def copy_project(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
