"""Taxonomy and seed questions: bundled defaults, editing, sampling, and MMInstruct imports.

The GUI and the CLI call these functions; only `core.store.domains` touches SQL.
"""

from core.domains.answer_formats import (
    AnswerFormats,
    answer_suffix,
    apply_answer_suffix,
    default_answer_formats,
    import_answer_formats,
    load_answer_formats,
    project_answer_formats,
    save_answer_formats,
    set_project_answer_formats,
)
from core.domains.defaults import default_domains, default_seeds, install_defaults
from core.domains.mminstruct import SeedImportReport, import_mminstruct_seeds, parse_seed_file
from core.domains.model import ITYPES, LANGS, DomainError, DomainSpec, SeedFormatError
from core.domains.taxonomy import (
    add_domain,
    add_seed,
    delete_domain,
    delete_seed,
    edit_seed,
    ensure_domain,
    get_domain,
    get_seed,
    list_domains,
    list_seeds,
    rename_domain,
    reorder_domains,
    sample_seeds,
    update_domain,
)
from core.store.domains import DomainRow, SeedRow

__all__ = [
    "ITYPES",
    "LANGS",
    "AnswerFormats",
    "DomainError",
    "DomainRow",
    "DomainSpec",
    "SeedFormatError",
    "SeedImportReport",
    "SeedRow",
    "add_domain",
    "add_seed",
    "answer_suffix",
    "apply_answer_suffix",
    "default_answer_formats",
    "default_domains",
    "default_seeds",
    "delete_domain",
    "delete_seed",
    "edit_seed",
    "ensure_domain",
    "get_domain",
    "get_seed",
    "import_answer_formats",
    "import_mminstruct_seeds",
    "install_defaults",
    "list_domains",
    "list_seeds",
    "load_answer_formats",
    "parse_seed_file",
    "project_answer_formats",
    "rename_domain",
    "reorder_domains",
    "sample_seeds",
    "save_answer_formats",
    "set_project_answer_formats",
    "update_domain",
]
