"""The Store: the one object through which the rest of newswatch reads and writes SQLite."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from .articles import ArticlesMixin
from .db import open_database
from .digests import DigestsMixin
from .health import HealthMixin
from .linkshapes import LinkShapesMixin
from .maintenance import MaintenanceMixin
from .outbox import OutboxMixin
from .revisions import RevisionsMixin
from .sources import SourcesMixin
from .stories import StoriesMixin
from .topics import TopicsMixin


class Store(
    SourcesMixin,
    ArticlesMixin,
    RevisionsMixin,
    TopicsMixin,
    StoriesMixin,
    OutboxMixin,
    DigestsMixin,
    HealthMixin,
    MaintenanceMixin,
    LinkShapesMixin,
):
    """All persistent state of newswatch, in one SQLite file."""

    def __init__(self, db: Database, path: Path | None = None) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open the database file at ``path``, creating and migrating it as needed."""
        return cls(open_database(path), Path(path))

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
