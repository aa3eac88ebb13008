"""What each site's links led to: per URL shape (see crawler.shapes.link_shape), how many
followed links of that shape were articles and how many were not.

The crawler reads a site's tally before it picks the article links of a page without a feed
and adds to it as each followed link settles; it survives restarts like everything stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from .clock import from_iso, to_iso

#: A shape whose followed links were this many non-articles, and never an article, is no
#: longer followed (crawler.links).
DROP_AFTER = 3
#: A shape that never led to an article is forgotten this long after its last link was
#: followed, so that its links are tried again (the site, or newswatch's extraction, may
#: have changed).
FORGET_AFTER = timedelta(days=30)

#: Migration 10 (see storage.schema.MIGRATIONS): the per-site tally of link shapes.
LINK_SHAPES_MIGRATION = """
CREATE TABLE link_shapes (
    site TEXT NOT NULL,
    shape TEXT NOT NULL,
    articles INTEGER NOT NULL DEFAULT 0,
    others INTEGER NOT NULL DEFAULT 0,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (site, shape)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class LinkShape:
    """What the followed links of one URL shape of a site turned out to be."""

    site: str
    shape: str
    articles: int
    others: int
    last_seen: datetime | None

    @property
    def dropped(self) -> bool:
        """Whether links of this shape are no longer followed."""
        return self.others >= DROP_AFTER and not self.articles

    @property
    def tried_again(self) -> datetime | None:
        """When the links of a shape no longer followed are tried again (FORGET_AFTER after
        its last followed link); None for a shape that is followed."""
        if not self.dropped or self.last_seen is None:
            return None
        return self.last_seen + FORGET_AFTER


class LinkShapesMixin:
    """The per-site tally of link shapes."""

    db: Database

    def note_link_shape(self, site: str, shape: str, *, article: bool, now: datetime) -> None:
        """Count one followed link of ``shape`` on ``site`` as an article or not."""
        self.db.execute(
            """
            INSERT INTO link_shapes (site, shape, articles, others, last_seen)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(site, shape) DO UPDATE SET
                articles = articles + excluded.articles,
                others = others + excluded.others,
                last_seen = excluded.last_seen
            """,
            [site, shape, int(article), int(not article), to_iso(now)],
        )

    def link_shapes(self, site: str, now: datetime) -> dict[str, tuple[int, int]]:
        """A site's tally: shape → (articles, non-articles), without the shapes that never
        led to an article and were last followed more than FORGET_AFTER before ``now``."""
        rows = self.db.execute(
            "SELECT shape, articles, others FROM link_shapes "
            "WHERE site = ? AND (articles > 0 OR last_seen >= ?)",
            [site, to_iso(now - FORGET_AFTER)],
        ).fetchall()
        return {shape: (articles, others) for shape, articles, others in rows}

    def learned_link_shapes(self, site: str | None = None) -> list[LinkShape]:
        """Every learnt shape (of one site, or of all), most followed first."""
        where, params = ("WHERE site = ?", [site]) if site else ("", [])
        rows = self.db.execute(
            f"SELECT site, shape, articles, others, last_seen FROM link_shapes {where} "
            "ORDER BY site, articles + others DESC, shape",
            params,
        ).fetchall()
        return [LinkShape(s, shape, a, o, from_iso(seen)) for s, shape, a, o, seen in rows]
