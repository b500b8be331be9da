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
        import pyarrow as pa
        import pyarrow.parquet as pq

        from core.export.card import LICENSE_FILE, dataset_card, hub_license, license_file

        schema = arrow_schema()
        names = []
        for split in job.splits:
            name = self.data_file(split)
            dest = job.staging / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            with pq.ParquetWriter(dest, schema, compression="zstd") as writer:
                # Parts bound what DuckDB sorts; chunks bound the image bytes held at once.
                for bounds in _store().parts(job.cur, split):
                    _store().load_part(job.cur, split, *bounds)
                    for ids, shas, blobs in _chunks(job, split, bounds):
                        table = pa.table(
                            {
                                "image_id": pa.array(ids, pa.int64()),
                                "data": pa.array(blobs, pa.binary()),
                            }
                        )
                        part = _store().hf_chunk(job.cur, split, table, shas[0], shas[-1])
                        writer.write_table(part.cast(schema))
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


def _chunks(job, split: str, bounds) -> Iterator[tuple[list[int], list[str], list[bytes]]]:
    """Images of a split in export order, in chunks bounded by count and bytes."""
    ids: list[int] = []
    shas: list[str] = []
    blobs: list[bytes] = []
    size = 0
    for batch in _store().iter_selected_images(job.cur, split, batch=2000, bounds=bounds):
        for image_id, sha, ext, storage, path in batch:
            data = job.read_image(sha, ext, storage, path)
            ids.append(image_id)
            shas.append(sha)
            blobs.append(data)
            size += len(data)
            if size >= CHUNK_BYTES or len(ids) >= CHUNK_IMAGES:
                yield ids, shas, blobs
                ids, shas, blobs, size = [], [], [], 0
    if ids:
        yield ids, shas, blobs


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


def _store():
    # Imported on first use: readers (the trainer's environment) must not need DuckDB.
    from core.store import exports

    return exports
