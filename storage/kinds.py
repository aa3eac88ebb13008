"""The closed sets that cross package boundaries, as ``Literal`` types (cheap to import:
``newswatch --help`` reads them without the records of ``storage.models``)."""

from __future__ import annotations

from typing import Literal

#: Where an article's stored text comes from: the page, by the pass of the extraction
#: cascade that found it (``page:fast``, ``page:precision``, ``page:default``,
#: ``page:recall``; see crawler.extract), the text of a PDF (``page:pdf``, crawler.pdf) or of
#: a page served as plain text (``page:text``), or the feed's summary (``feed``). Rows stored
#: before the cascade say ``page``, which meant what ``page:precision`` means now.
Extraction = Literal["page:fast", "page:precision", "page:default", "page:recall", "page:pdf",
                     "page:text", "feed"]
#: What a source serves: a feed (RSS, Atom, JSON Feed), a sitemap, or a page whose article
#: links are followed (a home or section page).
SourceKind = Literal["feed", "sitemap", "page"]
#: When a topic's alerts go out: each crawl cycle, or in the recipients' digests.
TopicMode = Literal["immediate", "digest"]
#: Where a source or topic was declared: the config file, or the command line (kept in the
#: database across config reloads).
Origin = Literal["config", "cli"]
#: Why an alert waits for a digest: its topic is in digest mode, or storm control folded it.
DigestReason = Literal["digest", "storm"]
