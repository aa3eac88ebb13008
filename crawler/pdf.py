"""The text of a PDF that a feed links to (a court's ruling, a central bank's statement, a
regulator's press release): read with pypdf in a page worker, as a page's article is.

A PDF is what such sources publish; its text was never read, and a topic on what it says
never alerted (a review: only the feed's one-line summary was matched). Bounded as a page
is (crawl.max_size for its bytes; the page workers' timeout for a hostile one), and here in
pages (MAX_PAGES) and characters (MAX_CHARS): a 900-page annual report's first pages carry
what it is about. An encrypted PDF that opens without a password is read; one that needs a
password, or one pypdf cannot read, has no text (the feed's summary is kept, as for a page
without an article).

A page served as plain text (a release or a filing as a .txt) is such a document too: its
text is the article (:func:`document_article`), which no extraction of markup finds.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from datetime import UTC, datetime

from .extracted import Extracted, Method

logger = logging.getLogger(__name__)

#: Pages read at most, and characters of text kept.
MAX_PAGES = 60
MAX_CHARS = 200_000
#: The first bytes of a PDF (after any whitespace or a stray byte order mark).
MAGIC = b"%PDF-"
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?")
#: A metadata title that is no title: the file's name, as a word processor or a converter
#: writes it ("Microsoft Word - PR_12.docx", "statement.pdf", "brochure.indd"), or its
#: placeholder for a document never named ("untitled", "Document1", "Slide 1").
_NO_TITLE = re.compile(
    r"microsoft \w+ - .*|.*\.(?:docx?|pdf|indd|qxd|rtf|odt|pptx?|xlsx?)"
    r"|(?:untitled|document|presentation|slide)(?: ?-? ?\d+)?", re.IGNORECASE)


def is_pdf(body: bytes) -> bool:
    """Whether ``body`` is a PDF (by its own first bytes, whatever its server says)."""
    return body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n\x00").startswith(MAGIC)


def pdf_article(body: bytes) -> Extracted | None:
    """The text of the PDF ``body`` (its title from its metadata, else its first line; its
    date from its metadata), or None when it has none that pypdf can read."""
    import pypdf  # the page workers' only use of it
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings a malformed file
    try:
        reader = pypdf.PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        parts: list[str] = []
        size = 0
        for page in reader.pages[:MAX_PAGES]:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size >= MAX_CHARS:
                break
        meta = reader.metadata
    except (PdfReadError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            AssertionError, RecursionError, NotImplementedError, OSError, ZeroDivisionError):
        return None  # a file pypdf cannot read: as a page without an article
    # NFKC: the ligatures typesetting puts in words ("misﬁts" with U+FB01), which no
    # topic's "misfits" matched.
    return document_article(unicodedata.normalize("NFKC", "\n".join(parts)), "pdf",
                            _title(meta), _metadata(meta, "author"),
                            _date(_metadata(meta, "creation_date_raw")))


def document_article(raw: str, method: Method, title: str | None = None,
                     author: str | None = None, date: str | None = None) -> Extracted | None:
    """The article of a document's text ``raw`` (a PDF's, a plain-text page's): its lines,
    spaces collapsed and blank lines one, MAX_CHARS at most; titled ``title``, else by its
    first line; None when it has no text (a scan without a text layer, a blank page)."""
    lines = [_SPACES.sub(" ", line).strip() for line in raw.splitlines()]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()[:MAX_CHARS]
    if not text:
        return None
    return Extracted(text=text, title=title or next(line for line in lines if line),
                     author=author, date=date, canonical_url=None, method=method)


def _metadata(meta: object, name: str) -> str | None:
    try:
        value = getattr(meta, name, None) if meta is not None else None
    except Exception:  # pypdf reads the metadata lazily: a broken dictionary raises here
        return None
    text = " ".join(str(value).split()) if value else ""
    return text[:300] or None


def _title(meta: object) -> str | None:
    """The PDF's metadata title, unless it is a file name or a placeholder (_NO_TITLE):
    such a title was an item's headline ("Microsoft Word - PR_12.docx") where its first
    line names it."""
    title = _metadata(meta, "title")
    return None if title is None or _NO_TITLE.fullmatch(title) else title


def _date(raw: str | None) -> str | None:
    """A PDF date (``D:20261205093000+01'00'``) as YYYY-MM-DD, as trafilatura gives a
    page's; None when it is none, or ahead of now."""
    found = _PDF_DATE.match(raw or "")
    if not found:
        return None
    try:
        when = datetime(int(found[1]), int(found[2] or 1), int(found[3] or 1), tzinfo=UTC)
    except ValueError:
        return None
    return when.date().isoformat() if when <= datetime.now(UTC) else None
