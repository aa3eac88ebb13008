"""The words of each article, for PostgreSQL's archive search (storage.pg, schema 47).

PostgreSQL reads no FTS5 expression: its search runs each article through
:func:`storage.percolate`, and used to read the whole archive to do so (a rare word over a
year's 400,000 articles: 73 s). ``article_words`` holds each article's distinct words
(title, text and source) as FTS5 reads them (watchlist.tokens: the matching's own tokenizer,
diacritics folded, each CJK character a word) in a ``tsvector`` made from that list as it is
(a literal: no parser, no dictionary of PostgreSQL's), under a GIN index. A
search first lists the articles holding every word its expression requires
(:func:`required`), and only those go through FTS5: an article FTS5 matches holds every
token of each phrase it matched in one of its columns, so the list holds every article the
search finds, and the answer is FTS5's, as before.

An article whose words are not listed yet (``words`` NULL: stored, or its title, text or
source changed since; triggers of schema 47 keep that) is always read. The upgrade to 47
adds every stored article so (seconds: listing a year's archive takes minutes, which no
upgrade waits for); a :class:`Filler` lists them in the background from each checkpoint on
(the daemon's first, a minute after it starts, then hourly), and :func:`fill` a bounded
number at each cron ``crawl``'s end. Until a search's words are listed in few enough
articles it reads the archive newest first, as before the lists.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

from storage.errors import cancelled_by_stop
from storage.segment import segment

logger = logging.getLogger(__name__)

#: A word is listed by its first WORD_BYTES bytes at most (PostgreSQL's lexemes are under 2 KB);
#: a longer word of a query is looked for as a prefix of that length.
WORD_BYTES = 255
#: The most bytes of words an article's list holds (a ``tsvector`` is under 1 MB); an article
#: with more is listed as :data:`READ_ALWAYS` alone, read by every search.
LIST_BYTES = 900_000
#: The word of an article every search reads: a separator, never a word of FTS5's.
READ_ALWAYS = "!"
#: Articles listed a transaction (about 0.25 s: an edit of one of them waits that long).
BATCH = 500
#: The advisory lock under which articles are listed: one filler at a time on a database.
WORDS_LOCK = 0x6E77776F  # "nwwo"
#: How long a filler waits for another process's to end its batch before trying again.
TURN_SECONDS = 1.0

#: The pieces of an FTS5 expression as watchlist.compile writes them.
_PIECE = re.compile(r'\s*(?:("[^"]*")(\*)?|(\(|\)|\{|\}|:|,)|([A-Za-z0-9_]+))')


def _listed(word: str) -> str:
    """``word`` cut to its first WORD_BYTES bytes (whole characters)."""
    if len(word) <= WORD_BYTES // 4:  # a character takes 4 bytes at most
        return word
    data = word.encode()
    if len(data) <= WORD_BYTES:
        return word
    return data[:WORD_BYTES].decode(errors="ignore")


def _quoted(word: str) -> str:
    """``word`` as a lexeme of a ``tsvector`` or ``tsquery`` literal, taken as it is."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def vector(*texts: str) -> str:
    """The ``tsvector`` literal of the words of ``texts``: each word as it is, without
    PostgreSQL's parser or dictionaries (a literal is read so). No word holds a quote or a
    backslash (separators for FTS5), which a literal would escape."""
    listed = words(*texts)
    return "'" + "' '".join(listed) + "'" if listed else ""


def words(*texts: str) -> list[str]:
    """The distinct words of ``texts`` as the archive's search lists them."""
    from watchlist.tokens import distinct_tokens  # the matching's tokenizer (it imports storage)

    found = {_listed(token) for text in texts for token in distinct_tokens(text)}
    if (sum(map(len, found)) * 4 > LIST_BYTES
            and sum(len(word.encode()) for word in found) > LIST_BYTES):
        return [READ_ALWAYS]
    return list(found)


def _lexeme(word: str, prefix: bool) -> str:
    cut = _listed(word)
    return _quoted(cut) + (":*" if prefix or cut != word else "")


class _Unknown(Exception):
    """An expression this module does not read: the search reads every article."""


class _Reader:
    """Reads an FTS5 expression of watchlist.compile's forms: quoted phrases (``*`` for a
    prefix), ``NEAR(phrases, n)``, column filters, parentheses, AND, OR and NOT (NOT binding
    tightest, OR loosest)."""

    def __init__(self, expression: str) -> None:
        self.pieces: list[tuple[str, str]] = []
        at = 0
        expression = expression.rstrip()
        while at < len(expression):
            found = _PIECE.match(expression, at)
            if found is None:
                raise _Unknown(expression[at:])
            phrase, star, mark, word = found.groups()
            if phrase is not None:
                self.pieces.append(("phrase", phrase[1:-1] + ("*" if star else "")))
            else:
                self.pieces.append(("mark", mark) if mark else ("word", word))
            at = found.end()
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.pieces[self.at] if self.at < len(self.pieces) else None

    def take(self, *wanted: tuple[str, str]) -> tuple[str, str]:
        piece = self.peek()
        if piece is None or (wanted and piece not in wanted):
            raise _Unknown(str(piece))
        self.at += 1
        return piece

    def whole(self) -> str:
        query = self.any_of()
        if self.peek() is not None:
            raise _Unknown(str(self.peek()))
        return query

    def any_of(self) -> str:
        found = [self.all_of()]
        while self.peek() == ("word", "OR"):
            self.take()
            found.append(self.all_of())
        return found[0] if len(found) == 1 else "(" + " | ".join(found) + ")"

    def all_of(self) -> str:
        found = [self.without()]
        while self.peek() == ("word", "AND"):
            self.take()
            found.append(self.without())
        return " & ".join(found)

    def without(self) -> str:
        found = self.atom()
        while self.peek() == ("word", "NOT"):
            self.take()
            self.atom()  # what is excluded requires nothing
        return found

    def atom(self) -> str:
        kind, value = self.take()
        if (kind, value) == ("mark", "("):
            inner = self.any_of()
            self.take(("mark", ")"))
            return "(" + inner + ")"
        if (kind, value) == ("mark", "{"):
            while self.take()[0] == "word":
                pass
            self.at -= 1
            self.take(("mark", "}"))
            self.take(("mark", ":"))
            return self.atom()  # a column filter only narrows where the words are
        if kind == "word" and value == "NEAR":
            self.take(("mark", "("))
            found = [self.phrase(self.take())]
            while self.peek() not in (("mark", ","), ("mark", ")")):
                found.append(self.phrase(self.take()))
            if self.take() == ("mark", ","):
                if not self.take()[1].isdigit():
                    raise _Unknown("NEAR")
                self.take(("mark", ")"))
            return " & ".join(found)
        if kind == "word" and value in ("title", "text", "source"):
            self.take(("mark", ":"))
            return self.atom()
        return self.phrase((kind, value))

    def phrase(self, piece: tuple[str, str]) -> str:
        kind, value = piece
        if kind != "phrase":
            raise _Unknown(value)
        prefix = value.endswith("*")
        content = value[:-1] if prefix else value
        from watchlist.tokens import tokenize

        tokens = [token for _, _, token in tokenize(content)]
        # FTS5 reads the phrase as it is, the tokenizer the archive as storage.segment gives
        # it: the same words only where segmenting changes no more than the spaces.
        if not tokens or segment(content).split() != content.split():
            raise _Unknown(value)
        found = [_lexeme(t, prefix and i == len(tokens) - 1) for i, t in enumerate(tokens)]
        return found[0] if len(found) == 1 else "(" + " & ".join(found) + ")"


def required(expression: str) -> str | None:
    """The ``tsquery`` of the words an article must hold for the FTS5 ``expression`` to
    match it (or hold :data:`READ_ALWAYS`), or None where the expression is not of the forms
    watchlist.compile writes (then every article is read)."""
    try:
        return "(" + _Reader(expression).whole() + f") | '{READ_ALWAYS}'"
    except _Unknown:
        return None


def _batch(db: Any, after: int, size: int) -> tuple[int, int] | None:
    """List the words of up to ``size`` unlisted articles (``words`` NULL) past the id
    ``after``, in one transaction under WORDS_LOCK: how many, and the last one's id; None
    while another filler holds the lock (two never list the same articles).

    A list is written only if its article has not changed since it was read: a change bumps
    the row's ``version`` (its trigger), which this update waits for and then misses."""
    with db.atomic():
        if not db.execute("SELECT pg_try_advisory_xact_lock(?)", [WORDS_LOCK]).fetchone()[0]:
            return None
        rows = list(db.query(
            "SELECT w.article_id, w.version, a.title, a.text, a.source FROM article_words w"
            " JOIN articles a ON a.id = w.article_id WHERE w.words IS NULL"
            " AND w.article_id > ? ORDER BY w.article_id LIMIT ?",
            [after, size],
        ))
        if not rows:
            return 0, after
        db.executemany(
            "UPDATE article_words SET words = ?::tsvector WHERE article_id = ? AND version = ?",
            [(vector(r["title"], r["text"], r["source"]), r["article_id"], r["version"])
             for r in rows],
        )
    return len(rows), rows[-1]["article_id"]


def fill(db: Any, most: int) -> int:
    """List the words of ``most`` unlisted articles at most, oldest first, in the caller's
    time; how many (none while another filler is at it: the rest are its)."""
    done, last = 0, 0
    while done < most:
        batch = _batch(db, last, min(BATCH, most - done))
        if not batch or not batch[0]:
            return done
        done += batch[0]
        last = batch[1]
    return done


class Filler:
    """Lists the words of every unlisted article in a thread of its own, on a connection of
    its own, BATCH at a time: the daemon's event loop never waits for it (after the upgrade
    to schema 47, a year's archive takes minutes; an hour's articles, a second). One runs at
    a time in a process; one in several processes lists at a time (WORDS_LOCK), the others
    waiting their turn, and :meth:`stop` ends it after the batch being written."""

    #: The filler whose thread runs in this process, if any.
    _running: ClassVar[Filler | None] = None
    _starting: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, open_db: Callable[[], Any]) -> None:
        """``open_db``: a new connection (PgDatabase) to the database, closed after."""
        self._open_db = open_db
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """List the unlisted articles' words in the background, unless a filler of this
        process is at it already: whether this one started."""
        with Filler._starting:
            running = Filler._running
            if running is not None and running._thread and running._thread.is_alive():
                return False
            self._stop.clear()
            # A daemon thread: a process ending without stop() is not held by it (the
            # server rolls the open batch back).
            self._thread = threading.Thread(target=self._run, name="article words",
                                            daemon=True)
            Filler._running = self
            self._thread.start()
            return True

    def wait(self, timeout: float) -> bool:
        """Whether the listing this filler started has ended, waiting ``timeout`` seconds
        at most."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        """End the listing after the batch being written (a process stopping)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        began = time.monotonic()
        done, last = 0, 0
        try:
            db = self._open_db()
            try:
                while not self._stop.is_set():
                    batch = _batch(db, last, BATCH)
                    if batch is None:  # another process's filler is at it: its turn
                        self._stop.wait(TURN_SECONDS)
                        continue
                    if not batch[0]:
                        break
                    done += batch[0]
                    last = batch[1]
                if done > BATCH:
                    # The planner's statistics were those of the lists missing: a rare word's
                    # search then read every article's list (a year's archive: 2 s, not 0.01).
                    db.execute("ANALYZE article_words")
            finally:
                db.close()
        except Exception as exc:  # the database gone: the next checkpoint starts again
            if cancelled_by_stop(exc):  # its statement, waiting for a lock: no failure
                logger.info("listing the articles' words for the search stopped after %d, "
                            "the process stopping: it resumes at the next checkpoint", done)
            else:
                logger.warning("listing the articles' words for the search stopped after "
                               "%d: %s", done, " ".join(str(exc).split()))
            return
        if done > BATCH:
            logger.info("listed the words of %d article(s) for the search in %.0f s", done,
                        time.monotonic() - began)
