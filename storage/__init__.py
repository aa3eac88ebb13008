"""Storage: every byte newswatch keeps, in one SQLite file (the only package with SQL).

Errors::

    StorageError    the database cannot be opened, migrated or written
"""

from .db import write_problem
from .digests import DigestItem
from .errors import StorageError
from .identity import identity_host, identity_key
from .linkshapes import LinkShape
from .models import (
    Article,
    Email,
    FetchOutcome,
    KnownUrl,
    Match,
    OutboxMessage,
    Source,
    SourceSpec,
    StoredArticle,
    Topic,
    TopicSpec,
    from_iso,
    to_iso,
    utcnow,
)
from .percolate import percolate
from .store import Store

__all__ = [
    "Article",
    "DigestItem",
    "Email",
    "FetchOutcome",
    "KnownUrl",
    "LinkShape",
    "Match",
    "OutboxMessage",
    "Source",
    "SourceSpec",
    "StorageError",
    "Store",
    "StoredArticle",
    "Topic",
    "TopicSpec",
    "from_iso",
    "identity_host",
    "identity_key",
    "percolate",
    "to_iso",
    "utcnow",
    "write_problem",
]
