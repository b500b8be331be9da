"""The registry of export formats: name -> Format. Add a format by adding a module here."""

from __future__ import annotations

from core.export.formats.base import Format, ReadContext, RecordError
from core.export.formats.hf import HfFormat
from core.export.formats.internvl import InternvlFormat
from core.export.formats.llava import LlavaFormat
from core.export.formats.sharegpt import ShareGptFormat
from core.export.formats.trl import TrlFormat
from core.export.formats.wds import WebdatasetFormat

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        LlavaFormat(),
        ShareGptFormat(),
        HfFormat(),
        TrlFormat(),
        InternvlFormat(),
        WebdatasetFormat(),
    )
}
# Sniffing order when a file does not say its format: the most specific shapes first.
SNIFF_ORDER = ("trl", "sharegpt", "llava")

__all__ = ["FORMATS", "SNIFF_ORDER", "Format", "ReadContext", "RecordError"]
