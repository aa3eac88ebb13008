"""One typed parser per kind of config value (newswatch.settings.Kind): the config file, and
the commands that take the same values as options, read them here."""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Literal, TypeVar, cast, get_args
from urllib.parse import urlsplit

from storage.kinds import SourceKind, TopicMode

from .settings import Kind
from .units import parse_duration, parse_size

if TYPE_CHECKING:
    from alerts.schedule import Time

T = TypeVar("T")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LEVELS: tuple[LogLevel, ...] = get_args(LogLevel)
SOURCE_KINDS: tuple[SourceKind, ...] = get_args(SourceKind)
TOPIC_MODES: tuple[TopicMode, ...] = get_args(TopicMode)
EMAIL_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$|^[^@\s<>,;]+@localhost$")


@dataclass(frozen=True)
class Parser(Generic[T]):
    """How the values of one kind are read; ``parse`` raises ValueError with a message for
    the user."""

    kind: Kind
    parse: Callable[[object], T]


def type_name(value: object) -> str:
    """How a message names the type of a TOML value ("an integer", "a table")."""
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _choice(value: object, choices: tuple[T, ...]) -> T:
    for choice in choices:
        if value == choice:
            return choice
    raise ValueError(f"expected one of {', '.join(map(str, choices))}")


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type_name(value)}")
    return value


def _name(value: object) -> str:
    text = _str(value)
    # A line break or a control character breaks the lines of the tables that list names.
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text):
        raise ValueError(f"{text!r} is not one line of text (a newline or a control character)")
    return text


def name_key(name: str) -> str:
    """What a name looks like in `topics list` and in emails: "Maduro exit" and
    "maduro  exit " are one name (two topics of them were told apart by nobody)."""
    return " ".join(name.split()).casefold()


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {type_name(value)}")
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {type_name(value)}")
    return value


def _level(value: object) -> LogLevel:
    return _choice(value.upper() if isinstance(value, str) else value, LEVELS)


def _url(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a URL string, got {type_name(value)}")
    if any(unicodedata.category(c) == "Cc" for c in value.strip()):
        raise ValueError(
            f"{value!r}: a URL must not contain control characters (a tab, a newline...)"
        )
    from crawler.googlenews import feed_address  # not for --help

    # A Google News page as a browser shows it is read as its feed (crawler.googlenews).
    given, value = value, feed_address(_without_feed_scheme(value.strip()))
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{given!r} is not an http(s) URL")
    try:
        _ = parts.port  # a crawl cannot request a port out of range, or one that is no number
    except ValueError as exc:
        raise ValueError(f"{given!r}: {exc}") from None
    from w3lib.url import safe_url_string  # as Scrapy requests it: not for --help

    # The host as the crawl requests it, IDNA-encoded ("bücher.example" is
    # "xn--bcher-kva.example"); an IPv6 literal was checked by urlsplit.
    host = urlsplit(safe_url_string(value)).hostname or ""
    problem = None if ":" in host else _host_problem(host)
    if problem:  # taken, then every poll failed ("invalid hostname", "DNS lookup failed")
        raise ValueError(f"{given!r}: the host {parts.hostname!r} {problem}")
    return value


def _host_problem(host: str) -> str | None:
    """Why no crawl can reach the host name ``host`` (IDNA-encoded), said after "the host
    ...", or None. Hosts that real sites use pass: underscores (``my_blog.example.com``),
    labels that start or end with a hyphen (subdomains such as a Tumblr blog's), a trailing
    dot (``example.com.``, the root)."""
    name = host.removesuffix(".")
    labels = name.split(".")
    if "" in labels:
        return "has an empty label (two dots in a row, or a dot first)"
    # The crawl's HTTP client (Twisted, with Scrapy's fallback for underscores) refuses any
    # other character ("invalid hostname").
    if wrong := "".join(sorted({c for c in name if not _in_host_name(c)})):
        return f"has a space or a character a host name cannot have: {wrong!r}"
    if not name.isascii():  # IDNA could not encode it (the crawl cannot either)
        return "is no international domain name IDNA can encode"
    if max(map(len, labels)) > 63 or len(name) > 253:
        return "is longer than a host name can be (63 characters a label, 253 in all)"
    if labels[-1].isdigit():  # an IPv4 address, in any of the forms a resolver reads
        try:
            socket.inet_aton(name)
        except OSError:
            return "is no IP address (four numbers 0 to 255), and no host name ends in a number"
    return None


def _in_host_name(char: str) -> bool:
    """Whether ``char`` may be in a host name (a letter or digit of any script before IDNA
    encodes it, its combining marks, "-", "_")."""
    return char.isalnum() or char in "._-" or unicodedata.category(char).startswith("M")


def _without_feed_scheme(url: str) -> str:
    """The web address of a ``feed:`` URL, the pseudo-scheme that older browsers and feed
    readers wrote (``feed://host/rss``: http; ``feed:https://host/rss``); any other as it is."""
    scheme, colon, rest = url.partition(":")
    if not colon or scheme.lower() != "feed":
        return url
    if rest.startswith("//"):
        return "http:" + rest
    return rest


def _address(value: object) -> str:
    host, sep, port = str(value).rpartition(":")
    if (not isinstance(value, str) or not sep or not (port.isascii() and port.isdigit())
            or int(port) > 65535):
        raise ValueError(f'{value!r} is not host:port (e.g. "127.0.0.1:9464")')
    problem = _listening_problem(host)
    if problem:  # passed check, then run stopped: "cannot listen ... Name or service not known"
        raise ValueError(f"{value!r}: {problem}")
    return value


def _listening_problem(host: str) -> str | None:
    """Why the daemon cannot listen on ``host`` on any machine (scheduler.metrics.serve), or
    None: an empty host (127.0.0.1), an IP address ("[::1]" for IPv6), a host name. Whether
    this machine has that address, and the port is free, only ``run`` knows."""
    address = host
    if host.startswith("[") and host.endswith("]"):
        address = host[1:-1]
    elif ":" not in host:
        try:
            name = host.encode("idna").decode("ascii")
        except UnicodeError:
            name = host
        problem = _host_problem(name) if host else None
        return problem and f"the host {host!r} {problem}"
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return f'{host!r} is no IP address (an IPv6 address goes in brackets: "[::1]:9464")'
    return None


def _patterns(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise ValueError("expected a list of URL patterns")
    return tuple(items)


def _sources(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise ValueError("expected a list of source names, URLs or hosts")
    return tuple(dict.fromkeys(item.strip() for item in items))


def _recipients(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError("expected a list of email addresses or notification URLs")
    from alerts.channels import check_channel, is_channel  # not for --help

    kept: list[str] = []
    for item in items:
        if isinstance(item, str) and is_channel(item.strip()):
            check_channel(item.strip())
        elif not isinstance(item, str) or not EMAIL_ADDRESS.match(item.strip()):
            raise ValueError(
                f"{item!r} is not an email address (nor a notification URL, e.g. ntfy://…)"
            )
        kept.append(item.strip())
    return tuple(kept)


def _timezone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a time zone name, got {type_name(value)}")
    from alerts.schedule import zone  # zoneinfo: not for --help

    zone(value.strip())
    return value.strip()


def _times(value: object) -> tuple[Time, ...]:
    if not isinstance(value, str | list):
        raise ValueError(f'expected times of day such as "08:00,17:00", got {type_name(value)}')
    from alerts.schedule import parse_times

    return parse_times(value)


def _email(value: object) -> str:
    if not isinstance(value, str) or not EMAIL_ADDRESS.match(value.strip()):
        raise ValueError(f"{value!r} is not an email address")
    return value.strip()


def _emails(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError("expected a list of email addresses")
    return tuple(_email(item) for item in items)


STR = Parser("str", _str)
NAME = Parser("name", _name)
INT = Parser("int", _int)
BOOL = Parser("bool", _bool)
DURATION = Parser("duration", parse_duration)
PAUSE = Parser("pause", lambda value: parse_duration(value, allow_zero=True))
SIZE = Parser("size", parse_size)
LEVEL = Parser("level", _level)
URL = Parser("url", _url)
ADDRESS = Parser("address", _address)
SOURCE_KIND = Parser("kind", lambda value: _choice(value, SOURCE_KINDS))
PATTERNS = Parser("patterns", _patterns)
SOURCES = Parser("sources", _sources)
def _mode(value: object) -> TopicMode:
    try:
        return _choice(value, TOPIC_MODES)
    except ValueError as exc:
        example = {"daily": "08:00", "weekly": "Mon 08:00"}.get(str(value).strip().casefold())
        if example:
            raise ValueError(
                f'{exc} (a {str(value).strip().casefold()} email: mode = "digest", and the '
                f'digest times in [alerts] or [[recipients]], e.g. digest = "{example}")'
            ) from None
        raise


MODE = Parser("mode", _mode)
RECIPIENTS = Parser("recipients", _recipients)
TIMEZONE = Parser("timezone", _timezone)
TIMES = Parser("times", _times)
EMAIL = Parser("email", _email)
EMAILS = Parser("emails", _emails)

#: The parser of each kind of value.
PARSERS: dict[Kind, Parser[object]] = {
    parser.kind: cast("Parser[object]", parser)
    for parser in (
        STR, NAME, INT, BOOL, DURATION, PAUSE, SIZE, LEVEL, URL, ADDRESS, SOURCE_KIND, PATTERNS,
        SOURCES, MODE, RECIPIENTS, TIMEZONE, TIMES, EMAIL, EMAILS,
    )
}  # fmt: skip


def check_value(kind: Kind, value: object) -> object:
    """Parse one value of ``kind``; raises ValueError with a message for the user."""
    return PARSERS[kind].parse(value)
