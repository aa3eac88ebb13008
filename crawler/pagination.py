"""Articles over several pages: the page that continues an article, as the page says it.

Long articles of some sites go on at another address (Nikkan Gendai's ``/367061/2``, the
FAZ's ``-p2.html``, ``?page=2``), named by the page's ``<link rel="next">`` (read with the
article: crawler.extracted.Extracted.next_url); a topic on a word of page 2 never alerted.
It is followed only where its address is the page's own with a page number added (or the
next number): on most sites it names the next article (a WordPress theme's post navigation,
a gallery's next picture), which is no part of this one.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from storage import identity_host

#: How many pages an article is read over at most (the first included).
MAX_ARTICLE_PAGES = 5

#: Query parameters that number a page.
_PAGE_PARAMS = frozenset({"page", "p", "pg", "seite", "pagina", "pag", "strona", "sayfa",
                          "paged", "pageno", "page_no", "pn"})
#: A page number at the end of a path: "/2", "/page/2", "/seite-2", "-p2", "_p2" (before an
#: extension, if any). Not a bare "-2": WordPress's second post of a title
#: (``/polizeibericht-2/``, named by the first's rel="next"), a series' next day
#: (``-day-2``), a slug's own number (``covid-19``).
_PATH_PAGE = re.compile(
    r"(?:/(?:page|seite|pagina|strona)[-/]?|/|-p|_p)(\d{1,2})(/?)(\.[a-z]{2,5})?$",
    re.IGNORECASE)


def continues(current: str, candidate: str | None, page: int = 1) -> bool:
    """Whether ``candidate`` is the address of page ``page + 1`` of the article whose page
    ``page`` is at ``current``: the same address with that number (the first page's has
    none, or 1: ``/article/123`` naming ``/article/124`` is the next article)."""
    if not candidate:
        return False
    here, there = urlsplit(current), urlsplit(candidate)
    if there.scheme not in ("http", "https") or identity_host(
        here.hostname or ""
    ) != identity_host(there.hostname or ""):
        return False
    here_base, here_number = _numbered(here)
    there_base, there_number = _numbered(there)
    if here_number != page and not (page == 1 and here_number is None):
        return False
    return there_number == page + 1 and there_base == here_base


def _numbered(parts: Any) -> tuple[str, int | None]:
    """An address (urlsplit's parts) without its page number, and the number (None: none)."""
    query = parse_qsl(parts.query, keep_blank_values=True)
    numbers = [int(value) for key, value in query
               if key.lower() in _PAGE_PARAMS and value.isdigit()]
    if len(numbers) == 1:
        rest = [(k, v) for k, v in query if not (k.lower() in _PAGE_PARAMS and v.isdigit())]
        return urlunsplit(("", "", parts.path.rstrip("/"), urlencode(rest), "")), numbers[0]
    path = parts.path
    found = _PATH_PAGE.search(path)
    number = None
    if found is not None and int(found.group(1)) >= 1:
        number = int(found.group(1))
        path = path[: found.start()] + (found.group(3) or "")
    return urlunsplit(("", "", path.rstrip("/"), parts.query, "")), number
