"""Loading and validating the config file (TOML) into one frozen Config.

Every problem in a file is reported at once, each with its key path
(``topics[2].query: unclosed parenthesis at column 14``); nothing is half-loaded. Each
section has its own parser, which returns that section's frozen dataclass; each value is
read by the typed parser of its kind (newswatch.values).
"""

from __future__ import annotations

import codecs
import difflib
import os
import stat
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from alerts.schedule import RecipientPolicies, RecipientPolicy
from crawler import CrawlSettings
from storage import SourceSpec, TopicSpec

from .settings import LISTS, SECTIONS, Setting
from .values import (
    ADDRESS,
    BOOL,
    DURATION,
    EMAIL,
    EMAIL_ADDRESS,
    EMAILS,
    INT,
    LEVEL,
    MODE,
    NAME,
    PATTERNS,
    PAUSE,
    RECIPIENTS,
    SIZE,
    SOURCE_KIND,
    SOURCES,
    STR,
    TIMES,
    TIMEZONE,
    URL,
    LogLevel,
    Parser,
    check_value,
    name_key,
    type_name,
)

if TYPE_CHECKING:
    from alerts.transport import SmtpSettings

T = TypeVar("T")

#: The largest numbers of [crawl] and [daemon] (README's reference says each).
MAX_PER_HOST = 100
MAX_RETRIES = 10
MAX_WORKERS = 64
MAX_JOBS = 100


class ConfigError(Exception):
    """The config file cannot be used; ``problems`` lists every reason, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class DatabaseSettings:
    """``[database]``: where everything is kept, and for how long."""

    path: Path
    keep_seconds: float
    url: str | None = None  # a PostgreSQL database instead of the SQLite file at ``path``

    @property
    def location(self) -> str | Path:
        """What ``storage.open_store`` opens: the PostgreSQL URL, or the SQLite file."""
        return self.url if self.url is not None else self.path

    @property
    def shown(self) -> str:
        """The database, for messages (a URL without its password)."""
        if self.url is None:
            return str(self.path)
        from storage.errors import without_password

        return without_password(self.url)


@dataclass(frozen=True)
class AlertSettings:
    """``[alerts]``: what is alerted, where alerts go without SMTP, retries, the operator.
    The digest and storm settings are the default RecipientPolicy (Config.recipients)."""

    lookback_seconds: float
    mbox: Path
    retry_base: float
    retry_max: float
    operator: tuple[str, ...]
    health_after: float
    stream_seconds: float


@dataclass(frozen=True)
class DaemonSettings:
    """``[daemon]``: how often it looks for work, how much it logs, its metrics endpoint."""

    tick_seconds: float
    log_level: LogLevel
    metrics: str | None
    #: The roles of several machines (docs/scale-out.md): crawl jobs a crawler runs at once,
    #: its heartbeat, when a silent crawler counts as dead, how often dead ones are looked for.
    jobs: int = 4
    heartbeat_seconds: float = 10.0
    stalled_after_seconds: float = 30.0
    retry_stalled_seconds: float = 10.0


@dataclass(frozen=True)
class Config:
    """Everything newswatch needs to run, validated: one frozen dataclass per section."""

    path: Path | None
    database: DatabaseSettings
    smtp: SmtpSettings | None
    crawl: CrawlSettings
    alerts: AlertSettings
    daemon: DaemonSettings
    sources: tuple[SourceSpec, ...]
    topics: tuple[TopicSpec, ...]
    recipients: RecipientPolicies = field(default_factory=RecipientPolicies)
    #: Topic queries read as an earlier version read them, which other tools read another
    #: way (watchlist.AmbiguousQuery): one line each, for the log and ``check``.
    notices: tuple[str, ...] = ()
    #: No config file, or one that defines nothing (an editor that saves in place empties
    #: it first): it says nothing of the sources and topics a config file put in the
    #: database (newswatch.common.open_synced leaves them as they are).
    empty: bool = False


# -- tables ----------------------------------------------------------------------------------


def _unknown(path: str, key: str, what: str, known: Sequence[str]) -> str:
    """The problem of the unknown ``key`` (a key or a section) at ``path``: the nearest known
    name when one is near (a typo: ``databse`` is taken for ``database``), and every known
    name."""
    near = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return f"{path}: unknown {what}{hint} (known {what}s: {', '.join(known)})"


class _Table:
    """One table of the file, checked against its settings when made (every problem reported
    with its key path; defaults fill what is missing); values are read back typed."""

    def __init__(
        self, data: object, path: str, spec: Mapping[str, Setting], problems: list[str]
    ) -> None:
        self.spec = spec
        self.values: dict[str, object] = {}
        if not isinstance(data, dict):
            problems.append(f"{path}: expected a table, got {type_name(data)}")
            return
        for key in data:
            if key not in spec:
                problems.append(_unknown(f"{path}.{key}", key, "key", list(spec)))
        for key, setting in spec.items():
            if key in data:
                try:
                    self.values[key] = check_value(setting.kind, data[key])
                except ValueError as exc:
                    problems.append(f"{path}.{key}: {exc}")
            elif setting.required:
                problems.append(f"{path}.{key}: missing (required)")
            elif setting.default is not None:
                self.values[key] = check_value(setting.kind, setting.default)

    def maybe(self, key: str, parser: Parser[T]) -> T | None:
        """The value of ``key``; None when it is unset (and has no default) or invalid."""
        if parser.kind != self.spec[key].kind:
            raise AssertionError(f"{key} is a {self.spec[key].kind}, not a {parser.kind}")
        # The value was parsed by PARSERS[kind], which is ``parser``: it is a T.
        return cast("T | None", self.values.get(key))

    def get(self, key: str, parser: Parser[T]) -> T:
        """The value of ``key``, or its default when it is invalid (the file is then refused
        anyway: this only lets the other sections be checked too)."""
        value = self.maybe(key, parser)
        return parser.parse(self.spec[key].default) if value is None else value


def _entries(data: Mapping[str, object], key: str, problems: list[str]) -> Iterator[_Table]:
    """Each table of the array of tables ``key``, checked."""
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"{key}: expected an array of tables ([[{key}]]), got {type_name(value)}")
        return
    for i, item in enumerate(value):
        yield _Table(item, f"{key}[{i}]", LISTS[key], problems)


# -- loading ---------------------------------------------------------------------------------


def load_config(
    path: str | Path | None, environ: Mapping[str, str] | None = None, *, empty: bool = True
) -> Config:
    """Read and validate the config file at ``path`` (None: all defaults, no sources).
    ``empty=False`` refuses a file that defines nothing (a reload: see below)."""
    env = dict(os.environ if environ is None else environ)
    data: dict[str, object] = {}
    source_name = str(path) if path else "defaults"
    base = Path.cwd()
    if path is not None:
        file = Path(path)
        bom = 0  # a UTF-8 byte-order mark (as Windows Notepad writes one) is not TOML's
        try:
            what = _not_a_file(file)
            if what is not None:
                raise ConfigError(source_name, [f"{what}, not a config file"])
            raw = file.read_bytes()
            bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
            data = tomllib.loads(raw[bom:].decode("utf-8"))
        except FileNotFoundError:
            raise ConfigError(source_name, ["file not found"]) from None
        except OSError as exc:
            raise ConfigError(source_name, [f"cannot read: {exc.strerror}"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(source_name, [f"not valid TOML: {exc}"]) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                source_name,
                [f"not UTF-8 text (byte {bom + exc.start}: {exc.reason}); save it as UTF-8"],
            ) from None
        if not data and not empty:
            # An editor that saves in place (nano, `cat > newswatch.toml`) empties the file
            # before writing it: a reload in that instant stopped every source and topic of
            # the running daemon, dropped their queued alerts and mailed to the local mbox.
            raise ConfigError(source_name, [
                "the file defines nothing (being written?); write a setting in it, or a "
                "section such as [database], for a configuration of defaults only"])
    return _build(data, source_name, base, env)


def _not_a_file(file: Path) -> str | None:
    """What ``file`` is when no config can be read from it ("a device", "a named pipe"), or
    None: a regular file, or the pipe a shell hands over (``--config <(...)``, a piped
    ``/dev/stdin``), whose writer is there and which ends.

    A device is read to its end: /dev/zero (or a disk) has none, and check filled the memory
    until it was killed. A named pipe (mkfifo) is read once something writes to it: check,
    and run at start or at a reload, waited for that without a word."""
    mode = file.stat().st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        # The shell's pipe is an open file of this process (/dev/fd/63), whose link names no
        # path ("pipe:[1034190]"); a named pipe is a path in a directory.
        return "a named pipe (FIFO)" if os.path.exists(os.path.realpath(file)) else None
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a special file"


def _build(
    data: Mapping[str, object], source_name: str, base: Path, env: Mapping[str, str]
) -> Config:
    problems: list[str] = []
    for key in data:
        if key not in SECTIONS and key not in LISTS:
            problems.append(_unknown(key, key, "section", [*SECTIONS, *LISTS]))
    tables = {
        name: _Table(data.get(name, {}), name, spec, problems)
        for name, spec in SECTIONS.items()
        if name != "smtp"
    }
    smtp = _smtp(data["smtp"], problems, env, base) if "smtp" in data else None
    every = _interval(tables["crawl"].maybe("every", DURATION), "crawl.every", problems)
    every = every or round(DURATION.parse(SECTIONS["crawl"]["every"].default))
    sources = _source_list(data, every, problems)
    notices: list[str] = []
    topics = _topic_list(data, problems, notices)
    recipients = _recipient_policies(data, tables["alerts"], problems)
    database = _database(tables["database"], base, data.get("database"), problems)
    alerts = _alerts(tables["alerts"], base, database.path, problems)
    crawl = _crawl(tables["crawl"], every, problems)
    daemon = _daemon(tables["daemon"], problems)
    if problems:
        raise ConfigError(source_name, problems)
    return Config(
        path=None if source_name == "defaults" else Path(source_name),
        database=database,
        smtp=smtp,
        crawl=crawl,
        alerts=alerts,
        daemon=daemon,
        sources=sources,
        topics=topics,
        recipients=recipients,
        notices=tuple(notices),
        empty=not data,
    )


# -- one parser per section ------------------------------------------------------------------


def _database(
    table: _Table, base: Path, data: object, problems: list[str]
) -> DatabaseSettings:
    """``[database]``: an SQLite ``path`` or a PostgreSQL ``url``, not both."""
    url = table.maybe("url", STR)
    if url is not None:
        if isinstance(data, dict) and "path" in data:
            problems.append("database: set path (SQLite) or url (PostgreSQL), not both")
        elif not url.startswith(("postgresql://", "postgres://")):
            from storage.errors import without_password

            problems.append(
                f"database.url: expected a postgresql:// URL, got {without_password(url)!r}"
            )
    path = _file(table, "path", "database", base, problems)
    # A device (path = "/dev/null") passed check: every command then made its lock file and
    # sent journal beside it, in /dev, and kept nothing (/dev/null) or said "cannot open
    # database" (/dev/full).
    if path is not None and os.path.exists(path) and not os.path.isfile(path):
        problems.append(f"database.path: {path} is not a regular file")
        path = None
    return DatabaseSettings(
        path=path or base / STR.parse(SECTIONS["database"]["path"].default),
        keep_seconds=table.get("keep", DURATION),
        url=url,
    )


def _crawl(table: _Table, every: int, problems: list[str]) -> CrawlSettings:
    """``[crawl]`` (``every`` checked as a polling interval already)."""
    _within(table, "crawl", "per_host", 1, MAX_PER_HOST, problems)
    # Scrapy's retries come without a back-off: more only hold a failing source longer.
    _within(table, "crawl", "retries", 0, MAX_RETRIES, problems)
    # Extraction takes a core a worker: more than a machine has buy nothing, and a few
    # hundred exhaust it (workers that cannot start, pages stored without their text).
    _within(table, "crawl", "workers", 0, MAX_WORKERS, problems)
    user_agent = table.get("user_agent", NAME)  # a header: one line
    if not user_agent.strip():  # requests went without a User-Agent, which many sites refuse
        problems.append("crawl.user_agent: must not be empty")
    return CrawlSettings(
        every_seconds=every,
        user_agent=user_agent,
        timeout_seconds=table.get("timeout", DURATION),
        max_bytes=table.get("max_size", SIZE),
        delay_seconds=table.get("delay", PAUSE),
        per_host=table.get("per_host", INT),
        retries=table.get("retries", INT),
        obey_robots=table.get("obey_robots", BOOL),
        verify_tls=table.get("verify_tls", BOOL),
        workers=table.maybe("workers", INT),
    )


def _alerts(table: _Table, base: Path, database: Path, problems: list[str]) -> AlertSettings:
    """``[alerts]`` but for its digest and storm keys (see _recipient_policies)."""
    mbox = _file(table, "mbox", "alerts", base, problems)
    # A longest delay shorter than the first (retry_max = "30s", retry_base left at "1m")
    # passed check, then every crawl and the daemon stopped on "unexpected error".
    if table.get("retry_max", DURATION) < table.get("retry_base", DURATION):
        problems.append("alerts.retry_max: must not be shorter than alerts.retry_base")
    return AlertSettings(
        lookback_seconds=table.get("lookback", DURATION),
        mbox=mbox or database.with_suffix(".mbox"),
        retry_base=table.get("retry_base", DURATION),
        retry_max=table.get("retry_max", DURATION),
        operator=table.maybe("operator", EMAILS) or (),
        health_after=table.get("health_after", DURATION),
        stream_seconds=table.get("stream", PAUSE),
    )


def _daemon(table: _Table, problems: list[str]) -> DaemonSettings:
    """``[daemon]``: the timings of several machines (scheduler.cluster) as the task engine
    takes them."""
    tick = table.maybe("tick", DURATION)
    if tick is not None and tick < 1:  # a daemon that looks for work that often only burns CPU
        problems.append("daemon.tick: must be at least 1s")
    _within(table, "daemon", "jobs", 1, MAX_JOBS, problems)
    heartbeat = table.maybe("heartbeat", DURATION)
    stalled_after = table.maybe("stalled_after", DURATION)
    if heartbeat is not None and stalled_after is not None and stalled_after <= heartbeat:
        problems.append("daemon.stalled_after: must be longer than daemon.heartbeat")
    retry = table.maybe("retry_stalled", DURATION)
    if retry is not None and not 1 <= round(retry) <= 59:  # seconds in a cron period
        problems.append(f"daemon.retry_stalled: must be 1s to 59s, not {retry:g}s")
    return DaemonSettings(
        tick_seconds=table.get("tick", DURATION),
        log_level=table.get("log_level", LEVEL),
        metrics=table.maybe("metrics", ADDRESS),
        jobs=table.get("jobs", INT),
        heartbeat_seconds=table.get("heartbeat", DURATION),
        stalled_after_seconds=table.get("stalled_after", DURATION),
        retry_stalled_seconds=table.get("retry_stalled", DURATION),
    )


def _smtp(
    data: object, problems: list[str], env: Mapping[str, str], base: Path
) -> SmtpSettings | None:
    """``[smtp]``: None when it has problems (reported) or no host."""
    secret = isinstance(data, dict) and any(
        key in data for key in ("password", "password_env", "password_file")
    )
    if isinstance(data, dict) and "password" in data:
        problems.append(
            "smtp.password: secrets are not read from the config file; "
            "use password_env or password_file"
        )
        data = {k: v for k, v in data.items() if k != "password"}
    before = len(problems)
    table = _Table(data, "smtp", SECTIONS["smtp"], problems)
    port = table.maybe("port", INT)
    if port is not None and not 0 < port < 65536:
        problems.append(f"smtp.port: {port} is not a TCP port (1-65535)")
    if table.maybe("tls", BOOL) and table.maybe("starttls", BOOL):
        problems.append("smtp: set either tls (port 465) or starttls, not both")
    sender = table.maybe("from", STR)
    if sender is not None and not EMAIL_ADDRESS.match(sender):
        problems.append(
            f"smtp.from: {sender!r} is not an email address (a display name goes in from_name)"
        )
    from_name = table.maybe("from_name", STR)
    if from_name is not None and not (from_name.strip() and from_name.isprintable()):
        problems.append(f"smtp.from_name: {from_name!r} is not one line of printable text")
    password = _password(table, env, base, problems)
    username = _text(table, "username", "smtp", problems)
    # A user name that is there but invalid (``username = 42``, ``""``) is said so once, not
    # also as missing.
    if password is not None and not (isinstance(data, dict) and "username" in data):
        problems.append("smtp.username: required when a password is given")
    elif username is not None and not secret:  # a server refuses it at every delivery
        problems.append(
            "smtp.username: a login needs a password: set password_env or password_file"
        )
    host = _text(table, "host", "smtp", problems)
    if len(problems) > before or not host:
        return None
    from alerts.transport import SmtpSettings  # smtplib and ssl: not for --help

    return SmtpSettings(
        host=host,
        port=table.get("port", INT),
        sender=table.get("from", STR),
        from_name=table.get("from_name", STR).strip(),
        starttls=table.get("starttls", BOOL),
        tls=table.get("tls", BOOL),
        username=username,
        password=password,
        timeout=table.get("timeout", DURATION),
    )


def _password(table: _Table, env: Mapping[str, str], base: Path, problems: list[str]) -> str | None:
    """The SMTP password, from the environment or a file (never from the config text)."""
    if table.maybe("password_env", STR) is not None and (
        table.maybe("password_file", STR) is not None
    ):  # password_file was ignored without a word
        problems.append("smtp.password_env and smtp.password_file: give one")
        return None
    variable = _text(table, "password_env", "smtp", problems)
    if variable:
        password = env.get(variable)
        if password is None:
            problems.append(f"smtp.password_env: environment variable {variable} is not set")
        return password
    secret = _path(table, "password_file", "smtp", base, problems)
    if secret is None:
        return None
    try:
        return secret.read_text(encoding="utf-8").splitlines()[0].strip()
    except UnicodeDecodeError:  # said without the byte: it is part of the password
        problems.append(f"smtp.password_file: {secret} is not UTF-8 text (save it as UTF-8)")
        return None
    except (OSError, IndexError) as exc:
        reason = getattr(exc, "strerror", None) or "empty file"
        problems.append(f"smtp.password_file: cannot read {secret}: {reason}")
        return None


def _source_list(
    data: Mapping[str, object], default_every: int, problems: list[str]
) -> tuple[SourceSpec, ...]:
    """``[[sources]]``: each URL once, however it is written (watchlist.url_key)."""
    from watchlist import url_key  # the matching's modules: not for --help

    sources: list[SourceSpec] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(_entries(data, "sources", problems)):
        url = table.maybe("url", URL)
        if not url:
            continue
        problem = f"sources[{i}].url: same URL as sources[{{}}]"
        if _repeated(seen, url_key(url), i, problem, problems):
            continue
        every = _interval(table.maybe("every", DURATION), f"sources[{i}].every", problems)
        sources.append(
            SourceSpec(
                url,
                every or default_every,
                _source_name(table.maybe("name", NAME)),
                kind=table.maybe("kind", SOURCE_KIND),
                include=table.maybe("include", PATTERNS) or (),
                exclude=table.maybe("exclude", PATTERNS) or (),
            )
        )
    return tuple(sources)


def _source_name(name: str | None) -> str | None:
    """A source's name without surrounding spaces; a blank one is none (the feed's title then,
    as `sources add --name ""`): it was kept, the source shown nameless everywhere."""
    return (name.strip() or None) if name is not None else None


def _topic_list(
    data: Mapping[str, object], problems: list[str], notices: list[str]
) -> tuple[TopicSpec, ...]:
    """``[[topics]]``: each name once (case and spaces aside: see name_key), each query (and
    exclude query) compiled."""
    topics: list[TopicSpec] = []
    seen: dict[str, tuple[int, str]] = {}
    for i, table in enumerate(_entries(data, "topics", problems)):
        name, query = table.maybe("name", NAME), table.maybe("query", STR)
        if name is not None:
            key = name_key(name)
            j, first = seen.setdefault(key, (i, name))
            if not key:
                problems.append(f"topics[{i}].name: must not be empty")
            elif first == name and j != i:
                problems.append(f"topics[{i}].name: same name as topics[{j}]")
            elif j != i:
                problems.append(f"topics[{i}].name: {name!r} looks the same as topics[{j}].name "
                                f"{first!r} (names differing only in case or spaces are one name)")
        # Named, as well as counted: in a file of 300 topics, "topics[236]" alone sent the
        # reader counting [[topics]] tables.
        named = f' (topic "{" ".join(name.split())}")' if name and name.strip() else ""
        compiled = _compiled(query, f"topics[{i}].query{named}", problems, notices)
        exclude = table.maybe("exclude", STR)
        exclude_compiled = _compiled(exclude, f"topics[{i}].exclude{named}", problems,
                                     notices)
        notify = table.maybe("notify", RECIPIENTS)
        if name and query and compiled and notify:
            topics.append(
                TopicSpec(
                    name,
                    query,
                    compiled,
                    notify,
                    sources=table.maybe("sources", SOURCES) or (),
                    exclude=exclude,
                    exclude_compiled=exclude_compiled,
                    mode=table.get("mode", MODE),
                )
            )
    return tuple(topics)


def _recipient_policies(
    data: Mapping[str, object], alerts: _Table, problems: list[str]
) -> RecipientPolicies:
    """The digest and storm settings of ``[alerts]``, and each ``[[recipients]]``'s own."""
    default = RecipientPolicy(
        timezone=alerts.get("timezone", TIMEZONE),
        times=alerts.get("digest", TIMES),
        empty=alerts.get("empty_digest", BOOL),
        storm=alerts.get("storm", INT),
    )
    overrides: list[tuple[str, RecipientPolicy]] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(_entries(data, "recipients", problems)):
        email = table.maybe("email", EMAIL)
        if not email:
            continue
        problem = f"recipients[{i}].email: same address as recipients[{{}}]"
        if _repeated(seen, email.casefold(), i, problem, problems):
            continue
        timezone = table.maybe("timezone", TIMEZONE)
        times = table.maybe("digest", TIMES)
        empty = table.maybe("empty_digest", BOOL)
        storm = table.maybe("storm", INT)
        policy = RecipientPolicy(
            timezone=default.timezone if timezone is None else timezone,
            times=default.times if times is None else times,
            empty=default.empty if empty is None else empty,
            storm=default.storm if storm is None else storm,
        )
        overrides.append((email, policy))
    return RecipientPolicies(default, tuple(overrides))


# -- helpers ---------------------------------------------------------------------------------


def _repeated(seen: dict[str, int], key: str, i: int, problem: str, problems: list[str]) -> bool:
    """Whether ``key`` came before (then ``problem``, with {} for the first one's index, is
    reported); remembers where it came first."""
    if key in seen:
        problems.append(problem.format(seen[key]))
        return True
    seen[key] = i
    return False


def _compiled(
    query: str | None, path: str, problems: list[str], notices: list[str]
) -> str | None:
    """The FTS5 form of a query; a problem (with its column, and the query there) when it
    is invalid; a notice when it is read as an earlier version read it, which other tools'
    users read another way (an upgrade stopped the daemon on a topic it ran yesterday)."""
    if query is None:
        return None
    # The query language: not for --help.
    from watchlist import AmbiguousQuery, QueryError, compile_query, fts_expression

    from .search import query_problem

    try:
        return compile_query(query)
    except AmbiguousQuery as exc:
        notices.append(query_problem(path, query, exc) + "; read as before, for now")
        return fts_expression(query)
    except QueryError as exc:
        problems.append(query_problem(path, query, exc))
        return None


def _interval(seconds: float | None, path: str, problems: list[str]) -> int | None:
    """A polling interval in whole seconds, at least one."""
    if seconds is None:
        return None
    if seconds < 1:
        problems.append(f"{path}: a polling interval must be at least 1s")
        return None
    return round(seconds)


def _within(
    table: _Table, section: str, key: str, low: int, high: int, problems: list[str]
) -> None:
    """A problem when the integer ``key`` is set, but not ``low`` to ``high``."""
    value = table.maybe(key, INT)
    if value is not None and not low <= value <= high:
        problems.append(f"{section}.{key}: must be {low} to {high}, not {value}")


def _text(table: _Table, key: str, section: str, problems: list[str]) -> str | None:
    """The string ``key`` of a table; a problem, and None, when it is set but blank."""
    value = table.maybe(key, STR)
    if value is not None and not value.strip():
        problems.append(f"{section}.{key}: must not be empty")
        return None
    return value


def _file(table: _Table, key: str, section: str, base: Path, problems: list[str]) -> Path | None:
    """The file ``key`` names, which newswatch creates (with its directories) when it is
    missing; None when it is unset, or (a problem) cannot be such a file: empty, with a NUL
    character, a directory, or under a file."""
    file = _path(table, key, section, base, problems)
    if file is None:
        return None
    if os.path.isdir(file):
        problems.append(f"{section}.{key}: {file} is a directory")
        return None
    # check creates nothing: the first of its directories that exists must be one.
    parent = next((p for p in file.parents if os.path.exists(p)), None)
    if parent is not None and not os.path.isdir(parent):
        problems.append(f"{section}.{key}: {parent} is not a directory")
        return None
    if parent is not None and _too_long(file, parent):
        problems.append(f"{section}.{key}: {file}: a name in it is longer than the file "
                        "system takes")
        return None
    return file


#: The longest ending newswatch gives the files it keeps beside the one it writes (the
#: database's ``-journal``, ``-wal``, ``.lock``; ``.restoring`` while a backup is restored).
_BESIDE = len(".restoring")


def _too_long(file: Path, parent: Path) -> bool:
    """Whether a name of ``file`` under its existing directory ``parent``, or the whole path,
    is longer than that file system takes (255 bytes a name on most): ``check`` said
    "unexpected error: OSError: File name too long", and a crawl could make no file there."""
    name_max = os.pathconf(parent, "PC_NAME_MAX")
    names = [len(os.fsencode(name)) for name in file.relative_to(parent).parts]
    names[-1] += _BESIDE
    return max(names) > name_max or len(os.fsencode(file)) + _BESIDE >= os.pathconf(
        parent, "PC_PATH_MAX")


def _path(table: _Table, key: str, section: str, base: Path, problems: list[str]) -> Path | None:
    """The path ``key`` names (a relative one is relative to ``base``); None when it is
    unset, or (a problem) empty, with a NUL character, or under the home of no user."""
    value = _text(table, key, section, problems)
    if value is None:
        return None
    if "\0" in value:
        problems.append(f"{section}.{key}: must not contain a NUL character")
        return None
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # ~name of no user, or ~ without a home
        user = value.split("/", 1)[0]
        problems.append(f"{section}.{key}: cannot find the home directory of {user}")
        return None
    return path if path.is_absolute() else base / path
