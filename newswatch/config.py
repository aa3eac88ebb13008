"""Loading and validating the config file (TOML) into one frozen Config.

Every problem in a file is reported at once, each with its key path
(``topics[2].query: unclosed parenthesis at column 14``); nothing is half-loaded.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from alerts import RecipientPolicies, RecipientPolicy, SmtpSettings, check_channel, is_channel
from alerts.schedule import parse_times, zone
from storage import SourceSpec, TopicSpec
from watchlist import QueryError, compile_query

from .settings import LISTS, SECTIONS, Setting
from .units import parse_duration, parse_size

if TYPE_CHECKING:
    from crawler import CrawlSettings

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$|^[^@\s<>,;]+@localhost$")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SOURCE_KINDS = ("feed", "sitemap", "page")
TOPIC_MODES = ("immediate", "digest")


class ConfigError(Exception):
    """The config file cannot be used; ``problems`` lists every reason, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class Config:
    """Everything newswatch needs to run, validated."""

    path: Path | None
    database: Path
    keep_seconds: float
    smtp: SmtpSettings | None
    crawl: CrawlSettings
    default_every: int
    lookback_seconds: float
    mbox: Path
    retry_base: float
    retry_max: float
    operator: tuple[str, ...]
    health_after: float
    tick_seconds: float
    log_level: str
    metrics: str | None
    sources: tuple[SourceSpec, ...]
    topics: tuple[TopicSpec, ...]
    recipients: RecipientPolicies = field(default_factory=RecipientPolicies)


def default_of(table: str, key: str) -> Any:
    """The default of ``table.key``, parsed, as newswatch.settings states it."""
    setting = SECTIONS[table][key] if table in SECTIONS else LISTS[table][key]
    return check_value(setting.kind, setting.default)


def check_value(kind: str, value: Any) -> Any:
    """Parse one value of ``kind``; raises ValueError with a message for the user."""
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {_tname(value)}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {_tname(value)}")
        if value < 0:
            raise ValueError("must not be negative")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {_tname(value)}")
        return value
    if kind == "duration":
        return parse_duration(value)
    if kind == "pause":
        return parse_duration(value, allow_zero=True)
    if kind == "size":
        return parse_size(value)
    if kind == "level":
        if not isinstance(value, str) or value.upper() not in _LEVELS:
            raise ValueError(f"expected one of {', '.join(_LEVELS)}")
        return value.upper()
    if kind == "url":
        if not isinstance(value, str):
            raise ValueError(f"expected a URL string, got {_tname(value)}")
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.strip()
    if kind == "address":
        _host, sep, port = str(value).rpartition(":")
        if not isinstance(value, str) or not sep or not port.isdigit() or int(port) > 65535:
            raise ValueError(f'{value!r} is not host:port (e.g. "127.0.0.1:9464")')
        return value
    if kind == "kind":
        if value not in SOURCE_KINDS:
            raise ValueError(f"expected one of {', '.join(SOURCE_KINDS)}")
        return value
    if kind == "patterns":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise ValueError("expected a list of URL patterns")
        return tuple(items)
    if kind == "sources":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise ValueError("expected a list of source names, URLs or hosts")
        return tuple(dict.fromkeys(item.strip() for item in items))
    if kind == "mode":
        if value not in TOPIC_MODES:
            raise ValueError(f"expected one of {', '.join(TOPIC_MODES)}")
        return value
    if kind == "recipients":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise ValueError("expected a list of email addresses or notification URLs")
        for item in items:
            if isinstance(item, str) and is_channel(item.strip()):
                check_channel(item.strip())
            elif not isinstance(item, str) or not _EMAIL.match(item.strip()):
                raise ValueError(
                    f"{item!r} is not an email address (nor a notification URL, e.g. ntfy://…)"
                )
        return tuple(item.strip() for item in items)
    if kind == "timezone":
        if not isinstance(value, str):
            raise ValueError(f"expected a time zone name, got {_tname(value)}")
        zone(value.strip())
        return value.strip()
    if kind == "times":
        if not isinstance(value, str | list):
            raise ValueError(f'expected times of day such as "08:00,17:00", got {_tname(value)}')
        return parse_times(value)
    if kind == "email":
        if not isinstance(value, str) or not _EMAIL.match(value.strip()):
            raise ValueError(f"{value!r} is not an email address")
        return value.strip()
    if kind == "emails":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise ValueError("expected a list of email addresses")
        for item in items:
            if not isinstance(item, str) or not _EMAIL.match(item.strip()):
                raise ValueError(f"{item!r} is not an email address")
        return tuple(item.strip() for item in items)
    raise AssertionError(kind)


def _tname(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _table(data: Any, path: str, spec: dict[str, Setting], problems: list[str]) -> dict[str, Any]:
    """Validate one table against its spec; defaults fill what is missing."""
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a table, got {_tname(data)}")
        return {}
    values: dict[str, Any] = {}
    for key in data:
        if key not in spec:
            known = ", ".join(spec)
            problems.append(f"{path}.{key}: unknown key (known keys: {known})")
    for key, setting in spec.items():
        if key in data:
            try:
                values[key] = check_value(setting.kind, data[key])
            except ValueError as exc:
                problems.append(f"{path}.{key}: {exc}")
        elif setting.required:
            problems.append(f"{path}.{key}: missing (required)")
        else:
            default = setting.default
            values[key] = check_value(setting.kind, default) if default is not None else None
    return values


def load_config(path: str | Path | None, environ: dict[str, str] | None = None) -> Config:
    """Read and validate the config file at ``path`` (None: all defaults, no sources)."""
    env = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    source_name = str(path) if path else "defaults"
    base = Path.cwd()
    if path is not None:
        file = Path(path)
        try:
            with file.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(source_name, ["file not found"]) from None
        except OSError as exc:
            raise ConfigError(source_name, [f"cannot read: {exc.strerror}"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(source_name, [f"not valid TOML: {exc}"]) from None
    return _build(data, source_name, base, env)


def _build(data: dict[str, Any], source_name: str, base: Path, env: dict[str, str]) -> Config:
    problems: list[str] = []
    for key in data:
        if key not in SECTIONS and key not in LISTS:
            known = ", ".join([*SECTIONS, *LISTS])
            problems.append(f"{key}: unknown section (known: {known})")
    sections = {
        name: _table(data.get(name, {}), name, spec, problems)
        for name, spec in SECTIONS.items()
        if name != "smtp"
    }
    smtp = _smtp(data["smtp"], problems, env, base) if "smtp" in data else None
    crawl = sections["crawl"]
    default_every = _interval(crawl.get("every"), "crawl.every", problems) or round(
        default_of("crawl", "every")
    )

    sources: list[SourceSpec] = []
    seen_urls: dict[str, int] = {}
    for i, values in _entries(data, "sources", problems):
        url = values.get("url")
        if not url:
            continue
        if _repeated(seen_urls, url, i, f"sources[{i}].url: same URL as sources[{{}}]", problems):
            continue
        every = _interval(values.get("every"), f"sources[{i}].every", problems)
        sources.append(
            SourceSpec(
                url,
                every or default_every,
                values.get("name"),
                kind=values.get("kind"),
                include=values.get("include") or (),
                exclude=values.get("exclude") or (),
            )
        )

    topics: list[TopicSpec] = []
    seen_names: dict[str, int] = {}
    for i, values in _entries(data, "topics", problems):
        name, query = values.get("name"), values.get("query")
        if name is not None:
            if not name.strip():
                problems.append(f"topics[{i}].name: must not be empty")
            elif name in seen_names:
                problems.append(f"topics[{i}].name: same name as topics[{seen_names[name]}]")
            seen_names.setdefault(name, i)
        compiled = _compiled(query, f"topics[{i}].query", problems)
        exclude = values.get("exclude")
        exclude_compiled = _compiled(exclude, f"topics[{i}].exclude", problems)
        if name and query and compiled and values.get("notify"):
            topics.append(
                TopicSpec(
                    name,
                    query,
                    compiled,
                    values["notify"],
                    sources=values.get("sources") or (),
                    exclude=exclude,
                    exclude_compiled=exclude_compiled,
                    mode=values.get("mode") or default_of("topics", "mode"),
                )
            )

    alerts = sections["alerts"]
    recipients = _recipients(data, alerts, problems)

    if problems:
        raise ConfigError(source_name, problems)
    # The crawler package loads Scrapy: only the commands that read a config pay for it.
    from crawler import CrawlSettings

    database = _resolve(base, sections["database"]["path"])
    mbox = _resolve(base, alerts["mbox"]) if alerts.get("mbox") else database.with_suffix(".mbox")
    return Config(
        path=None if source_name == "defaults" else Path(source_name),
        database=database,
        keep_seconds=sections["database"]["keep"],
        smtp=smtp,
        crawl=CrawlSettings(
            user_agent=crawl["user_agent"],
            timeout_seconds=crawl["timeout"],
            max_bytes=crawl["max_size"],
            delay_seconds=crawl["delay"],
            per_host=max(1, crawl["per_host"]),
            retries=crawl["retries"],
            obey_robots=crawl["obey_robots"],
            workers=crawl["workers"],
        ),
        default_every=default_every,
        lookback_seconds=alerts["lookback"],
        mbox=mbox,
        retry_base=alerts["retry_base"],
        retry_max=alerts["retry_max"],
        operator=alerts.get("operator") or (),
        health_after=alerts["health_after"],
        tick_seconds=sections["daemon"]["tick"],
        log_level=sections["daemon"]["log_level"],
        metrics=sections["daemon"].get("metrics"),
        sources=tuple(sources),
        topics=tuple(topics),
        recipients=recipients,
    )


def _recipients(
    data: dict[str, Any], alerts: dict[str, Any], problems: list[str]
) -> RecipientPolicies:
    """The digest and storm settings of ``[alerts]``, and each ``[[recipients]]``'s own."""
    default = RecipientPolicy(
        timezone=alerts.get("timezone") or default_of("alerts", "timezone"),
        times=alerts.get("digest") or default_of("alerts", "digest"),
        empty=bool(alerts.get("empty_digest")),
        storm=alerts["storm"] if alerts.get("storm") is not None else default_of("alerts", "storm"),
    )
    overrides: list[tuple[str, RecipientPolicy]] = []
    seen: dict[str, int] = {}
    for i, values in _entries(data, "recipients", problems):
        email = values.get("email")
        if not email:
            continue
        problem = f"recipients[{i}].email: same address as recipients[{{}}]"
        if _repeated(seen, email.casefold(), i, problem, problems):
            continue
        given = {
            attr: values[key]
            for key, attr in (
                ("timezone", "timezone"),
                ("digest", "times"),
                ("empty_digest", "empty"),
                ("storm", "storm"),
            )
            if values.get(key) is not None
        }
        overrides.append((email, replace(default, **given)))
    return RecipientPolicies(default, tuple(overrides))


def _repeated(seen: dict[str, int], key: str, i: int, problem: str, problems: list[str]) -> bool:
    """Whether ``key`` came before (then ``problem``, with {} for the first one's index, is
    reported); remembers where it came first."""
    if key in seen:
        problems.append(problem.format(seen[key]))
        return True
    seen[key] = i
    return False


def _compiled(query: str | None, path: str, problems: list[str]) -> str | None:
    """The FTS5 form of a query; a problem (with its column) when it is invalid."""
    if query is None:
        return None
    try:
        return compile_query(query)
    except QueryError as exc:
        problems.append(f"{path}: {exc}")
        return None


def _interval(seconds: float | None, path: str, problems: list[str]) -> int | None:
    """A polling interval in whole seconds, at least one."""
    if seconds is None:
        return None
    if seconds < 1:
        problems.append(f"{path}: a polling interval must be at least 1s")
        return None
    return round(seconds)


def _entries(
    data: dict[str, Any], key: str, problems: list[str]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each table of the array of tables ``key``, validated, with its index."""
    for i, item in enumerate(_list(data, key, problems)):
        yield i, _table(item, f"{key}[{i}]", LISTS[key], problems)


def _list(data: dict[str, Any], key: str, problems: list[str]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"{key}: expected an array of tables ([[{key}]]), got {_tname(value)}")
        return []
    return value


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _smtp(data: Any, problems: list[str], env: dict[str, str], base: Path) -> SmtpSettings | None:
    if isinstance(data, dict) and "password" in data:
        problems.append(
            "smtp.password: secrets are not read from the config file; "
            "use password_env or password_file"
        )
        data = {k: v for k, v in data.items() if k != "password"}
    before = len(problems)
    values = _table(data, "smtp", SECTIONS["smtp"], problems)
    port = values.get("port")
    if isinstance(port, int) and not 0 < port < 65536:
        problems.append(f"smtp.port: {port} is not a TCP port (1-65535)")
    if values.get("tls") and values.get("starttls"):
        problems.append("smtp: set either tls (port 465) or starttls, not both")
    sender = values.get("from")
    if isinstance(sender, str) and not _EMAIL.match(sender):
        problems.append(
            f"smtp.from: {sender!r} is not an email address (a display name goes in from_name)"
        )
    from_name = values.get("from_name")
    if isinstance(from_name, str) and not (from_name.strip() and from_name.isprintable()):
        problems.append(f"smtp.from_name: {from_name!r} is not one line of printable text")
    password = None
    if values.get("password_env"):
        password = env.get(values["password_env"])
        if password is None:
            problems.append(
                f"smtp.password_env: environment variable {values['password_env']} is not set"
            )
    elif values.get("password_file"):
        secret = _resolve(base, values["password_file"])
        try:
            password = secret.read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError) as exc:
            reason = getattr(exc, "strerror", None) or "empty file"
            problems.append(f"smtp.password_file: cannot read {secret}: {reason}")
    if password is not None and not values.get("username"):
        problems.append("smtp.username: required when a password is given")
    if len(problems) > before or not values.get("host"):
        return None
    return SmtpSettings(
        host=values["host"],
        port=values["port"],
        sender=values["from"],
        from_name=values["from_name"].strip(),
        starttls=bool(values["starttls"]),
        tls=bool(values["tls"]),
        username=values.get("username"),
        password=password,
        timeout=values["timeout"],
    )
