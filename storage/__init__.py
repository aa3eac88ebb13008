"""Storage: every byte newswatch keeps, in one SQLite file or one PostgreSQL database
(``storage.pg``; the only package with SQL).

The rest of newswatch opens it with :func:`open_store` and sees it through the ports of
:mod:`storage.ports` (one ``Protocol`` per consumer), with the records of ``storage.models``
and ``storage.views`` crossing them.

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
from .ports import (
    AlertCounts,
    Archive,
    ConfigSync,
    CrawlStore,
    DeliveryStore,
    DigestStore,
    Gauges,
    HealthStore,
    MatchStore,
    PipelineStore,
    SourceAdmin,
    SourceSchedule,
    StatusStore,
    Storage,
    StorySources,
    TemplateMemory,
    TopicAdmin,
    Upkeep,
)
from .views import (
    DigestStatus,
    ExportedArticle,
    OutboxProblem,
    SourceHealth,
    SourceStatus,
    StoryArticle,
    StoryView,
    TopicStatus,
)

if TYPE_CHECKING:
    from .backend import open_store
    from .db import write_problem
    from .digests import DigestItem
    from .linkshapes import LinkShape
    from .store import Store

_LAZY = {
    "DigestItem": ".digests",
    "LinkShape": ".linkshapes",
    "Store": ".store",
    "open_store": ".backend",
    "write_problem": ".db",
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "AlertCounts",
    "Archive",
    "Article",
    "ConfigSync",
    "CrawlStore",
    "DeliveryStore",
    "DigestItem",
    "DigestReason",
    "DigestStatus",
    "DigestStore",
    "Email",
    "ExportedArticle",
    "Extraction",
    "FetchOutcome",
    "Gauges",
    "HealthStore",
    "KnownUrl",
    "LinkShape",
    "Match",
    "MatchStore",
    "Origin",
    "OutboxMessage",
    "OutboxProblem",
    "PipelineStore",
    "Source",
    "SourceAdmin",
    "SourceHealth",
    "SourceKind",
    "SourceSchedule",
    "SourceSpec",
    "SourceStatus",
    "StatusStore",
    "Storage",
    "StorageError",
    "Store",
    "StoredArticle",
    "StoryArticle",
    "StorySources",
    "StoryView",
    "TemplateMemory",
    "Topic",
    "TopicAdmin",
    "TopicMode",
    "TopicSpec",
    "TopicStatus",
    "Upkeep",
    "from_iso",
    "identity_host",
    "identity_key",
    "open_store",
    "percolate",
    "to_iso",
    "utcnow",
    "write_problem",
]
