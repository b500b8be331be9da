"""Image collection: URL lists, licensed keyword search (Openverse), and CLIP-style work done
locally: embeddings, domain relevance flags, text/image search, near-duplicate groups and
expansion from a local pool. torch and transformers load only when a CLIP function runs.

The GUI and the CLI call these functions; SQL lives in core.store.collect / core.store.embeddings.
"""

from core.collect.download import REASONS as DOWNLOAD_REASONS
from core.collect.download import DownloadPolicy
from core.collect.embed import EmbedSummary, embed_images, stored_model
from core.collect.errors import CollectError
from core.collect.expand import ExpandSummary, choose_seeds, expand_domain
from core.collect.ingest import CollectSummary, collect_items, collect_url_list
from core.collect.openverse import LICENSE_TYPES, OpenverseClient, license_label, search_domain
from core.collect.relevance import (
    RelevanceSummary,
    domain_prompts,
    off_domain_images,
    relevance_scores,
    score_relevance,
)
from core.collect.similarity import (
    Hit,
    group_near_duplicates,
    search_image_file,
    search_text,
    similar_images,
)
from core.collect.urllist import UrlItem, read_url_list

__all__ = [
    "DOWNLOAD_REASONS",
    "LICENSE_TYPES",
    "CollectError",
    "CollectSummary",
    "DownloadPolicy",
    "EmbedSummary",
    "ExpandSummary",
    "Hit",
    "OpenverseClient",
    "RelevanceSummary",
    "UrlItem",
    "choose_seeds",
    "collect_items",
    "collect_url_list",
    "domain_prompts",
    "embed_images",
    "expand_domain",
    "group_near_duplicates",
    "license_label",
    "off_domain_images",
    "read_url_list",
    "relevance_scores",
    "score_relevance",
    "search_domain",
    "search_image_file",
    "search_text",
    "similar_images",
    "stored_model",
]
