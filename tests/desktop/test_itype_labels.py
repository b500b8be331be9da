"""Instruction-type labels live on the type classes (core.itypes), outside desktop/, so the
literal scan in test_language.py does not see them: check the Chinese table here."""

from core import itypes
from desktop import strings
from desktop.i18n import ZH


def test_every_registered_type_has_a_label_a_colour_and_a_chinese_translation():
    for kind in itypes.all_types():
        assert strings.ITYPES[kind.name] == kind.label
        assert strings.ITYPE_COLORS[kind.name].startswith("#")
        assert kind.label in ZH, kind.label
