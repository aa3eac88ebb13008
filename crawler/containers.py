"""Where each site's pages hold their article, learnt from its pages as they are extracted.

A page extracted in full tells which element held its article (``Extracted.container``, a
path of tags and class and id names from the page's body). When a site's pages agree on it
LEARN_AFTER times in a row (pages that tell no element in between: an index page, a text
from trafilatura's default pass), its next pages go to the page workers with that path,
and are extracted from that element alone: about half the cost of the whole page's
extraction, with the same text (``crawler.extract.extract_article``). A page without that
element, or whose cut is not kept there, is extracted in full there and then; when that
finds the article in another element, the site learns again. One page in CHECK_EVERY is
extracted in full anyway, to see that the site still holds its article there.

Kept for the life of the crawl process (the runner's), MAX_SITES sites at most (the least
recently seen forgotten first). A page's path is looked up when the page is sent to a page
worker (``crawler.workers.Late``: in a cold crawl a site's pages wait in the pool's queue
while its first ones are extracted; until the site is learnt, a page is sent no earlier than
as its worker's next page), in the pool's threads; what a page's extraction found is learnt
there too, as soon as its worker answers (``crawler.workers.PagePool.run``'s ``answered``),
before that worker's next page is sent: the lookups hold a lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from .extracted import CONTAINER_SEP, Extracted

#: Full extractions in a row that found the article in the same element before the site's
#: next pages are cut to it. Two: a wrong element costs little, as every cut page is
#: checked on its own (the element there once, holding two fifths of the page's paragraph
#: text, its text taken by the fast pass) and goes in full otherwise.
LEARN_AFTER = 2
#: One page in this many of a learnt site is extracted in full, to check the element: for
#: the one change those checks miss, an article moved out of an element that still holds
#: most of the page's paragraphs and a text the fast pass takes.
CHECK_EVERY = 50
#: Sites remembered at most.
MAX_SITES = 20_000


@dataclass
class _Site:
    path: str | None = None  # where the last full extractions found the article
    agree: int = 0  # how many in a row
    handed: int = 0  # pages handed the path since the last full extraction


class Containers:
    """The learnt article elements of sites (see the module's documentation)."""

    def __init__(self, *, learn_after: int = LEARN_AFTER, check_every: int = CHECK_EVERY,
                 max_sites: int = MAX_SITES) -> None:
        self.learn_after = learn_after
        self.check_every = check_every
        self.max_sites = max_sites
        self._sites: OrderedDict[str, _Site] = OrderedDict()
        self._lock = threading.Lock()

    def learnt(self, site: str) -> str | None:
        """The element the site's articles are known to stand in, if it is known."""
        with self._lock:
            known = self._sites.get(site)
            return known.path if known is not None and known.agree >= self.learn_after else None

    def is_learnt(self, site: str) -> bool:
        """Whether the site's element is learnt (:meth:`learnt`)."""
        return self.learnt(site) is not None

    def hint(self, site: str) -> str | None:
        """The path to extract the site's next page from; None: extract it in full."""
        with self._lock:
            known = self._sites.get(site)
            if known is None or known.path is None or known.agree < self.learn_after:
                return None
            known.handed += 1
            if known.handed >= self.check_every:
                known.handed = 0
                return None
            return known.path

    def seen(self, site: str, page: Extracted | None) -> None:
        """What the extraction of one of the site's pages gave (None: no article)."""
        with self._lock:
            if page is not None and page.cut:
                if site in self._sites:
                    self._sites.move_to_end(site)
                return  # the element still holds the article
            known = self._sites.get(site)
            if known is None:
                known = self._sites[site] = _Site()
                if len(self._sites) > self.max_sites:
                    self._sites.popitem(last=False)
            else:
                self._sites.move_to_end(site)
            path = page.container if page is not None else None
            if path is None:
                # No article, or none that the fast pass gave whole in one element (the
                # default pass's text, lines that trafilatura joined): nothing learnt.
                return
            if known.path is not None and path != known.path:
                # One inside the other (a page whose lede stands above its body, one
                # without): the outer one holds both.
                outer = _outer(path, known.path)
                if outer is not None:
                    known.path = path = outer
            if path != known.path:
                # Extracted in full (in turn, or because the page had no such element, or
                # its cut was not kept), the article was found in another element: learn
                # again, from this page.
                known.path = path
                known.agree = 0
                known.handed = 0
            known.agree += 1


def _outer(one: str, other: str) -> str | None:
    """The path of the two that holds the other's element, if one does."""
    short, long = sorted((one, other), key=len)
    return short if long.startswith(short + CONTAINER_SEP) else None
