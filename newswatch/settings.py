"""The settings model: every key of the config file, its type, default and help.

This table is the single source of truth: the loader validates against it, and a test
checks that the README documents every key (tests/test_docs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: How a value is read: each kind has one parser in newswatch.values (``PARSERS``).
Kind = Literal[
    "str",
    "name",
    "int",
    "bool",
    "duration",
    "pause",
    "size",
    "level",
    "url",
    "address",
    "kind",
    "patterns",
    "sources",
    "mode",
    "recipients",
    "timezone",
    "times",
    "email",
    "emails",
]


@dataclass(frozen=True)
class Setting:
    """One config key: its kind (how it is parsed), its default (as the file would write it)
    and a one-line help. ``restart``: a running daemon cannot apply a new value on SIGHUP
    (it says so, by name); every other setting is reloaded."""

    kind: Kind
    default: str | int | bool | None
    help: str
    required: bool = False
    restart: bool = False


SECTIONS: dict[str, dict[str, Setting]] = {
    "database": {
        "path": Setting(
            "str",
            "newswatch.db",
            "SQLite file; a relative path is relative to the working directory",
            restart=True,
        ),
        "url": Setting(
            "str",
            None,
            "PostgreSQL database shared by several machines (postgresql://…), instead of path",
            restart=True,
        ),
        "keep": Setting(
            "duration",
            "365d",
            "article text older than this is pruned (titles, matches and alert records stay)",
        ),
    },
    "smtp": {
        "host": Setting("str", None, "mail server host name", required=True),
        "port": Setting("int", 587, "mail server port (587 STARTTLS, 465 implicit TLS, 25 plain)"),
        "from": Setting("str", "newswatch@localhost", "From address of alert emails"),
        "from_name": Setting("str", "newswatch", "display name in the From header of alert emails"),
        "starttls": Setting("bool", False, "upgrade the connection with STARTTLS"),
        "tls": Setting("bool", False, "implicit TLS from the first byte (port 465)"),
        "username": Setting("str", None, "user name to log in with (no login when unset)"),
        "password_env": Setting("str", None, "environment variable that holds the password"),
        "password_file": Setting("str", None, "file whose first line is the password"),
        "timeout": Setting("duration", "30s", "timeout for each SMTP operation"),
    },
    "crawl": {
        "every": Setting("duration", "15m", "default polling interval of a source"),
        "user_agent": Setting(
            "name",
            "newswatch/0.1 (+https://github.com/newswatch/newswatch)",
            "User-Agent sent with every request; include a contact URL",
        ),
        "timeout": Setting("duration", "30s", "timeout of each HTTP request"),
        "max_size": Setting("size", "10MB", "largest response body accepted"),
        "delay": Setting("pause", "1s", "pause between two requests to the same host"),
        "per_host": Setting("int", 2, "concurrent requests to one host at most (1 to 100)"),
        "retries": Setting(
            "int", 2, "retries of a request that failed on the network or 5xx (0 to 10)"
        ),
        "obey_robots": Setting("bool", True, "obey robots.txt when fetching article pages"),
        "verify_tls": Setting(
            "bool", True, "check the certificates of the sites fetched over HTTPS"
        ),
        "workers": Setting(
            "int",
            None,
            "processes that extract article text (default: one per core; 0: none; at most 64)",
            restart=True,
        ),
    },
    "alerts": {
        "lookback": Setting(
            "duration", "48h", "articles published longer ago than this are stored but not alerted"
        ),
        "mbox": Setting(
            "str", None, "mbox file for alerts when [smtp] is absent; default: next to the database"
        ),
        "retry_base": Setting("duration", "1m", "first delay before retrying a failed delivery"),
        "retry_max": Setting("duration", "1h", "longest delay between delivery retries"),
        "operator": Setting(
            "emails", None, "who gets source-health emails (a source failing, then recovering)"
        ),
        "health_after": Setting(
            "duration", "24h", "how long a source must keep failing before the operator is told"
        ),
        "stream": Setting(
            "pause",
            "2s",
            "while a crawl runs, match and send the alerts of the sources it has polled this"
            " often; 0s: only when the crawl ends",
        ),
        "timezone": Setting(
            "timezone", "UTC", 'IANA time zone of the digest times, e.g. "America/Caracas"'
        ),
        "digest": Setting(
            "times", "08:00", 'times of day digests go out, e.g. "08:00,17:00" (local time)'
        ),
        "empty_digest": Setting(
            "bool", False, "send a digest saying nothing matched when there is nothing to report"
        ),
        "storm": Setting(
            "int",
            20,
            "more immediate alerts than this to one recipient in an hour fold into a digest;"
            " 0: never",
        ),
    },
    "daemon": {
        "tick": Setting(
            "duration", "30s", "how often the daemon looks for due sources and mail (1s or more)"
        ),
        "log_level": Setting("level", "INFO", "DEBUG, INFO, WARNING or ERROR"),
        "metrics": Setting(
            "address",
            None,
            "host:port of a Prometheus /metrics endpoint; off when unset",
            restart=True,
        ),
        "jobs": Setting(
            "int",
            4,
            "crawl jobs (sources) a crawler role runs at once (several machines; 1 to 100)",
            restart=True,
        ),
        "heartbeat": Setting(
            "duration", "10s", "how often a crawler role tells the cluster it is alive",
            restart=True,
        ),
        "stalled_after": Setting(
            "duration",
            "30s",
            "a crawler silent this long is dead: its crawl runs again elsewhere"
            " (longer than heartbeat)",
            restart=True,
        ),
        "retry_stalled": Setting(
            "duration", "10s", "how often crawlers look for dead ones' crawls (1s to 59s)",
            restart=True,
        ),
    },
}

LISTS: dict[str, dict[str, Setting]] = {
    "sources": {
        "url": Setting(
            "url", None, "a feed, a sitemap, or a site's home or section page", required=True
        ),
        "every": Setting("duration", None, "polling interval; default [crawl] every"),
        "name": Setting("name", None, "display name; default: the feed's title"),
        "kind": Setting(
            "kind", None, "feed, sitemap or page; default: detected from what the URL serves"
        ),
        "include": Setting(
            "patterns", None, "URL patterns (* wildcards) an article link must match (page sources)"
        ),
        "exclude": Setting(
            "patterns", None, "URL patterns (* wildcards) that rule a link out (page sources)"
        ),
    },
    "topics": {
        "name": Setting("name", None, "topic name, shown in alert subjects", required=True),
        "query": Setting("str", None, "what to watch for, in the query language", required=True),
        "notify": Setting(
            "recipients",
            None,
            "email addresses, or notification URLs (Apprise: ntfy://, slack://, …), "
            "that get this topic's alerts",
            required=True,
        ),
        "sources": Setting(
            "sources", None, "source names, URLs or hosts the topic applies to; default all"
        ),
        "exclude": Setting(
            "str", None, "a query: articles that match it never alert for the topic"
        ),
        "mode": Setting(
            "mode", "immediate", '"immediate" (every crawl cycle) or "digest" (at digest times)'
        ),
    },
    "recipients": {
        "email": Setting("email", None, "the recipient these settings are for", required=True),
        "timezone": Setting("timezone", None, "their time zone; default [alerts] timezone"),
        "digest": Setting("times", None, "their digest times; default [alerts] digest"),
        "empty_digest": Setting("bool", None, "default [alerts] empty_digest"),
        "storm": Setting("int", None, "their storm limit; default [alerts] storm"),
    },
}
