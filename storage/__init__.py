"""Storage: every byte newswatch keeps, in one SQLite file or one PostgreSQL database
(``storage.pg``; the only package with SQL).

The rest of newswatch opens it with :func:`open_store` and sees it through the ports of
:mod:`storage.ports` (one ``Protocol`` per consumer), with the records of ``storage.models``
and ``storage.views`` crossing them.

Errors::

    StorageError    the database cannot be opened, migrated or written
    NewerSchema     ... because a newer newswatch made it

Only the errors and :func:`percolate` load with the package; every other name loads on first
use (PEP 562), so that ``newswatch --help`` builds none of the records and ports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import NewerSchema, StorageError
from .lazy import lazy_exports
from .percolate import percolate

if TYPE_CHECKING:
    from .backend import open_store
    from .clock import from_iso, to_iso, utcnow
    from .db import lock_path, write_problem
    from .digests import DigestItem
    from .identity import identity_host, identity_key
    from .kinds import DigestReason, Extraction, Origin, SourceKind, TopicMode
    from .linkshapes import LinkShape
    from .models import (
        Article,
        DeferredEntry,
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
    )
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
    from .store import Store
    from .views import (
        DigestStatus,
        ExportedArticle,
        OutboxProblem,
        SourceHealth,
        SourceStatus,
        StoryArticle,
        StoryView,
        TopicStatus,
        is_stale,
    )

_LAZY = {
    "AlertCounts": ".ports",
    "Archive": ".ports",
    "Article": ".models",
    "ConfigSync": ".ports",
    "CrawlStore": ".ports",
    "DeferredEntry": ".models",
    "DeliveryStore": ".ports",
    "DigestItem": ".digests",
    "DigestReason": ".kinds",
    "DigestStatus": ".views",
    "DigestStore": ".ports",
    "Email": ".models",
    "ExportedArticle": ".views",
    "Extraction": ".kinds",
    "FetchOutcome": ".models",
    "Gauges": ".ports",
    "HealthStore": ".ports",
    "KnownUrl": ".models",
    "LinkShape": ".linkshapes",
    "Match": ".models",
    "MatchStore": ".ports",
    "Origin": ".kinds",
    "OutboxMessage": ".models",
    "OutboxProblem": ".views",
    "PipelineStore": ".ports",
    "Source": ".models",
    "SourceAdmin": ".ports",
    "SourceHealth": ".views",
    "SourceKind": ".kinds",
    "SourceSchedule": ".ports",
    "SourceSpec": ".models",
    "SourceStatus": ".views",
    "StatusStore": ".ports",
    "Storage": ".ports",
    "Store": ".store",
    "StoredArticle": ".models",
    "StoryArticle": ".views",
    "StorySources": ".ports",
    "StoryView": ".views",
    "TemplateMemory": ".ports",
    "Topic": ".models",
    "TopicAdmin": ".ports",
    "TopicMode": ".kinds",
    "TopicSpec": ".models",
    "TopicStatus": ".views",
    "Upkeep": ".ports",
    "from_iso": ".clock",
    "identity_host": ".identity",
    "is_stale": ".views",
    "identity_key": ".identity",
    "open_store": ".backend",
    "to_iso": ".clock",
    "utcnow": ".clock",
    "write_problem": ".db",
    "lock_path": ".db",
}


__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "AlertCounts",
    "Archive",
    "Article",
    "ConfigSync",
    "CrawlStore",
    "DeferredEntry",
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
    "NewerSchema",
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
    "is_stale",
    "lock_path",
    "open_store",
    "percolate",
    "to_iso",
    "utcnow",
    "write_problem",
]
