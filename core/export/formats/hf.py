"""Hugging Face datasets parquet: images embedded as bytes in the `Image` feature's
{bytes, path} struct, a `messages` column, and a dataset card (README.md) with the counts.

`datasets.load_dataset("parquet", data_files=...)` reads the features from the
"huggingface" key of the parquet schema metadata, so the images decode as images there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from core.export.conversation import Conversation
from core.export.errors import ExportError
from core.export.formats.base import (
    Format,
    ReadContext,
    RecordError,
    cache_image,
    need,
    record_id,
    record_meta,
    resolve_image,
    split_of,
)

HF_SPLIT = {"train": "train", "val": "validation"}
CHUNK_BYTES = 64 << 20
CHUNK_IMAGES = 20_000  # small images: few, large chunks; big ones: CHUNK_BYTES decides
_STR = {"dtype": "string", "_type": "Value"}
# A python list in the features JSON is a list feature in every datasets release (3.x-5.x).
FEATURES = {
    "id": _STR,
    "images": [{"_type": "Image"}],
    "messages": [{"role": _STR, "content": _STR}],
    "meta": {
        "domain": _STR,
        "license": _STR,
        "turns": [{"itype": _STR, "lang": _STR, "suffix": _STR}],
    },
}


def arrow_schema():
    import pyarrow as pa

    s = pa.string()
    schema = pa.schema(
        [
            ("id", s),
            ("images", pa.list_(pa.struct([("bytes", pa.binary()), ("path", s)]))),
            ("messages", pa.list_(pa.struct([("role", s), ("content", s)]))),
            (
                "meta",
                pa.struct(
                    [
                        ("domain", s),
                        ("license", s),
                        ("turns", pa.list_(pa.struct([("itype", s), ("lang", s), ("suffix", s)]))),
                    ]
                ),
            ),
        ]
    )
    meta = {"huggingface": json.dumps({"info": {"features": FEATURES}}, sort_keys=False)}
    return schema.with_metadata(meta)


class HfFormat(Format):
    name = "hf"
    title = "Hugging Face datasets (parquet)"
    data_suffix = ".parquet"
    places_images = False

    def data_file(self, split: str) -> str:
        return f"data/{HF_SPLIT[split]}-00000-of-00001.parquet"

    def extra_files(self) -> tuple[str, ...]:
        return ("README.md",)

    def find_data_files(self, folder: Path) -> list[Path]:
        return sorted([*folder.glob("data/*.parquet"), *folder.glob("*.parquet")])

    def write(self, job) -> list[str]:
        import pyarrow.parquet as pq

        from core.export.card import LICENSE_FILE, dataset_card, hub_license, license_file

        schema = arrow_schema()
        names = []
        for split in job.splits:
            name = self.data_file(split)
            dest = job.staging / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            with pq.ParquetWriter(dest, schema, compression="zstd") as writer:
                # One row group per chunk: whole images of one part, bounded by count and bytes.
                for table in _chunks(job, split):
                    writer.write_table(table.cast(schema))
            names.append(name)
            job.progress(f"hf {split}")
        (job.staging / "README.md").write_text(dataset_card(job), encoding="utf-8")
        extra = ["README.md"]
        if hub_license(job.counts["licenses"]) == "other":
            (job.staging / LICENSE_FILE).write_text(license_file(job), encoding="utf-8")
            extra.append(LICENSE_FILE)
        return [*names, *extra]

    def iter_raw(self, path: Path) -> Iterator[object]:
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for a file that is not parquet
            raise ExportError(f"{path.name} is not a parquet file: {exc}") from None
        for batch in pf.iter_batches(batch_size=256):
            yield from batch.to_pylist()

    def sniff(self, rec: object) -> bool:
        return isinstance(rec, dict) and "messages" in rec and "images" in rec

    def to_conversation(self, rec: object, index: int, ctx: ReadContext) -> Conversation:
        turns = need(rec, "messages", list)
        images = [_materialize(img, ctx) for img in (rec.get("images") or [])]
        messages = []
        for k, turn in enumerate(turns):
            if not isinstance(turn, dict) or not isinstance(turn.get("content"), str):
                raise RecordError("bad_record", f"message {k + 1} has no string 'content'")
            role = turn.get("role")
            if role == "system" and k == 0:
                continue
            if role not in ("user", "assistant"):
                raise RecordError(
                    "bad_role", f"message {k + 1}: role {role!r} is not user or assistant"
                )
            messages.append({"role": role, "content": turn["content"]})
        return Conversation(record_id(rec, index), images, messages, record_meta(rec, ctx))

    def read_context(
        self, data_file: Path, folder: Path, manifest: dict | None, **kw
    ) -> ReadContext:
        from core.paths import user_home

        cache = Path(kw.get("cache_dir") or user_home() / "cache" / "images")
        return ReadContext(
            data_file, data_file.parent.resolve(), split_of(data_file), cache_dir=cache
        )


def _chunks(job, split: str) -> Iterator:
    """Arrow tables (id, images, messages, meta) of a split's records in export order, one per
    chunk of images: whole images of one part, closed once it holds CHUNK_IMAGES images or
    CHUNK_BYTES bytes. DuckDB gives the records without bytes; each image's bytes are read
    once, at its first record (records come in image order), and joined here."""
    import pyarrow.compute as pc

    held: list = []  # record batch slices of the open chunk
    blobs: list[bytes] = []  # the open chunk's image bytes, in order
    paths: list[str] = []  # and their paths in the export (ab/<sha256>.<ext>)
    size, part, last = 0, None, None
    for images, batch in _passes().record_batches(job.cur, "hf", split):
        n = len(batch)
        if not n:
            continue
        o = batch.column("_ord")
        # where a new image starts (a Python scalar in pyarrow.compute would import pandas)
        starts = [0, *(k + 1 for k in pc.indices_nonzero(pc.not_equal(o[1:], o[:-1])).to_pylist())]
        ords, parts = batch.column("_ord").to_pylist(), batch.column("_part").to_pylist()
        cut = 0  # first row of this batch not yet in `held`
        for k in starts:
            o_k, p_k = ords[k], parts[k]
            if o_k == last:  # the image of the previous batch's last records goes on
                continue
            if blobs and (p_k != part or len(blobs) >= CHUNK_IMAGES or size >= CHUNK_BYTES):
                held.append(batch.slice(cut, k - cut))
                table = _with_images(held, blobs, paths)
                held, blobs, paths, size, cut = [], [], [], 0, k  # not held while it is written
                yield table
            sha, ext, storage, path = images[o_k]
            data = job.read_image(sha, ext, storage, path)
            blobs.append(data)
            paths.append(f"{sha[:2]}/{sha}.{ext}")
            size += len(data)
            part, last = p_k, o_k
        held.append(batch.slice(cut))
    if blobs:
        yield _with_images(held, blobs, paths)


def _with_images(held: list, blobs: list[bytes], paths: list[str]):
    """The chunk's records with the `images` column: [{bytes, path}] of each record's image."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = pa.Table.from_batches([b for b in held if len(b)]).combine_chunks()
    o = t.column("_ord").chunk(0)
    # the image index of each record: how many image changes came before it
    changes = pc.cast(pc.not_equal(o[1:], o[:-1]), pa.int32())
    zero = pc.cast(pc.subtract(o[:1], o[:1]), pa.int32())
    index = pc.cumulative_sum(pa.concat_arrays([zero, changes]))
    images = pa.StructArray.from_arrays(
        [_binary(blobs, pa.binary()).take(index), _binary(paths, pa.string()).take(index)],
        ["bytes", "path"],
    )
    return pa.table(
        {
            "id": t.column("id"),
            "images": pa.FixedSizeListArray.from_arrays(images, 1),
            "messages": t.column("messages"),
            "meta": t.column("meta"),
        }
    )


def _binary(values: list, kind):
    """An Arrow binary (or string) array from Python bytes (or str), built from its buffers:
    pa.array() on Python values imports pandas (~0.5 CPU s) to check what it was given."""
    import array
    from itertools import accumulate

    import pyarrow as pa

    data = [v.encode() if isinstance(v, str) else v for v in values]
    ends = array.array("q", [0, *accumulate(map(len, data))])
    if ends[-1] >= 1 << 31:
        kind = pa.large_binary() if kind == pa.binary() else pa.large_string()
    else:
        ends = array.array("i", ends)
    buffers = [None, pa.py_buffer(ends.tobytes()), pa.py_buffer(b"".join(data))]
    return pa.Array.from_buffers(kind, len(data), buffers)


def _materialize(img: object, ctx: ReadContext) -> Path:
    """An embedded image as a file in the content-addressed cache (readers hand out paths)."""
    if not isinstance(img, dict):
        raise RecordError("bad_record", "an entry of 'images' is not a {bytes, path} struct")
    data, name = img.get("bytes"), img.get("path") or ""
    if data is None:
        if not name:
            raise RecordError("bad_record", "an image has neither bytes nor path")
        return resolve_image(ctx.image_base, name)
    return cache_image(data, name, ctx)


def _passes():
    # Imported on first use: readers (the trainer's environment) must not need DuckDB.
    from core.store import export_passes

    return export_passes
