"""The PostgreSQL backend: every port of :mod:`storage.ports` on one shared database, for
several machines (docs/scale-out.md). Chosen by ``[database] url = "postgresql://…"``;
psycopg 3 loads only here, never on the SQLite path.

It runs the SQL of the SQLite mixins through :class:`PgDatabase`, a wrapper with the part of
``sqlite_utils.Database`` they use, which speaks PostgreSQL: ``?`` becomes ``%s``,
``INSERT OR IGNORE`` becomes ``ON CONFLICT DO NOTHING``, an insert into a table with an id
returns it (``lastrowid``), and the few statements of SQLite's own dialect are rewritten
(``_REWRITES``, each covered by the storage tests run on both backends). So the two backends
share one implementation of what is stored and when; what differs is here:

- the schema (``storage.pgschema``, the same versions as ``storage.schema``);
- **outbox claims**: :meth:`PgStore.due_outbox` claims the due rows with
  ``SELECT … FOR UPDATE SKIP LOCKED`` and writes the claiming server session into them
  (``claimed_by``: its pid, ``claim_started``: when that session began). Other senders skip
  a row being claimed and, once the claim is committed, a row whose claiming session is
  still alive; the claimer itself gets its rows again (its session: pid and start). A
  sender that dies closes its session (a vanished machine's session is ended by the
  server's TCP keepalives), and its rows whose send had not begun are due again at once,
  with the same stored Message-ID. A row whose send had begun (:meth:`PgStore.sending`
  stamps ``sending``) may have been accepted by the mail server: another sender takes it
  only ``claim_lease`` after that stamp or PostgreSQL's start, whichever is later — time
  for its sender, started again, to write its "sent" mark from its **sent journal**
  (``storage.journal``: the alerter role's marks are synced to a local file before the
  database is told, and replayed before each claim). The claim names that file too
  (``claim_journal``): a sender of the same machine that replays the file of a dead
  process lets go of its claims at once, the marks written (an alerter killed mid-send and
  started again 10 s later waited the lease for its own row). A row a delivery run leaves
  untried, the mail server down, is let go too (``not_sent``): another alerter, whose
  machine reaches the server, sends it. Senders must connect as one role (or
  one with ``pg_read_all_stats``) to see each other's sessions in ``pg_stat_activity``.
  (The port hands a batch to the sender and marks rows afterwards, so the claim is the
  session's rather than a transaction's row lock held across each send as
  docs/scale-out.md sketches.)
- **archive search**: the query language compiles to FTS5 expressions, which PostgreSQL
  does not read. :meth:`PgStore.search` reads the archive newest first, a page at a time,
  and keeps what :func:`storage.percolate` (FTS5 in memory, the archive's tokenizer) finds
  in each page: the same answer as SQLite, at a cost that grows with the articles read. The
  articles read are only those holding every word the expression requires (``article_words``,
  ``storage.pgwords``), unless too many do (a common word: the archive is read newest first).
- **backup**: a PostgreSQL database is backed up with ``pg_dump``; :meth:`PgStore.backup`
  raises StorageError saying so. ``checkpoint`` runs ``ANALYZE`` (the server checkpoints and
  vacuums by itself).
- **article counts**: a row added for each article stored (``storage.pgschema``, 38), never
  a source's row updated (crawlers storing articles of the same sources in other orders
  would deadlock); :meth:`PgStore.checkpoint` folds them into one row a source. The alerts'
  counts by status (39) and the topics' match counts (41) likewise.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg.types.string import StrBinaryDumper, StrDumperUnknown

from . import pgwords
from .articles import SELECT_STORED, ArticlesMixin, stored_article
from .clock import to_iso
from .digests import DigestsMixin
from .errors import NewerSchema, StorageError, guard_methods, without_password
from .health import HealthMixin
from .journal import SentJournal
from .linkshapes import LinkShapesMixin
from .maintenance import MaintenanceMixin
from .models import OutboxMessage, StoredArticle
from .outbox import CHANNEL_RECIPIENT, OutboxMixin, _message
from .percolate import percolate
from .pgschema import MIGRATIONS
from .revisions import RevisionsMixin
from .siteblocks import SiteBlocksMixin
from .sources import SourcesMixin
from .stories import StoriesMixin
from .topics import TopicsMixin
from .upgrade import UpgradeLog

if TYPE_CHECKING:
    from sqlite_utils import Database

logger = logging.getLogger(__name__)

#: Articles read at once by an archive search.

#: The advisory lock of the processes on a database: a one-process newswatch (``run`` without
#: roles, ``crawl``) takes it alone, the roles of a cluster shared.
INSTANCE_LOCK = 0x6E77696E  # "nwin"
#: The advisory lock key under which migrations run (processes starting together).
MIGRATION_LOCK = 0x6E657773  # "news"
#: The advisory lock under which the article counts are folded (PgStore.checkpoint).
COUNTS_LOCK = 0x6E77636E  # "nwcn"

#: The tables of counts kept as rows added (storage.pgschema, 38, 39, 41): each one's key, and
#: how each of its columns is folded.
_COUNTS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("article_counts", "source_id", {"n": "SUM(n)"}),
    ("outbox_counts", "status", {"n": "SUM(n)"}),
    ("match_counts", "topic_id", {"n": "SUM(n)", "alerted": "SUM(alerted)", "last": "MAX(last)"}),
)

#: Tables whose rows have an ``id``: an insert into one returns it.
_ID_TABLES = re.compile(r"^\s*INSERT INTO (articles|outbox|sources|topics|stories|digest_queue)\b")
_OR_IGNORE = re.compile(r"^\s*INSERT OR IGNORE INTO\b", re.IGNORECASE)

#: SQLite dialect in the shared SQL → PostgreSQL's (exact fragments).
_REWRITES = (
    # export_rows: the topics of an article, as a JSON array.
    ("json_group_array(t.name)", "json_agg(t.name)::text"),
    # digest_status: PostgreSQL sums no booleans, and wants every selected column grouped.
    ("SUM(q.reason = 'storm')", "SUM((q.reason = 'storm')::int)"),
    ("GROUP BY r.recipient ORDER BY", "GROUP BY r.recipient, s.handled ORDER BY"),
    # strip_texts: instr() is strpos(), and a CASE wants a boolean.
    (
        "WHEN instr(COALESCE(extraction_note, ''), 'site template removed') THEN",
        "WHEN strpos(COALESCE(extraction_note, ''), 'site template removed') > 0 THEN",
    ),
    # story_counts: a boolean sum, and a subquery needs a name (PostgreSQL < 16).
    ("COALESCE(SUM(n > 1), 0)", "COALESCE(SUM((n > 1)::int), 0)"),
    ("GROUP BY +st.id\n            )", "GROUP BY +st.id\n            ) AS per_story"),
    # upserts that add to the stored value: name the table's own column.
    ("attempts = attempts + excluded.attempts", "attempts = deferred_entries.attempts"
     " + excluded.attempts"),
    ("articles = articles + excluded.articles", "articles = link_shapes.articles"
     " + excluded.articles"),
    ("others = others + excluded.others", "others = link_shapes.others + excluded.others"),
    # unmatched_articles: the sources still being polled, one JSON array parameter.
    ("SELECT value FROM json_each(?)", "SELECT jsonb_array_elements_text(?::jsonb)::bigint"),
    # outbox_counts: SQLite's planner is told its index (PostgreSQL's needs no telling).
    ("FROM outbox INDEXED BY outbox_due", "FROM outbox"),
    # watermark: a shift wider than PostgreSQL's 32-bit integer literals.
    ("1 << 62", "(1::bigint << 62)"),
)


def translate(sql: str) -> tuple[str, bool]:
    """``sql`` (the SQLite dialect of the mixins) in PostgreSQL's, and whether it returns
    the id of the row it inserts."""
    for old, new in _REWRITES:
        sql = sql.replace(old, new)
    sql = sql.strip().rstrip(";").replace("%", "%%").replace("?", "%s")
    if match := _OR_IGNORE.match(sql):
        sql = "INSERT INTO" + sql[match.end() :] + " ON CONFLICT DO NOTHING"
    returns_id = bool(_ID_TABLES.match(sql)) and "RETURNING" not in sql.upper()
    if returns_id:
        sql += " RETURNING id"
    return sql, returns_id


class _Numeric(Loader):
    """``numeric`` (what ``SUM`` of integers gives) as an int when whole, as SQLite's."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if "." in text or "e" in text.lower() else int(text)


class _TextDumper(StrDumperUnknown):
    """A string as text, without its NULs: PostgreSQL's text cannot hold one (psycopg
    raises), SQLite's can. A server's ETag holding one ("a\\x00b") made every poll of its
    feed unrecordable, on PostgreSQL alone: none of its articles was ever stored. What a
    stranger gives reaches storage through many fields (validators, titles, error texts);
    none of them means anything by a NUL."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(obj.replace("\x00", "") if "\x00" in obj else obj)


class _BinaryTextDumper(StrBinaryDumper):
    """:class:`_TextDumper` for a binary parameter."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(obj.replace("\x00", "") if "\x00" in obj else obj)


class PgCursor:
    """What a statement gave: its rows (read at once), rowcount and inserted id."""

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None) -> None:
        self.rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Any]:
        return self.rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


#: Once the process is stopping, a statement waits this long at most for a lock another
#: session holds (PostgreSQL's lock_timeout), then fails: what it was to write is written
#: again at the next start, as SQLite's statements do then (storage.db.stop_waiting).
STOP_LOCK_TIMEOUT = "1s"

#: How long a stop's request to cancel a statement may take to reach the server.
CANCEL_SECONDS = 2.0

class AbandonedAtStop(psycopg.OperationalError):
    """A statement (or one after it on its connection) that failed because the process's
    stop shut its connection, the database not taking the stop's request to cancel it in
    time (PgDatabase.cancel): the stop's doing, not a database lost (the process exits as
    after any stop, not 1 to be started again). What it was to write is written at the next
    start, as for a statement the stop cancelled (storage.errors.said_stopping)."""


#: Set when the process is stopping (SIGTERM, SIGINT): see stop_waiting.
_stopping = threading.Event()
#: The connections of this process's stores, for stop_waiting to cancel their statements.
_open: weakref.WeakSet[PgDatabase] = weakref.WeakSet()


def stop_waiting() -> None:
    """The process is stopping: the statement each connection is running is cancelled (it
    fails), and the next ones wait for another session's locks STOP_LOCK_TIMEOUT at most. A
    statement waiting for a lock (a psql session's ``LOCK TABLE``, or its open transaction
    that updated the row of a source or an outbox message) held the event loop, and with it
    the stop: neither the one-process daemon nor a role heard SIGTERM until that session
    let go, past systemd's TimeoutStopSec (killed). Called from a signal handler (Python's:
    it runs between two waits of the statement)."""
    _stopping.set()
    for db in list(_open):
        db.cancel()


def stopping() -> bool:
    """Whether the process is stopping (stop_waiting was called)."""
    return _stopping.is_set()


class PgDatabase:
    """The part of ``sqlite_utils.Database`` the storage mixins use, on a psycopg
    connection in autocommit mode: a statement outside :meth:`atomic` commits by itself."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        #: What the process's stop abandoned when it shut this connection (cancel), or None.
        self.abandoned: str | None = None
        _open.add(self)

    def cancel(self) -> None:
        """Cancel the statement under way, if one is (stop_waiting)."""
        if self._conn.closed or self._conn.pgconn.transaction_status != \
                psycopg.pq.TransactionStatus.ACTIVE:
            return
        try:
            # Not libpq's blocking PQcancel, which has no time limit of its own: to a server
            # gone silent from the network, its connection attempt waits as long as the
            # kernel retries (SYN retries, or tcp_user_timeout's 30 s), in the signal
            # handler, holding up the stop it was to hasten.
            self._conn.cancel_safe(timeout=CANCEL_SECONDS)
        except psycopg.Error as exc:
            # The server cannot be reached (vanished from the network: the request's
            # connection refused, unroutable or unanswered), or does not take the request
            # in time (overloaded): nor may its answer come, and the statement would wait
            # for the kernel's silence limits (SILENCE_LIMITS: 30 s), or for a lock for good,
            # the event loop with it, half a role's TimeoutStopSec gone before its stop
            # began. Abandoned now, as the process's end would abandon it: its socket shut,
            # the statement fails at once (the connection lost, as to a kill -9), as part of
            # the stop (AbandonedAtStop): what it was to write is written at the next start.
            logger.debug("cancelling the statement under way failed: %s", exc)
            self.abandoned = (
                f"a statement the database did not cancel within {CANCEL_SECONDS:g} s was "
                "abandoned" if isinstance(exc, psycopg.errors.CancellationTimeout) else
                f"a statement the database could not be asked to cancel ({_said(exc)}) was "
                "abandoned")
            self._abandon()

    def _abandon(self) -> None:
        """Shut the connection's socket (both ways): the statement waiting on it fails."""
        try:
            # A duplicate of libpq's descriptor, its family (TCP, IPv6, a Unix socket) read
            # from it.
            sock = socket.socket(fileno=os.dup(self._conn.pgconn.socket))
        except (OSError, psycopg.Error):
            return  # closed meanwhile
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            sock.close()  # the duplicate: libpq's own descriptor stays for it to close

    @contextmanager
    def _abandonable(self) -> Iterator[None]:
        """Around a statement: on a connection the stop shut (cancel), its failure is
        AbandonedAtStop, the stop's, not a database lost."""
        try:
            yield
        except psycopg.OperationalError as exc:
            if self.abandoned is None:
                raise
            raise AbandonedAtStop(self.abandoned) from exc

    @contextmanager
    def _bounded(self, cursor: psycopg.Cursor[Any]) -> Iterator[None]:
        """Around a statement: once the process is stopping, in a transaction (a savepoint
        inside one) whose lock waits last STOP_LOCK_TIMEOUT at most (stop_waiting)."""
        if not _stopping.is_set():
            yield
            return
        with self._conn.transaction():
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [STOP_LOCK_TIMEOUT])
            yield

    @property
    def conn(self) -> PgDatabase:
        """Itself: the mixins' ``db.conn.execute`` / ``executemany`` land here too."""
        return self

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        """Run one statement of the mixins' dialect."""
        text, returns_id = translate(sql)
        with self._abandonable(), self._conn.cursor() as cursor:
            with self._bounded(cursor):
                cursor.execute(text.encode(), list(params or ()))
            rows = cursor.fetchall() if cursor.description is not None else []
            lastrowid = int(rows[0][0]) if returns_id and rows else None
            return PgCursor([] if returns_id else rows, cursor.rowcount, lastrowid)

    def executemany(self, sql: str, rows: Any) -> None:
        """Run one statement for each of ``rows``."""
        text, _ = translate(sql)
        with self._abandonable(), self._conn.cursor() as cursor, self._bounded(cursor):
            cursor.executemany(text.encode(), [list(row) for row in rows])

    def query(self, sql: str, params: Sequence[Any] | None = None) -> Iterator[dict[str, Any]]:
        """The rows of a query, as dicts."""
        text, _ = translate(sql)
        with self._abandonable(), self._conn.cursor(row_factory=dict_row) as cursor:
            with self._bounded(cursor):
                cursor.execute(text.encode(), list(params or ()))
            rows = cursor.fetchall()
        yield from rows

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (as ``sqlite3.Connection.in_transaction``)."""
        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A transaction (a savepoint inside another)."""
        with self._abandonable(), self._conn.transaction():
            yield

    def close(self) -> None:
        self._conn.close()


#: libpq's timeouts for a server that goes silent, where ``url`` sets none of its own. By
#: default libpq waits as long as the kernel does: a database server that vanished from the
#: network (a failover whose old primary is unplugged, a VM paused, a firewall dropping the
#: connection's packets) held the daemon in one statement for 15 minutes or more, neither
#: polling nor sending, nor stopping on SIGTERM. With these, a statement whose packets go
#: unanswered 30 s, a connection whose server answers no keepalive for 30 s, or a connection
#: attempt of 10 s, fails: the daemon says the database is lost and exits 1, for systemd to
#: start it again. A blip shorter than that is only a pause. (TCP only: a Unix socket has
#: none of these.)
SILENCE_LIMITS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "15",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "30000",
}


#: The same limits on the server's side of the connection, where the server's configuration
#: leaves them unset (the kernel's defaults: 2 hours of keepalive idle): the session of a
#: daemon whose machine vanished outlived it by that long, and with it the session's advisory
#: lock (INSTANCE_LOCK) and its outbox claims: the daemon started again, on that machine once
#: the network came back or on another, was refused ("another newswatch is running") until
#: then, and no alert went out. Each is the session's own setting (``SET``), which any role
#: may change; an operator's setting in postgresql.conf is kept.
SERVER_SILENCE_LIMITS = {
    "tcp_keepalives_idle": "15",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "30000",
}


#: Sets :data:`SERVER_SILENCE_LIMITS` for the session, each the server's configuration leaves
#: at its default (parameters: :data:`SERVER_SILENCE_PARAMS`).
SET_SERVER_SILENCE_LIMITS = (
    "SELECT set_config(s.name, l.value, false) FROM pg_settings s"
    " JOIN unnest(%s::text[], %s::text[]) AS l(name, value) ON l.name = s.name"
    " WHERE s.source = 'default'"
)
SERVER_SILENCE_PARAMS = [list(SERVER_SILENCE_LIMITS), list(SERVER_SILENCE_LIMITS.values())]


def conninfo(url: str) -> str:
    """``url`` with :data:`SILENCE_LIMITS` for the parameters it (or PGCONNECT_TIMEOUT)
    does not set."""
    given = set(conninfo_to_dict(url))
    if os.environ.get("PGCONNECT_TIMEOUT"):
        given.add("connect_timeout")
    return make_conninfo(url, **{k: v for k, v in SILENCE_LIMITS.items() if k not in given})


def connect(url: str) -> psycopg.Connection[Any]:
    """A connection to ``url`` in autocommit mode (with :data:`SILENCE_LIMITS`), sums of
    integers read as ints."""
    conn = psycopg.connect(conninfo(url), autocommit=True)
    try:
        conn.execute(SET_SERVER_SILENCE_LIMITS, SERVER_SILENCE_PARAMS)
    except BaseException:
        conn.close()
        raise
    conn.adapters.register_loader("numeric", _Numeric)
    conn.adapters.register_dumper(str, _TextDumper)
    conn.adapters.register_dumper(str, _BinaryTextDumper)
    return conn


def migrate(db: PgDatabase, where: str = "database") -> None:
    """Apply every migration of storage.pgschema the database has not had, each in its own
    transaction under an advisory lock (the version table too is created under it); an
    upgrade says so as it goes (storage.upgrade)."""
    said: UpgradeLog | None = None
    while True:
        with db.atomic():
            db.execute("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK])
            # Created under the lock: two processes creating it at once both pass
            # IF NOT EXISTS, and the second fails on the table's row type.
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                db.execute("INSERT INTO schema_version VALUES (0)")
            version = int(row[0]) if row else 0
            if version > len(MIGRATIONS):
                raise NewerSchema(
                    f"database schema version {version} is newer than this newswatch "
                    f"({len(MIGRATIONS)}): upgrade newswatch"
                )
            if version == len(MIGRATIONS):
                return
            if said is None:
                said = UpgradeLog(where, version, len(MIGRATIONS))
            migration = MIGRATIONS[version]
            if callable(migration):
                migration(db)
            else:
                for statement in migration.split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute("UPDATE schema_version SET version = ?", [version + 1])
        said.done(version + 1)


def schema_version(db: PgDatabase) -> int:
    """The number of migrations this database has had."""
    row = db.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def _where(url: str) -> str:
    """``url`` without its password, for messages."""
    return without_password(url)


#: Archived articles read at a time by PgStore.search.
SEARCH_PAGE = 500
#: The most articles holding a query's words that a search reads by their list: with more
#: (a common word), it reads the archive newest first, where their hits come soon.
SEARCH_CANDIDATES = 50_000
#: The most articles whose words ``newswatch crawl`` lists as it ends (PgStore.fold_counts).
CRAWL_WORDS = 10_000


class PgStore(
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
    SiteBlocksMixin,
):
    """All persistent state of newswatch, in one PostgreSQL database."""

    #: How long a row whose sender's session ended mid-send waits before another sender
    #: takes it (seconds, from the send or PostgreSQL's start, whichever is later): time for
    #: that send to end and its sender, started again, to replay its sent journal (the
    #: longer of ``daemon.stalled_after`` and the longest send: newswatch.cli).
    claim_lease: float = 30.0

    def __init__(self, db: PgDatabase, url: str) -> None:
        # PgDatabase has the part of sqlite_utils.Database the mixins call (see above).
        self.db = cast("Database", db)
        self.pg = db
        self.url = url
        #: An alerter's sent journal (storage.journal): "sent" marks go there first.
        self.journal: SentJournal | None = None
        #: Lists the words of the articles stored or changed, from each checkpoint on.
        self.words_filler = pgwords.Filler(lambda: PgDatabase(connect(url)))

    @classmethod
    def open(cls, url: str) -> PgStore:
        """Connect to the database at ``url`` and migrate it to the current schema."""
        try:
            db = PgDatabase(connect(url))
        except psycopg.Error as exc:
            raise StorageError(f"cannot open database {_where(url)}: {_said(exc)}") from exc
        try:
            migrate(db, f"database {_where(url)}")
        except (psycopg.Error, RuntimeError) as exc:
            db.close()
            hint = ""
            if isinstance(exc, psycopg.errors.InsufficientPrivilege):
                hint = (" (newswatch creates its tables: make its user the database's owner,"
                        " ALTER DATABASE name OWNER TO user, or grant it CREATE ON SCHEMA public)")
            raise StorageError(
                f"cannot migrate database {_where(url)}: {_said(exc)}{hint}"
            ) from exc
        except BaseException:
            db.close()
            raise
        return cls(db, url)

    def close(self) -> None:
        """Close the connection (and the sent journal), the listing of words started by
        :meth:`checkpoint` ended after its batch."""
        self.words_filler.stop()
        self._close_journal()
        self.pg.close()

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what differs from SQLite ------------------------------------------------------------

    def due_outbox(
        self, now: datetime, limit: int = 100, *, channels: bool = False
    ) -> list[OutboxMessage]:
        """Claim the pending messages due at ``now``, oldest first, for this session: rows
        another live session claimed are skipped, and so are those whose send began in a
        session that ended less than ``claim_lease`` ago (see the module's docstring). The
        sent journal's marks are written first, and the claims of the dead senders whose
        journal files it replayed let go. ``channels``: the notification URLs' alone (the
        mail server is down)."""
        self._replay_journal()
        rows = self.db.query(
            """
            WITH me AS (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()),
            due AS (
                SELECT o.id FROM outbox o
                WHERE o.status = 'pending' AND o.next_attempt <= ? AND o.recipient LIKE ?
                  AND (o.claimed_by IS NULL
                       OR (o.claimed_by = pg_backend_pid()
                           AND o.claim_started = (SELECT backend_start FROM me))
                       OR (NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                       WHERE a.pid = o.claimed_by
                                         AND a.backend_start = o.claim_started)
                           AND (o.sending IS NULL
                                OR GREATEST(o.sending, pg_postmaster_start_time())
                                   < now() - make_interval(secs => ?))))
                ORDER BY o.id LIMIT ? FOR UPDATE OF o SKIP LOCKED
            )
            UPDATE outbox SET claimed_by = pg_backend_pid(),
                claim_started = (SELECT backend_start FROM me), sending = NULL,
                claim_journal = ?
            FROM due WHERE outbox.id = due.id
            RETURNING outbox.*
            """,
            [to_iso(now), CHANNEL_RECIPIENT if channels else "%", float(self.claim_lease),
             limit, self.journal.path.name if self.journal is not None else None],
        )
        return self._handing_out([_message(r) for r in sorted(rows, key=lambda r: int(r["id"]))])

    def sending(self, outbox_id: int) -> bool:
        """The send of a claimed row begins: if this session ends before its mark, the row
        waits ``claim_lease`` for this sender's journal before another sender takes it, or
        until the next sender of this machine has replayed the journal. False, and no send,
        when the row is no longer this session's claim, or no longer pending: whatever let
        it go meanwhile (a journal file replayed as a dead sender's, a lease misjudged), it
        is another sender's now, and both sent it."""
        return bool(self.db.execute(
            """
            UPDATE outbox SET sending = now()
            WHERE id = ? AND status = 'pending' AND claimed_by = pg_backend_pid()
              AND claim_started = (SELECT backend_start FROM pg_stat_activity
                                   WHERE pid = pg_backend_pid())
            """,
            [outbox_id],
        ).rowcount)

    def not_sent(self, outbox_id: int) -> None:
        """A stop ended the send before the message's end went to the server, which cannot
        have it: the claim is let go, and the ``sending`` stamp with it, so that the next
        start (or another sender) takes the row at once rather than after ``claim_lease``.
        So too for a row the run leaves untried, the mail server down: held by this live
        session, it waited for the end of this machine's outage (its route to the server
        broken) while another alerter could send it."""
        self.db.execute("UPDATE outbox SET claimed_by = NULL, sending = NULL WHERE id = ?",
                        [outbox_id])

    def _close_journal(self) -> None:
        """Close the sent journal; with the connection lost (PostgreSQL restarted, the
        network cut), its file stays, marks or none: this process's claims are still in the
        rows, and the next alerter of the machine lets go of them as it replays the file,
        not after ``claim_lease`` (the row of a send the server refused as the database went
        away)."""
        if self.journal is not None:
            self.journal.close(keep=self.lost)

    def _let_go_of_dead(self, journals: list[str]) -> None:
        """The senders of the journal files ``journals`` are dead (their files unlocked) and
        their marks in the database: their claims are let go at once, the rows they were
        sending included. An alerter killed mid-send (kill -9) and started again by systemd
        10 s later waited ``claim_lease`` (14 minutes) for its own row, though its journal
        held no acceptance of it. A row whose send may have reached the
        server without an answer noted is sent again, as after the lease. Rows locked (a
        dead session's transaction the server has not ended yet) are left to the lease, and
        so are those whose claiming session still lives: an unlocked file is no proof of
        death when it is a copy (a machine cloned from a running alerter's, or its
        /etc/newswatch copied to add a worker), and the rows that alerter was sending went
        from both machines."""
        if not journals:
            return
        let_go = self.db.execute(
            """
            UPDATE outbox SET claimed_by = NULL, sending = NULL, claim_journal = NULL
            WHERE id IN (SELECT o.id FROM outbox o
                         WHERE o.claim_journal = ANY(?) AND o.status = 'pending'
                           AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                           WHERE a.pid = o.claimed_by
                                             AND a.backend_start = o.claim_started)
                         FOR UPDATE OF o SKIP LOCKED)
            RETURNING id
            """,
            [journals],
        ).fetchall()
        if let_go:
            logger.info("sent journal: %d message(s) claimed by a dead sender of this machine, "
                        "none of them noted as accepted: due again at once (outbox %s)",
                        len(let_go), ", ".join(str(row[0]) for row in sorted(let_go)))

    def mark_retry(
        self, outbox_id: int, error: str, next_attempt: datetime, server_down: bool = False,
        counted: bool = True,
    ) -> None:
        """Delivery failed for a reason that may pass: any sender may try again at
        ``next_attempt`` (or once the mail server is back: ``server_down``)."""
        with self.db.atomic():
            super().mark_retry(outbox_id, error, next_attempt, server_down, counted)
            self.db.execute("UPDATE outbox SET claimed_by = NULL WHERE id = ?", [outbox_id])

    def search(
        self, compiled: str, since: datetime | None = None, limit: int = 100, offset: int = 0,
        until: datetime | None = None,
    ) -> list[StoredArticle]:
        """Archived articles the FTS5 expression ``compiled`` matches, newest first (as the
        SQLite store: by publication date, or fetch date for undated articles): the articles
        are read newest first, SEARCH_PAGE at a time, and each page goes through
        :func:`storage.percolate` (FTS5 in memory, the matching's own tokenizer and
        segmentation), so the answer is exactly SQLite's (``since``: those of that date or
        later; ``until``: those before it). StorageError when FTS5 rejects the expression.

        The articles read are those holding the words the expression requires
        (storage.pgwords, schema 47) when at most SEARCH_CANDIDATES do; otherwise (a common
        word, whose hits come soon) the archive in the order of the index of that date
        (schema 35), each page from where the last one ended."""
        when = "COALESCE(a.published, a.fetched)"
        conditions, params = [], []
        if since is not None:
            conditions.append(f"{when} >= ?")
            params.append(to_iso(since))
        if until is not None:
            conditions.append(f"{when} < ?")
            params.append(to_iso(until))

        def matched(docs: list[tuple[int, str, str, str]]) -> set[int]:
            try:
                return set(percolate(docs, {0: compiled}).get(0, ()))
            except StorageError as exc:
                raise StorageError(f"search rejected by FTS5: {exc.__cause__ or exc}") from exc

        matched([])  # an expression FTS5 rejects is rejected before the archive is read
        found: list[StoredArticle] = []
        skip = offset
        for rows in self._search_pages(compiled, when, conditions, params):
            hits = matched([(r["id"], r["title"], r["text"], r["source"]) for r in rows])
            for row in rows:
                if row["id"] not in hits:
                    continue
                if skip:
                    skip -= 1
                elif len(found) < limit:
                    found.append(stored_article(row))
            if len(found) >= limit:
                break
        return self.with_listing_sources(found)

    def _search_pages(
        self, compiled: str, when: str, conditions: list[str], params: list[Any]
    ) -> Iterator[list[dict[str, Any]]]:
        """The articles a search reads, newest first, SEARCH_PAGE at a time: those holding
        the words ``compiled`` requires, when few enough; else the whole archive (between
        the ``conditions``)."""
        required = pgwords.required(compiled)
        if required is not None:
            held = self.db.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM article_words"
                " WHERE words @@ ?::tsquery OR words IS NULL LIMIT ?) AS few",
                [required, SEARCH_CANDIDATES + 1],
            ).fetchone()[0]
            if held <= SEARCH_CANDIDATES:
                ids = [row[0] for row in self.db.execute(
                    "SELECT a.id FROM article_words w JOIN articles a ON a.id = w.article_id"
                    " WHERE (w.words @@ ?::tsquery OR w.words IS NULL)"
                    + "".join(f" AND {c}" for c in conditions)
                    + f" ORDER BY {when} DESC, a.id DESC",
                    [required, *params],
                )]
                for start in range(0, len(ids), SEARCH_PAGE):
                    page = ids[start : start + SEARCH_PAGE]
                    by_id = {r["id"]: r for r in self.db.query(
                        SELECT_STORED + " WHERE a.id = ANY(?)", [page])}
                    yield [by_id[i] for i in page if i in by_id]
                return
        after = None
        while True:
            since_last: list[str] = [f"({when}, a.id) < (?, ?)"] if after is not None else []
            rows = list(
                self.db.query(
                    SELECT_STORED + " WHERE " + " AND ".join(conditions + since_last or ["TRUE"])
                    + f" ORDER BY {when} DESC, a.id DESC LIMIT ?",
                    [*params, *(after or ()), SEARCH_PAGE],
                )
            )
            if not rows:
                return
            yield rows
            if len(rows) < SEARCH_PAGE:  # the oldest page
                return
            last = rows[-1]
            after = (last["fetched"] if last["published"] is None else last["published"],
                     last["id"])

    # -- several machines (docs/scale-out.md) -----------------------------------------------

    @property
    def lost(self) -> bool:
        """Whether the connection is gone (PostgreSQL restarted, the network cut): nothing
        more can be done with this store. Not when the process's stop shut it (its statement
        abandoned: AbandonedAtStop): the process stops as asked, not as after a failure."""
        conn = self.pg._conn
        return bool(conn.closed or conn.broken) and self.pg.abandoned is None

    @property
    def abandoned(self) -> bool:
        """Whether the process's stop shut the connection (PgDatabase.cancel): nothing more
        can be done with this store, but nothing failed either."""
        return self.pg.abandoned is not None

    def try_lock(self, key: int) -> bool:
        """Take the advisory lock ``key`` for this session if no other session holds it
        (released by :meth:`unlock`, or by the session's end when its process dies)."""
        row = self.pg.execute("SELECT pg_try_advisory_lock(?)", [key]).fetchone()
        return bool(row and row[0])

    def try_lock_shared(self, key: int) -> bool:
        """Take the advisory lock ``key`` for this session, shared with other sessions that
        take it shared, if no session holds it alone."""
        row = self.pg.execute("SELECT pg_try_advisory_lock_shared(?)", [key]).fetchone()
        return bool(row and row[0])

    def unlock(self, key: int) -> None:
        """Give back the advisory lock ``key`` taken by :meth:`try_lock`."""
        self.pg.execute("SELECT pg_advisory_unlock(?)", [key])

    def clustered_mark(self) -> int:
        """The newest article given a story: it changes whenever any process clusters."""
        row = self.pg.execute("SELECT max(id) FROM articles WHERE story_id IS NOT NULL").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def crawling_sources(self, task: str) -> frozenset[int]:
        """The sources whose crawl job (``task``) runs on some worker of the cluster: some of
        their new articles may be stored, others not yet."""
        if not self._engine_present():
            return frozenset()
        rows = self.pg.execute(
            "SELECT (args->>'source_id')::bigint FROM procrastinate_jobs"
            " WHERE task_name = ? AND status = 'doing'",
            [task],
        ).fetchall()
        return frozenset(int(row[0]) for row in rows if row[0] is not None)

    def database_now(self) -> datetime:
        """The database server's time (UTC): the one clock every machine of a cluster
        shares."""
        now: datetime = next(self.pg.query("SELECT clock_timestamp() AS now"))["now"]
        return now.astimezone(UTC)

    def cluster_workers(self) -> list[dict[str, Any]]:
        """The task engine's workers (procrastinate_workers), each with its label (name,
        host, pid, role: newswatch_workers), its last heartbeat and the jobs it runs (their
        source when they are crawls); none where no worker ever ran."""
        if not self._engine_present():
            return []
        rows = self.pg.query(
            """
            SELECT w.id, w.last_heartbeat,
                   EXTRACT(EPOCH FROM now() - w.last_heartbeat) AS silent,
                   l.name, l.host, l.pid, l.role, l.started,
                   j.id AS job_id, j.task_name, j.lock, j.attempts,
                   s.id AS source_id, s.url AS source_url
            FROM procrastinate_workers w
            LEFT JOIN newswatch_workers l ON l.worker_id = w.id
            LEFT JOIN procrastinate_jobs j ON j.worker_id = w.id AND j.status = 'doing'
            LEFT JOIN sources s ON s.id = (j.args->>'source_id')::bigint
            ORDER BY w.id, j.id
            """
        )
        workers: dict[int, dict[str, Any]] = {}
        for row in rows:
            worker = workers.setdefault(row["id"], {
                "id": row["id"],
                "name": row["name"],
                "host": row["host"],
                "pid": row["pid"],
                "role": row["role"],
                "started": row["started"].isoformat() if row["started"] else None,
                "last_heartbeat": row["last_heartbeat"].isoformat(),
                "seconds_since_heartbeat": round(float(row["silent"]), 1),
                "jobs": [],
            })
            if row["job_id"] is not None:
                worker["jobs"].append({
                    "id": row["job_id"],
                    "task": row["task_name"],
                    "lock": row["lock"],
                    "attempts": row["attempts"],
                    "source_id": row["source_id"],
                    "source_url": row["source_url"],
                })
        return list(workers.values())

    def _engine_present(self) -> bool:
        row = self.pg.execute(
            "SELECT to_regclass('procrastinate_jobs') IS NOT NULL"
            " AND to_regclass('newswatch_workers') IS NOT NULL"
        ).fetchone()
        return bool(row and row[0])

    def checkpoint(self) -> None:
        """Fold the article counts added since the last checkpoint into one row a source
        (schema 38: a row is added for each article stored, and `status` and /metrics sum
        them), the alerts' into one row a status (39) and the matches' into one row a topic
        (41); start listing the words of the articles stored or changed since, in the
        background (storage.pgwords.Filler: until then every search reads them; after the
        upgrade to schema 47, the whole archive's); and refresh the planner's statistics
        (the server checkpoints and vacuums itself). The rows folded are those committed when
        the fold begins; the crawlers and senders go on adding theirs meanwhile (it takes no
        lock they wait for), and two folds run one after the other (``newswatch prune``
        beside the hourly housekeeping)."""
        self._fold(wait=True)
        self.words_filler.start()
        self.db.execute("ANALYZE")

    def fold_counts(self) -> None:
        """Fold the counts as :meth:`checkpoint` does, without its ``ANALYZE``, and not at
        all while another fold runs (it takes the rows this one would): what ``newswatch
        crawl`` does as it ends, where cron runs it alone (no daemon's hourly checkpoint)
        and the rows of each crawl piled up until a prune. It reads the rows added since the
        last fold, and no one else waits for those it deletes. The words of CRAWL_WORDS
        unlisted articles at most are listed too (the crawl's own, and a few seconds' worth
        of the archive's after the upgrade to schema 47)."""
        self._fold(wait=False)
        pgwords.fill(self.db, CRAWL_WORDS)

    def _fold(self, *, wait: bool) -> None:
        """Fold the counts under COUNTS_LOCK: waited for, or else given up when held."""
        with self.db.atomic():
            if wait:
                self.db.execute("SELECT pg_advisory_xact_lock(?)", [COUNTS_LOCK])
            elif not self.db.execute(
                "SELECT pg_try_advisory_xact_lock(?)", [COUNTS_LOCK]
            ).fetchone()[0]:
                return
            for table, key, columns in _COUNTS:
                names = ", ".join(columns)
                self.db.execute(
                    f"""
                    WITH folded AS (DELETE FROM {table} RETURNING {key}, {names})
                    INSERT INTO {table} ({key}, {names})
                    SELECT {key}, {", ".join(columns.values())} FROM folded
                    GROUP BY {key} HAVING SUM(n) <> 0
                    """
                )

    def backup(self, destination: Path) -> None:
        """Not done by newswatch on PostgreSQL: ``pg_dump`` makes consistent backups."""
        raise StorageError(
            "newswatch backup is not supported by the PostgreSQL backend: "
            f"use pg_dump (for example pg_dump -Fc -f {destination} DATABASE-URL)"
        )


def _failure(store: PgStore, exc: psycopg.Error) -> StorageError:
    return StorageError(f"database {_where(store.url)}: {_said(exc)}")


def _said(exc: BaseException) -> str:
    """What a driver's error says, on one line: libpq's hint lines joined, the statement
    PostgreSQL quotes ("LINE 1: …" and its caret) left out."""
    lines = [line.strip() for line in str(exc).splitlines()]
    kept = [line for line in lines if line and not line.startswith(("LINE ", "^"))]
    return "; ".join(kept) or type(exc).__name__


guard_methods(PgStore, PgStore.__mro__[:-1], psycopg.Error, _failure, frozenset({"open"}))
