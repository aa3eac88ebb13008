"""Storage: every byte newswatch keeps, in one SQLite file (the only package with SQL).

Errors::

    StorageError    the database cannot be opened, migrated or written

The plain data (models, errors, identity) loads with the package; what needs sqlite-utils
loads on first use (PEP 562), so that ``newswatch --help`` does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import StorageError
from .identity import identity_host, identity_key
from .lazy import lazy_exports
from .models import (
    Article,
    DigestReason,
    Email,
    Extraction,
    FetchOutcome,
    KnownUrl,
    Match,
    Origin,
    OutboxMessage,
    Source,
    SourceKind,
    SourceSpec,
    StoredArticle,
    Topic,
    TopicMode,
    TopicSpec,
    from_iso,
    to_iso,
    utcnow,
)
from .percolate import percolate

if TYPE_CHECKING:
    from .db import write_problem
    from .digests import DigestItem
    from .linkshapes import LinkShape
    from .store import Store

_LAZY = {
    "DigestItem": ".digests",
    "LinkShape": ".linkshapes",
    "Store": ".store",
    "write_problem": ".db",
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "Article",
    "DigestItem",
    "DigestReason",
    "Email",
    "Extraction",
    "FetchOutcome",
    "KnownUrl",
    "LinkShape",
    "Match",
    "Origin",
    "OutboxMessage",
    "Source",
    "SourceKind",
    "SourceSpec",
    "StorageError",
    "Store",
    "StoredArticle",
    "Topic",
    "TopicMode",
    "TopicSpec",
    "from_iso",
    "identity_host",
    "identity_key",
    "percolate",
    "to_iso",
    "utcnow",
    "write_problem",
]
