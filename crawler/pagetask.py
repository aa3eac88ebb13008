"""The page workers' task: a page's bytes, as they came, decoded and extracted in the worker.

The crawl process hands each page over as the bytes it received and the encoding Scrapy found
for them: it never decodes the page, and pickling bytes is a copy, where pickling a 70 KB
text with non-Latin-1 characters encodes it to UTF-8 (about 0.2 ms) for the worker to decode
it again.
"""

from __future__ import annotations

from .extract import extract_article
from .extracted import Extracted, page_text
from .pdf import document_article, is_pdf, pdf_article


def extract_page(
    html: str | bytes, url: str, encoding: str | None = None, container: str | None = None,
    author: bool = True, date: bool = True, plain: bool = False,
) -> Extracted | None:
    """The article of the page ``html`` (its text, or its bytes in ``encoding``) at ``url``;
    ``container``: where the site's articles were found; ``author`` / ``date`` False: not
    looked for on the page, the feed gives them (:func:`extract_article`). A PDF's bytes
    give its text (crawler.pdf); so does a page its server sends as plain text (``plain``),
    unless it holds markup (HTML that a server calls text/plain: a browser shows it so, but
    it is an article page)."""
    if isinstance(html, bytes) and is_pdf(html):
        return pdf_article(html)
    text = page_text(html, encoding)
    if plain and not text.lstrip().startswith("<"):
        return document_article(text, "text")
    return extract_article(text, url, container, author=author, date=date)
