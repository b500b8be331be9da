"""Export a project's instructions as training data: select, split, place images, write the
format's files and a manifest, all in a staging folder that becomes the export at the end."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from core import __version__
from core.export import suffix as suffixes
from core.export.errors import ExportError
from core.export.formats import FORMATS, Format
from core.export.images import PLACERS, place_image, read_bytes, write_bytes
from core.export.manifest import Checksums, write_manifest
from core.export.normalize import Normalizer
from core.export.safetext import MODES as TEXT_MODES
from core.export.textguard import guard_selection
from core.project import Project
from core.store import exports as store
from core.store.dbtune import export_settings
from core.vocab import ITEM_STATUSES as STATUSES
from core.vocab import ITYPES, LANGS

IMAGE_DIR = "images"


@dataclass
class ExportOptions:
    format: str
    statuses: list[str] = field(default_factory=lambda: ["accepted"])
    domains: list[str] | None = None
    itypes: list[str] | None = None
    langs: list[str] | None = None
    val_fraction: float = 0.0
    seed: int = 0
    # hardlink (copy where links are impossible) | copy | symlink; ignored by formats that
    # embed images
    images: str = "hardlink"
    multi_turn: bool = False
    suffix: object = suffixes.AUTO  # AUTO, None, or a function (itype, lang, item_key) -> str
    unsafe_text: str = "escape"  # escape | skip | fail: chat-template tokens in the text
    original_bytes: bool = False  # True: images as imported, not normalized
    max_side: int | None = None  # normalized images: longest side at most this many pixels
    shard_size: int | None = None  # webdataset: samples per tar shard (default 5000)

    def check(self) -> None:
        def bad(what, values, known):
            wrong = [v for v in values or () if v not in known]
            if wrong:
                raise ExportError(
                    f"unknown {what} {', '.join(map(repr, wrong))}; expected {', '.join(known)}"
                )

        bad("format", [self.format], FORMATS)
        bad("status", self.statuses, STATUSES)
        bad("type", self.itypes, ITYPES)
        bad("language", self.langs, LANGS)
        bad("image mode", [self.images], PLACERS)
        bad("--unsafe-text mode", [self.unsafe_text], TEXT_MODES)
        if not self.statuses:
            raise ExportError("at least one status is needed")
        if self.max_side is not None and (not isinstance(self.max_side, int) or self.max_side < 16):
            raise ExportError(
                f"--max-side must be a whole number of pixels >= 16, not {self.max_side}"
            )
        if self.shard_size is not None and (self.format != "webdataset" or self.shard_size < 1):
            raise ExportError("--shard-size is a positive number of samples, for webdataset only")
        if self.max_side and self.original_bytes:
            raise ExportError("--max-side resizes images; it cannot go with --original-bytes")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ExportError(f"--val-fraction must be in [0, 1), not {self.val_fraction}")

    def filters(self) -> dict:
        return {
            "status": self.statuses,
            "domains": self.domains,
            "types": self.itypes,
            "languages": self.langs,
        }


@dataclass
class ExportResult:
    out: Path
    manifest: dict
    hub: dict | None = None  # set once pushed to the Hugging Face Hub (core.export.hub)

    def to_json(self) -> dict:
        m = self.manifest
        return {
            "out": str(self.out),
            "format": m["format"],
            "data_files": m["data_files"],
            "counts": m["counts"],
            "files": len(m["files"]),
            "unsafe_text": m.get("unsafe_text"),
            "image_normalization": m.get("image_normalization"),
        } | ({"hub": self.hub} if self.hub else {})


@dataclass
class ExportJob:
    """What a format's writer gets: the cursor holding the selection, the staging folder."""

    project: Project
    cur: object
    staging: Path
    options: ExportOptions
    splits: list[str]
    counts: dict
    on_progress: Callable[[str], None] | None = None
    missing: list[str] = field(default_factory=list)
    normalizer: Normalizer | None = None

    def __post_init__(self):
        self.root = str(self.project.root)

    def progress(self, what: str) -> None:
        if self.on_progress:
            self.on_progress(what)

    def source(self, storage: str, path: str) -> Path:
        return self.project.resolve_media(storage, path)

    def normalized(self, sha: str, storage: str, path: str) -> bytes | None:
        """The normalized bytes of an image that needs them; None: its bytes go out as they are."""
        if self.normalizer is None:
            return None
        return self.normalizer.bytes_of(sha, self.source(storage, path))

    def read_image(self, sha: str, ext: str, storage: str, path: str) -> bytes:
        try:
            if self.normalizer is not None and sha in self.normalizer.plans:
                return self.normalized(sha, storage, path)
            # a string path: at 100k images Path objects cost more than the reads
            return read_bytes(os.path.join(self.root, path) if storage == "copy" else path)
        except OSError:
            self.missing.append(sha)
            return b""


def export_project(
    project: Project,
    out: Path,
    options: ExportOptions,
    on_progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write an export folder at `out` (which must not exist or be empty)."""
    options.check()
    fmt = FORMATS[options.format]
    out = Path(out).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} already exists and is not empty; choose a new folder")
    inside = (project.media_dir, project.thumbs_dir)
    if out == project.root or any(out == d or d in out.parents for d in inside):
        raise ExportError("export into a folder of its own, e.g. PROJECT/exports/NAME")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    cur = project.db.cursor()
    with export_settings(cur, project.settings()["duckdb_memory_limit_mb"]):
        return _export(project, out, options, fmt, staging, cur, on_progress)


def _export(project, out, options, fmt, staging, cur, on_progress) -> ExportResult:
    try:
        suffix_fn = suffixes.resolve(options.suffix, project.db)
        n = store.build_selection(
            cur,
            statuses=options.statuses,
            domains=options.domains,
            itypes=options.itypes,
            langs=options.langs,
            val_fraction=options.val_fraction,
            seed=options.seed,
            multi_turn=options.multi_turn,
            suffix_fn=suffix_fn,
            suffix_variants=suffixes.variants_of(suffix_fn),
        )
        if n == 0:
            raise ExportError(f"nothing to export: no instruction matches {_describe(options)}")
        text_report = guard_selection(cur, options.unsafe_text)
        if text_report["records_skipped"] and not store.selection_size(cur):
            raise ExportError(
                "nothing to export: every selected item holds chat-template tokens "
                "(--unsafe-text skip); use --unsafe-text escape"
            )
        counts = store.selection_counts(cur)
        splits = [s for s in store.SPLITS if s in counts["splits"]]
        job = ExportJob(project, cur, staging, options, splits, counts, on_progress)
        norm = Normalizer(not options.original_bytes, options.max_side)
        if norm.enabled:
            job.normalizer = norm
            _plan_images(job, norm)
        with Checksums(staging) as sums:
            if fmt.places_images:
                _place_images(job, sums)
            names = fmt.write(job)
            if job.missing:
                raise _missing_error(job.missing)
            for name in names:
                sums.add_file(name)
        data = fmt.manifest_data_files(splits, names)
        manifest = _manifest(project, fmt, options, counts, data, suffix_fn is not None)
        manifest["unsafe_text"] = text_report
        manifest["image_normalization"] = norm.report()
        write_manifest(staging, manifest, sums)
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except duckdb.Error as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(f"export failed in the database: {exc}") from exc
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(f"export failed writing {out.name}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        try:
            store.drop_selection(cur)
        except duckdb.Error:  # never hide the error that got us here
            pass
    from core.export.readers import load_manifest

    return ExportResult(out, load_manifest(out))


def _place_images(job: ExportJob, sums: Checksums) -> None:
    """Copy or link every selected image once. (Threads bought nothing here: on tmpfs the
    Python side is the cost, on a disk the file system serialises file creation anyway.)"""
    root = job.staging / IMAGE_DIR
    root.mkdir()
    # Plain strings, not Paths: at 100k images the Path objects cost more than the links.
    base, project_root = str(root), str(job.project.root)
    for sub in store.image_folders(job.cur):
        os.mkdir(os.path.join(base, sub))
    plans = job.normalizer.plans if job.normalizer is not None else {}
    done = 0
    mode = job.options.images
    for batch in store.iter_images(job.cur):
        for sha, ext, storage, path in batch:
            sub = sha[:2]
            name = f"{sha}.{ext}"
            dest = os.path.join(base, sub, name)
            try:
                if sha in plans:
                    digest = write_bytes(dest, job.normalized(sha, storage, path))
                else:
                    own = sha if storage == "copy" else None  # the project's own media file
                    src = os.path.join(project_root, path) if storage == "copy" else path
                    digest = place_image(mode, src, dest, own)
            except FileNotFoundError:
                job.missing.append(sha)
                continue
            sums.add(f"{IMAGE_DIR}/{sub}/{name}", digest)
        done += len(batch)
        job.progress(f"images {done}")
    if job.missing:
        raise _missing_error(job.missing)


def _plan_images(job: ExportJob, norm: Normalizer) -> None:
    """Decide which images get rewritten, and rename those whose file type changes, before
    any record names them."""
    from core.store import export_fixups

    renamed: list[tuple[str, str]] = []
    inspect = export_fixups.images_to_inspect(job.cur, norm.max_side)
    if inspect:  # PIL only when an image may need it: a JSON export of plain images skips it
        from PIL import UnidentifiedImageError
    for sha, ext, storage, path in inspect:
        try:
            plan = norm.consider(sha, job.source(storage, path))
        except FileNotFoundError:
            job.missing.append(sha)
            continue
        except (UnidentifiedImageError, SyntaxError, ValueError) as exc:
            raise ExportError(
                f"image {sha[:12]} cannot be decoded for normalizing ({exc}); reject it or "
                "export with --original-bytes"
            ) from None
        if plan and plan.ext != ext:
            renamed.append((sha, plan.ext))
    if job.missing:
        raise _missing_error(job.missing)
    if renamed:
        import pyarrow as pa

        table = pa.table(
            {
                "sha256": pa.array([r[0] for r in renamed], pa.string()),
                "ext": pa.array([r[1] for r in renamed], pa.string()),
            }
        )
        export_fixups.set_image_exts(job.cur, table)
    job.progress(f"normalize {len(norm.plans)} images")


def _missing_error(missing: list[str]) -> ExportError:
    first = ", ".join(s[:12] for s in missing[:5])
    return ExportError(
        f"{len(missing)} image file(s) are missing from the project (sha256 {first}...); "
        "re-import them or reject their images, then export again"
    )


def _describe(options: ExportOptions) -> str:
    parts = [f"{k}={','.join(v)}" for k, v in options.filters().items() if v]
    return " ".join(parts)


def _manifest(project, fmt: Format, options: ExportOptions, counts, data, suffixed: bool) -> dict:
    opts = asdict(options)
    return {
        "format": fmt.name,
        "format_title": fmt.title,
        "tool": "mmstudio",
        "tool_version": __version__,
        "schema_version": project.db.version(),
        "project": project.name,
        "filters": options.filters(),
        "options": {
            "val_fraction": opts["val_fraction"],
            "seed": opts["seed"],
            "images": opts["images"] if fmt.places_images else "embedded",
            "multi_turn": opts["multi_turn"],
            "answer_suffixes": suffixed,
        },
        "image_folder": IMAGE_DIR if fmt.places_images else None,
        "data_files": data,
        "counts": counts,
    }
