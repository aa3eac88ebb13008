"""The config file (load_config, ConfigError) and the command line around it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, Workdir, subprocess_env

from crawler import CrawlSettings
from newswatch.config import ConfigError, load_config
from newswatch.settings import SECTIONS
from scheduler import InstanceLock

README = ROOT / "README.md"
EXAMPLE = ROOT / "example.toml"


def readme_config_block() -> str:
    """The first ```toml block after '## Configuration' in the README."""
    text = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    match = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
    assert match, "README has no ```toml block after ## Configuration"
    return match.group(1)


def write(tmp_path: Path, text: str, name: str = "newswatch.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path | str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={} if environ is None else environ)
    assert info.value.source == str(path)
    assert info.value.problems
    assert all("\n" not in p for p in info.value.problems)
    return info.value.problems


# -- valid files ------------------------------------------------------------------------------


def test_readme_example_config_is_valid(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, readme_config_block())
    config = load_config(path, environ={"NEWSWATCH_SMTP_PASSWORD": "hunter2"})
    assert config.path == path
    assert config.database.path == tmp_path / "newswatch.db"
    assert config.smtp is not None
    assert (config.smtp.host, config.smtp.port, config.smtp.sender) == (
        "smtp.example.org", 587, "newswatch@example.org")
    assert config.smtp.starttls and not config.smtp.tls
    assert config.smtp.from_name == "Newsdesk alerts"
    assert (config.smtp.username, config.smtp.password) == ("newswatch", "hunter2")
    assert "hunter2" not in repr(config)  # the secret never shows in a repr (or a log line)
    assert [(s.url, s.every_seconds) for s in config.sources] == [
        ("https://feeds.bbci.co.uk/news/world/rss.xml", 600)]
    [topic] = config.topics
    assert topic.name == "Maduro exit"
    assert topic.notify == ("desk@example.org",)
    assert "nicolas maduro" in topic.compiled  # compiled: accents folded for FTS5


def test_readme_example_needs_its_password_variable(tmp_path: Path) -> None:
    path = write(tmp_path, readme_config_block())
    assert problems_of(path) == [
        "smtp.password_env: environment variable NEWSWATCH_SMTP_PASSWORD is not set"]


def test_example_toml_loads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(EXAMPLE, environ={})
    assert config.smtp is None
    assert config.alerts.mbox == tmp_path / "newswatch.mbox"
    assert "(newswatch.mbox here)" in EXAMPLE.read_text(encoding="utf-8")  # as its comment says
    assert len(config.sources) == 3
    assert [t.name for t in config.topics] == ["Maduro exit", "Rate decisions"]
    assert config.crawl.user_agent.startswith("newswatch/")
    assert {s.every_seconds for s in config.sources} == {600, 900, 1200}


def test_defaults_without_a_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, environ={})
    assert config.path is None
    assert config.database.path == tmp_path / "newswatch.db"
    assert config.alerts.mbox == tmp_path / "newswatch.mbox"
    assert config.smtp is None
    assert config.sources == () and config.topics == ()
    assert config.crawl.every_seconds == 15 * 60
    assert config.alerts.lookback_seconds == 48 * 3600
    assert (config.alerts.retry_base, config.alerts.retry_max) == (60, 3600)
    assert config.daemon.tick_seconds == 30
    assert config.daemon.log_level == "INFO"
    assert config.crawl == CrawlSettings(
        user_agent=SECTIONS["crawl"]["user_agent"].default,
        timeout_seconds=30, max_bytes=10_000_000, delay_seconds=1, per_host=2, retries=2,
        obey_robots=True,
    )
    # An empty file means the same as no file.
    assert load_config(write(tmp_path, ""), environ={}).crawl == config.crawl


def test_a_password_file_that_is_not_utf8_is_a_config_error(tmp_path: Path, monkeypatch) -> None:
    """Saved in Latin-1, it was "unexpected error: UnicodeDecodeError: ... byte 0xe4 in
    position 1" (a byte of the password, and where), exit 1: systemd restarted it forever."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret").write_bytes("päss".encode("latin-1"))
    path = write(tmp_path, '[smtp]\nhost = "h"\nusername = "u"\npassword_file = "secret"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert refused.value.problems == [
        f"smtp.password_file: {tmp_path / 'secret'} is not UTF-8 text (save it as UTF-8)"]


def test_values_are_parsed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret").write_text("s3cret\nignored second line\n", encoding="utf-8")
    path = write(tmp_path, textwrap.dedent("""
        [database]
        path = "data/news.db"
        [smtp]
        host = "127.0.0.1"
        port = 465
        tls = true
        username = "bot"
        password_file = "secret"
        timeout = "1m30s"
        from = "alerts@news.example.org"
        from_name = " Zoë's Desk, Caracas "
        [crawl]
        every = "1h30m"
        max_size = "512KiB"
        delay = "0s"
        per_host = 1
        retries = 0
        obey_robots = false
        timeout = "5s"
        [alerts]
        lookback = "2d"
        mbox = "mail/alerts.mbox"
        [daemon]
        tick = "90s"
        log_level = "debug"
        [[sources]]
        url = "https://a.example/feed"
        [[sources]]
        url = "https://b.example/feed"
        every = "10m"
        name = "B"
        [[topics]]
        name = "Single recipient"
        query = "covid-19"
        notify = "desk@example.org"
    """))
    config = load_config(path, environ={})
    assert config.database.path == tmp_path / "data" / "news.db"
    assert config.alerts.mbox == tmp_path / "mail" / "alerts.mbox"
    assert config.smtp is not None
    assert (config.smtp.port, config.smtp.tls, config.smtp.password) == (465, True, "s3cret")
    assert config.smtp.timeout == 90
    assert (config.smtp.sender, config.smtp.from_name) == (
        "alerts@news.example.org", "Zoë's Desk, Caracas")
    assert "s3cret" not in repr(config)
    assert config.crawl.max_bytes == 512 * 1024
    assert (config.crawl.delay_seconds, config.crawl.per_host, config.crawl.retries) == (0, 1, 0)
    assert config.crawl.timeout_seconds == 5 and config.crawl.obey_robots is False
    assert config.crawl.every_seconds == 5400
    assert [(s.url, s.every_seconds, s.name) for s in config.sources] == [
        ("https://a.example/feed", 5400, None), ("https://b.example/feed", 600, "B")]
    assert config.alerts.lookback_seconds == 2 * 86400
    assert (config.daemon.tick_seconds, config.daemon.log_level) == (90, "DEBUG")
    assert config.topics[0].notify == ("desk@example.org",)


def test_a_blank_source_name_is_the_feeds_title(tmp_path: Path) -> None:
    """A name is optional (the feed's title otherwise), as `sources add --name ""` has it: a
    blank one was kept, and the source shown nameless in `sources list`, `status` and
    emails, its feed's title never taken."""
    path = write(tmp_path, textwrap.dedent("""\
        [[sources]]
        url = "https://a.example/feed"
        name = "  "
        [[sources]]
        url = "https://b.example/feed"
        name = ""
        [[sources]]
        url = "https://c.example/feed"
        name = " BBC News "
    """))
    assert [s.name for s in load_config(path, environ={}).sources] == [None, None, "BBC News"]


# -- errors -----------------------------------------------------------------------------------

BAD = """
colour = "blue"

[database]
path = 5

[smtp]
host = "smtp.example.org"
username = "bot"
password = "hunter2"
password_env = "NO_SUCH_VARIABLE"

[crawl]
every = "5 parsecs"
max_size = "huge"
retries = -1
obey_robots = "yes"
speed = 3

[alerts]
lookback = "forever"

[daemon]
log_level = "LOUD"

[[sources]]
url = "ftp://news.example/feed"

[[sources]]
url = "https://news.example/feed"
every = "10m"

[[sources]]
url = "https://news.example/feed"

[[sources]]
every = "1h"

[[topics]]
name = "Maduro"
query = "Maduro Minsk (Belarus OR Caracas"
notify = ["desk@example.org", "not-an-email"]
colour = "red"

[[topics]]
name = "Maduro"
query = "NOT Trump"
notify = []

[[topics]]
name = 7
query = "Maduro AND"
notify = ["desk@example.org"]
"""

BAD_PROBLEMS = [
    "colour: unknown section",
    "database.path: expected a string, got an integer",
    "smtp.password: secrets are not read from the config file",
    "smtp.password_env: environment variable NO_SUCH_VARIABLE is not set",
    "crawl.every: '5 parsecs' is not a duration",
    "crawl.max_size: 'huge' is not a size",
    "crawl.retries: must not be negative",
    "crawl.obey_robots: expected true or false, got a string",
    "crawl.speed: unknown key",
    "alerts.lookback: 'forever' is not a duration",
    "daemon.log_level: expected one of DEBUG, INFO, WARNING, ERROR",
    "sources[0].url: 'ftp://news.example/feed' is not an http(s) URL",
    "sources[2].url: same URL as sources[1]",
    "sources[3].url: missing (required)",
    "topics[0].colour: unknown key (known keys: name, query, notify, sources, exclude, mode)",
    "topics[0].notify: 'not-an-email' is not an email address",
    'topics[0].query (topic "Maduro"): unclosed parenthesis at column 14',
    "topics[1].name: same name as topics[0]",
    "topics[1].notify: expected a list of email addresses",
    'topics[1].query (topic "Maduro"): a query or group can\'t consist only of excluded terms',
    "topics[2].name: expected a string, got an integer",
    "topics[2].query: 'AND' needs a term after it at column 8",
]


def test_every_problem_is_reported_at_once_with_its_key_path(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    problems = problems_of(path)
    for expected in BAD_PROBLEMS:
        assert sum(p.startswith(expected) for p in problems) == 1, (expected, problems)
    assert len(problems) == len(BAD_PROBLEMS), problems
    assert "hunter2" not in " ".join(problems)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[databse]\npath = "x.db"\n',
         "databse: unknown section; did you mean 'database'? (known sections: database, "),
        ('[crawl]\nevry = "1h"\n',
         "crawl.evry: unknown key; did you mean 'every'? (known keys: every, "),
        ('[[topics]]\nname = "T"\nquery = "x"\nnotfy = ["desk@example.org"]\n',
         "topics[0].notfy: unknown key; did you mean 'notify'? (known keys: name, query, "),
        ('[[sources]]\nurl = "https://a.example/feed"\nevery = "1h"\ncolour = "red"\n',
         "sources[0].colour: unknown key (known keys: url, "),
    ],
)
def test_an_unknown_key_names_the_known_one_it_is_near(
    tmp_path: Path, text: str, problem: str
) -> None:
    """`databse = ...` listed the known keys but said nothing of `database`, one letter
    away: a typo is taken for the nearest known name, at every level of the file; a key
    near none says none."""
    [said] = [p for p in problems_of(write(tmp_path, text)) if "unknown" in p]
    assert said.startswith(problem), said


def test_readme_error_examples_are_what_newswatch_says(tmp_path: Path, monkeypatch) -> None:
    readme = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    block = re.search(r"```\n(newswatch: .*?)```", readme, re.DOTALL)
    assert block
    examples = block.group(1).strip().splitlines()
    monkeypatch.chdir(tmp_path)
    write(tmp_path, """
[[sources]]
url = "https://a.example/feed"
[[sources]]
url = "https://b.example/feed"
every = "5 parsecs"
[[topics]]
name = "Maduro"
query = "Maduro Minsk (Belarus OR Caracas"
notify = ["desk@example.org"]
colour = "red"
""", name="bad.toml")
    with pytest.raises(ConfigError) as info:
        load_config("bad.toml", environ={})
    said = [f"newswatch: {info.value.source}: {p}" for p in info.value.problems]
    assert sorted(said) == sorted(examples)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[crawl]\ntimeout = "soon"', "crawl.timeout: 'soon' is not a duration"),
        ('[crawl]\nevery = "0s"', "crawl.every: must be positive"),
        ('[crawl]\nevery = "10x"', "crawl.every: '10x' is not a duration"),
        ('[crawl]\nevery = "m10"', "crawl.every: 'm10' is not a duration"),
        ("[crawl]\nevery = true", 'crawl.every: expected a duration such as "10m"'),
        # A bare number was read as seconds: `lookback = 48` (hours, its writer thought)
        # alerted nothing, `keep = 365` pruned every text within minutes.
        # A line break in the User-Agent header was folded away by Twisted (the from_name's
        # was refused): refused likewise.
        ('[crawl]\nuser_agent = "newswatch\\nX-Evil: 1"', "crawl.user_agent: 'newswatch\\nX-Evil: 1' is not "
                                                         "one line of text"),
        ('[crawl]\nuser_agent = " "', "crawl.user_agent: must not be empty"),
        ("[alerts]\nlookback = 48", 'alerts.lookback: 48 has no unit: write it with one, e.g. '
                                    '"48s", "48m" or "48h" (ms, s, m, h, d or w)'),
        ("[database]\nkeep = 365.5", "database.keep: 365.5 has no unit"),
        # Units are read in any case, but a month is not a minute.
        ('[database]\nkeep = "6M"',
         "database.keep: '6M': M is not a unit of durations (m: minutes; a month: 30d)"),
        # Past 100 years a duration overflowed the dates it is added to (a traceback at
        # every poll or tick, while `check` said the file was fine).
        ('[daemon]\ntick = "999999999d"', "daemon.tick: must be at most 100 years"),
        ('[crawl]\nevery = "36501d"', "crawl.every: must be at most 100 years"),
        ("[alerts]\nhealth_after = inf", "alerts.health_after: must be at most 100 years"),
        ('[crawl]\nmax_size = "10 parsecs"', "crawl.max_size: '10 parsecs' is not a size"),
        ('[crawl]\nmax_size = "0MB"', "crawl.max_size: must be positive"),
        ('[crawl]\nper_host = "2"', "crawl.per_host: expected an integer, got a string"),
        ("[crawl]\nper_host = 1.5", "crawl.per_host: expected an integer, got a number"),
        ('[[sources]]\nurl = "news.example/feed"', "sources[0].url: 'news.example/feed' is not"),
        ('[[sources]]\nurl = "https://"', "sources[0].url: 'https://' is not an http(s) URL"),
        ('[[sources]]\nurl = "https://a.example:99999/f"',
         "sources[0].url: 'https://a.example:99999/f': Port out of range 0-65535"),
        ('[[sources]]\nurl = "https://a.example:rss/f"',
         "sources[0].url: 'https://a.example:rss/f': Port could not be cast to integer value"),
        ("[[sources]]\nurl = 3", "sources[0].url: expected a URL string, got an integer"),
        # Taken, then every poll logged "ValueError: Invalid URI".
        ('[[sources]]\nurl = "https://exa mple.com/rss"',
         "sources[0].url: 'https://exa mple.com/rss': the host 'exa mple.com' has a space or a"
         " character a host name cannot have"),
        ('[[sources]]\nurl = "https://example.com/r\\tss"',
         "sources[0].url: 'https://example.com/r\\tss': a URL must not contain control"),
        # Written another way, one feed was two sources, polled twice as often.
        ('[[sources]]\nurl = "https://a.example/feed"\n[[sources]]\n'
         'url = "HTTPS://A.example:443/feed/#top"', "sources[1].url: same URL as sources[0]"),
        ('[[sources]]\nurl = "https://a.example/f"\nevery = "often"',
         "sources[0].every: 'often' is not a duration"),
        ('[[topics]]\nname = "t"\nquery = "x"\nnotify = ["a@b"]',
         "topics[0].notify: 'a@b' is not an email address"),
        ('[[topics]]\nname = "t"\nquery = "x"\nnotify = ["Desk <desk@example.org>"]',
         "topics[0].notify: 'Desk <desk@example.org>' is not an email address"),
        ('[[topics]]\nname = " "\nquery = "x"\nnotify = ["d@example.org"]',
         "topics[0].name: must not be empty"),
        # A name on two lines broke the rows of `topics list`, `sources list` and `status`.
        ('[[topics]]\nname = "Maduro\\nexit"\nquery = "x"\nnotify = ["d@example.org"]',
         "topics[0].name: 'Maduro\\nexit' is not one line of text (a newline or a control"),
        ('[[topics]]\nname = "Maduro\\u2028exit"\nquery = "x"\nnotify = ["d@example.org"]',
         "topics[0].name: 'Maduro\\u2028exit' is not one line of text"),
        ('[[sources]]\nurl = "https://a.example/feed"\nname = "A\\tfeed"',
         "sources[0].name: 'A\\tfeed' is not one line of text"),
        # Names that look the same in `topics list` and in emails were two topics.
        ('[[topics]]\nname = "Maduro exit"\nquery = "x"\nnotify = ["d@example.org"]\n'
         '[[topics]]\nname = "maduro  exit "\nquery = "y"\nnotify = ["d@example.org"]',
         "topics[1].name: 'maduro  exit ' looks the same as topics[0].name 'Maduro exit' "
         "(names differing only in case or spaces are one name)"),
        ('[[topics]]\nname = "t"\nquery = ""\nnotify = ["d@example.org"]',
         "topics[0].query (topic \"t\"): empty query at column 1"),
        ('[[topics]]\nname = "t"\nquery = "(Maduro"\nnotify = ["d@example.org"]',
         'topics[0].query (topic "t"): unclosed parenthesis at column 1 (here: "(Maduro")'),
        ('[[topics]]\nname = "t"\nquery = "Maduro)"\nnotify = ["d@example.org"]',
         "topics[0].query (topic \"t\"): unexpected ')' at column 7"),
        ('sources = "https://a.example/feed"',
         "sources: expected an array of tables ([[sources]]), got a string"),
        ('crawl = "fast"', "crawl: expected a table, got a string"),
        ('[smtp]\nhost = "h"\npassword_env = "SMTP_PW"',
         "smtp.username: required when a password is given"),
        # A user name of another type was said wrong, then missing ("required when a
        # password is given"): two lines, the second untrue.
        ('[smtp]\nhost = "h"\nusername = 42\npassword_env = "SMTP_PW"',
         "smtp.username: expected a string, got an integer"),
        ('[smtp]\nhost = "h"\nusername = ["u"]\npassword_env = "SMTP_PW"',
         "smtp.username: expected a string, got a list"),
        ('[smtp]\nhost = "h"\nusername = "u"\npassword_file = "missing-secret"',
         "smtp.password_file: cannot read"),
        # An empty host turned SMTP off (alerts went to the mbox); a login without a
        # password was refused by the server at every delivery; empty names were ignored.
        ('[smtp]\nhost = ""', "smtp.host: must not be empty"),
        ('[smtp]\nhost = " "', "smtp.host: must not be empty"),
        ('[smtp]\nhost = "h"\nusername = "u"',
         "smtp.username: a login needs a password: set password_env or password_file"),
        ('[smtp]\nhost = "h"\nusername = ""', "smtp.username: must not be empty"),
        ('[smtp]\nhost = "h"\nusername = "u"\npassword_env = ""',
         "smtp.password_env: must not be empty"),
        ('[smtp]\nhost = "h"\nusername = "u"\npassword_file = ""',
         "smtp.password_file: must not be empty"),
        ('[smtp]\nhost = "h"\npassword_env = ""', "smtp.password_env: must not be empty"),
        # password_file was ignored without a word: the server was sent the variable's.
        ('[smtp]\nhost = "h"\nusername = "u"\npassword_env = "SMTP_PW"\n'
         'password_file = "secret"', "smtp.password_env and smtp.password_file: give one"),
        # The working directory ("cannot open database ...: Is a directory" at run time), or
        # "unexpected error: ValueError: embedded null byte"; an empty mbox was ignored.
        ('[database]\npath = ""', "database.path: must not be empty"),
        ('[database]\npath = "news\\u0000.db"', "database.path: must not contain a NUL character"),
        ('[database]\npath = "~no-such-user-here/news.db"',
         "database.path: cannot find the home directory of ~no-such-user-here"),
        ('[database]\npath = "/dev/null"', "database.path: /dev/null is not a regular file"),
        ('[alerts]\nmbox = ""', "alerts.mbox: must not be empty"),
        ('[alerts]\nmbox = "a\\u0000"', "alerts.mbox: must not contain a NUL character"),
        ('[smtp]\nhost = "h"\nusername = "u"\npassword_file = "a\\u0000"',
         "smtp.password_file: must not contain a NUL character"),
        # Numbers that check took and a crawl or the daemon could not: page workers that
        # could not start (tracebacks, pages stored without their text), a refused connection
        # retried until killed, an idle daemon busy looking for work, 0 taken as 1.
        ("[crawl]\nworkers = 1000000", "crawl.workers: must be 0 to 64, not 1000000"),
        ("[crawl]\nworkers = 99999999999999999999",
         "crawl.workers: must be 0 to 64, not 99999999999999999999"),
        ("[crawl]\nretries = 1000000", "crawl.retries: must be 0 to 10, not 1000000"),
        ("[crawl]\nper_host = 0", "crawl.per_host: must be 1 to 100, not 0"),
        ('[daemon]\ntick = "1ms"', "daemon.tick: must be at least 1s"),
        ("[daemon]\njobs = 0", "daemon.jobs: must be 1 to 100, not 0"),
        ('[daemon]\nretry_stalled = "5m"', "daemon.retry_stalled: must be 1s to 59s, not 300s"),
        ('[daemon]\nretry_stalled = "59.7s"',
         "daemon.retry_stalled: must be 1s to 59s, not 59.7s"),
        ('[alerts]\nretry_max = "30s"',
         "alerts.retry_max: must not be shorter than alerts.retry_base"),
        ('[alerts]\nretry_base = "2h"',
         "alerts.retry_max: must not be shorter than alerts.retry_base"),
        ('[daemon]\nheartbeat = "30s"',
         "daemon.stalled_after: must be longer than daemon.heartbeat"),
        # Taken by check, then run stopped: "cannot listen on ...: Name or service not known"
        # (or on 0.0.0.0, every address, for "[]").
        ('[daemon]\nmetrics = "1.2.3.4.5:9464"', "daemon.metrics: '1.2.3.4.5:9464': the host "
         "'1.2.3.4.5' is no IP address (four numbers 0 to 255), and no host name ends in a"),
        ('[daemon]\nmetrics = "127.0.0.1 :9464"', "daemon.metrics: '127.0.0.1 :9464': the "
         "host '127.0.0.1 ' has a space or a character a host name cannot have: ' '"),
        ('[daemon]\nmetrics = "metrics..example:9464"',
         "daemon.metrics: 'metrics..example:9464': the host 'metrics..example' has an empty"),
        ('[daemon]\nmetrics = "[]:9464"', "daemon.metrics: '[]:9464': '[]' is no IP address "
         '(an IPv6 address goes in brackets: "[::1]:9464")'),
        ('[daemon]\nmetrics = "[::1:9464"', "daemon.metrics: '[::1:9464': '[::1' is no IP"),
        ('[daemon]\nmetrics = "fe80::zz:9464"', "daemon.metrics: 'fe80::zz:9464': 'fe80::zz'"),
        ('[daemon]\nmetrics = "127.0.0.1:\u00b2"',
         "daemon.metrics: '127.0.0.1:\u00b2' is not host:port"),
    ],
)
def test_single_problems(tmp_path: Path, text: str, problem: str) -> None:
    problems = problems_of(write(tmp_path, text), environ={"SMTP_PW": "x"})
    assert len(problems) == 1, problems
    assert problems[0].startswith(problem), problems


@pytest.mark.parametrize("address", [
    "127.0.0.1:9464", ":9464", "localhost:9464", "metrics.example.com:9464", "127.1:9464",
    "[::1]:0", "::1:9464", "[fe80::1%eth0]:9464", "[127.0.0.1]:9464",
])
def test_metrics_addresses_run_can_listen_on_are_taken(tmp_path: Path, address: str) -> None:
    path = write(tmp_path, f'[daemon]\nmetrics = "{address}"\n')
    assert load_config(path, environ={}).daemon.metrics == address


def test_database_problems_come_with_the_others(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "mysql://db/news"\n[crawl]\nevery = "often"\n')
    problems = problems_of(path)
    assert [p.split(":")[0] for p in problems] == ["crawl.every", "database.url"], problems


def test_files_newswatch_writes_are_checked_without_creating_anything(
    tmp_path: Path, monkeypatch
) -> None:
    # A database under a regular file passed check, then crawl and run said "cannot lock
    # database ...: File exists"; an mbox that is a directory had every alert retried forever.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain").write_text("a file\n", encoding="utf-8")
    (tmp_path / "mail").mkdir()
    path = write(tmp_path, textwrap.dedent("""
        [database]
        path = "plain/data/news.db"
        [alerts]
        mbox = "mail"
    """))
    assert problems_of(path) == [
        f"database.path: {tmp_path / 'plain'} is not a directory",
        f"alerts.mbox: {tmp_path / 'mail'} is a directory",
    ]
    write(tmp_path, f'[database]\npath = "{tmp_path}"\n')
    assert problems_of(path) == [f"database.path: {tmp_path} is a directory"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mail", "newswatch.toml", "plain"]
    # Directories that do not exist yet are made when the database is opened.
    write(tmp_path, '[database]\npath = "data/new/news.db"\n')
    assert load_config(path, environ={}).database.path == tmp_path / "data" / "new" / "news.db"


def test_the_ends_of_the_ranges_are_taken(tmp_path: Path) -> None:
    path = write(tmp_path, textwrap.dedent("""
        [crawl]
        per_host = 100
        retries = 10
        workers = 64
        [daemon]
        tick = "1s"
        jobs = 100
        heartbeat = "29s"
        retry_stalled = "59s"
    """))
    config = load_config(path, environ={})
    assert (config.crawl.per_host, config.crawl.retries, config.crawl.workers) == (100, 10, 64)
    assert (config.daemon.tick_seconds, config.daemon.jobs) == (1, 100)
    assert config.daemon.retry_stalled_seconds == 59
    write(tmp_path, "[crawl]\nper_host = 1\nretries = 0\nworkers = 0\n[daemon]\njobs = 1\n")
    crawl = load_config(path, environ={}).crawl
    assert (crawl.per_host, crawl.retries, crawl.workers) == (1, 0, 0)


REQUESTED = re.compile(r"[\x21-\x7e]+")  # what a request's URL may hold (else "Invalid URI")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/world news/rss",  # Scrapy escapes a space in the path
        "https://example.com/%20x?q=%C3%B6",
        "https://bücher.example/feed",  # a host name in any script: IDNA-encoded
        "https://例え.jp/rss",
        "https://example.com/ü?q=ö b#x y",
        "https://user name@example.com/feed",
        "https://[::1]:8080/feed",
        # Host names that real sites use, which a stricter reading of the RFCs refuses.
        "https://my_blog.example.com/feed",
        "https://-news-.example.com/feed",  # a Tumblr blog's subdomain may end in a hyphen
        "https://example.com./feed",  # the root's dot
        "https://EXAMPLE.com:8443/feed",
        "https://127.1/feed",  # 127.0.0.1, as a resolver reads it
    ],
)
def test_urls_scrapy_requests_are_taken(url: str) -> None:
    from scrapy import Request

    from newswatch.values import URL

    assert URL.parse(url) == url
    assert REQUESTED.fullmatch(Request(url).url)


@pytest.mark.parametrize(
    "url",
    [
        "https://exa mple.com/rss",
        "https://user@exa mple.com/rss",
        "https://exa\u3000mple.com/rss",  # an ideographic space becomes a space
        "https://exa\u00a0mple.com/rss",
        "https://exa\u202emple.com/rss",  # right-to-left override
        "https://exa\x7fmple.com/rss",
        "https://exa\tmple.com/rss",  # urlsplit drops a tab: the URL shown is not the one polled
        "https://example.com/r\nss",
    ],
)
def test_urls_scrapy_cannot_request_are_refused(url: str) -> None:
    from scrapy import Request

    from newswatch.values import URL

    with pytest.raises(ValueError, match="has a space or a character|control characters"):
        URL.parse(url)
    requested = Request(url).url  # refused when sent, or not the URL shown (a tab dropped)
    assert not REQUESTED.fullmatch(requested) or requested != url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://example..com/feed", "has an empty label (two dots in a row, or a dot first)"),
        ("http://.example.com/feed", "has an empty label"),
        ("http://example.com../feed", "has an empty label"),
        ("http://bücher..example/feed", "has an empty label"),
        ("http://ex$ample.com/feed", "has a space or a character a host name cannot have: '$'"),
        ("http://exa%20mple.com/feed", "has a space or a character a host name cannot have: '%'"),
        ("http://news,example.com/feed", "has a space or a character a host name cannot have: ','"),
        (f"http://{'a' * 64}.example/feed", "is longer than a host name can be"),
        (f"http://{'ü' * 60}.example/feed", "is no international domain name IDNA can encode"),
        ("http://300.1.1.1/feed", "is no IP address (four numbers 0 to 255)"),
        ("http://1.2.3.4.5/feed", "is no IP address"),
    ],
)
def test_hosts_no_crawl_reaches_are_refused(url: str, problem: str) -> None:
    """Taken, then every poll failed: "invalid hostname" (the crawl's HTTP client refuses a
    host with such a character), "DNS lookup failed" (no resolver takes an empty label, a
    label over 63 characters, or a last label of digits in no IP address)."""
    from newswatch.values import URL

    with pytest.raises(ValueError) as info:
        URL.parse(url)
    assert str(info.value).startswith(f"{url!r}: the host "), info.value
    assert problem in str(info.value)


def test_check_refuses_the_hosts_no_crawl_reaches(workdir: Workdir) -> None:
    good = ["http://my_blog.example.com/feed", "http://bücher.example/feed",
            "http://example.com.:8080/feed", "http://[::1]:8080/feed"]
    workdir.write_config(sources=["http://example..com/feed", *good, "http://ex*ample.com/"])
    result = workdir.newswatch("check")
    assert result.returncode == 2, result
    assert result.stderr.splitlines() == [
        f"newswatch: {workdir.config}: sources[0].url: 'http://example..com/feed': the host "
        "'example..com' has an empty label (two dots in a row, or a dot first)",
        f"newswatch: {workdir.config}: sources[5].url: 'http://ex*ample.com/': the host "
        "'ex*ample.com' has a space or a character a host name cannot have: '*'",
    ]
    workdir.write_config(sources=good)
    result = workdir.newswatch("check")
    assert result.returncode == 0, result
    assert "4 source(s)" in result.stdout


@pytest.mark.parametrize("every", ["500ms", "0.5s"])
def test_polling_interval_below_one_second_is_refused(tmp_path: Path, every: str) -> None:
    text = f'[[sources]]\nurl = "https://a.example/feed"\nevery = "{every}"\n'
    try:
        config = load_config(write(tmp_path, text), environ={})
    except ConfigError as exc:
        assert exc.problems[0].startswith("sources[0].every: ")
    else:
        assert config.sources[0].every_seconds >= 1


def test_password_env_is_read_from_the_given_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[smtp]\nhost = "h"\nusername = "u"\npassword_env = "PW"\n')
    config = load_config(path, environ={"PW": "from-env"})
    assert config.smtp is not None and config.smtp.password == "from-env"
    assert problems_of(path, environ={"OTHER": "x"}) == [
        "smtp.password_env: environment variable PW is not set"]


def test_a_password_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[smtp]\nhost = "h"\nusername = "u"\npassword = "hunter2"\n')
    problems = problems_of(path)
    assert problems == ["smtp.password: secrets are not read from the config file; "
                        "use password_env or password_file"]


def test_tls_and_starttls_together_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[smtp]\nhost = "h"\ntls = true\nstarttls = true\n')
    problems = problems_of(path)
    assert problems == ["smtp: set either tls (port 465) or starttls, not both"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('port = "587"', "smtp.port: expected an integer, got a string"),
        ("from = 1", "smtp.from: expected a string, got an integer"),
        ('starttls = "yes"', "smtp.starttls: expected true or false, got a string"),
        ('tls = "no"', "smtp.tls: expected true or false, got a string"),
        ('timeout = "soon"', "smtp.timeout: 'soon' is not a duration"),
        ("from_name = 2", "smtp.from_name: expected a string, got an integer"),
        ('from = "Desk <desk@example.org>"',
         "smtp.from: 'Desk <desk@example.org>' is not an email address (a display name goes"),
        ('from_name = "News\\nBcc: all@example.org"',
         "smtp.from_name: 'News\\nBcc: all@example.org' is not one line of printable text"),
        ('from_name = " "', "smtp.from_name: ' ' is not one line of printable text"),
    ],
)
def test_wrong_types_in_smtp_are_reported(tmp_path: Path, text: str, problem: str) -> None:
    problems = problems_of(write(tmp_path, f'[smtp]\nhost = "h"\n{text}\n'))
    assert len(problems) == 1 and problems[0].startswith(problem), problems


@pytest.mark.parametrize("port", [0, 70000])
def test_out_of_range_smtp_port_is_reported(tmp_path: Path, port: int) -> None:
    problems = problems_of(write(tmp_path, f'[smtp]\nhost = "h"\nport = {port}\n'))
    assert len(problems) == 1 and problems[0].startswith("smtp.port: "), problems


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\npath = "unterminated\n')
    [problem] = problems_of(path)
    assert problem.startswith("not valid TOML: ")
    assert "line 2" in problem


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "newswatch.toml"
    path.write_bytes('[crawl]\nevery = "10m"\n# Zürich\n'.encode("latin-1"))
    [problem] = problems_of(path)
    assert problem == "not UTF-8 text (byte 25: invalid start byte); save it as UTF-8"


def test_a_byte_order_mark_is_taken(tmp_path: Path) -> None:
    # Windows Notepad starts a UTF-8 file with one: "not valid TOML: Invalid statement".
    path = tmp_path / "newswatch.toml"
    path.write_bytes('\ufeff[crawl]\nevery = "10m"\n'.encode())
    assert load_config(path, environ={}).crawl.every_seconds == 600
    # Bytes are counted in the file as it is, mark included.
    path.write_bytes(b"\xef\xbb\xbf" + '[crawl]\nevery = "10m"\n# Zürich\n'.encode("latin-1"))
    [problem] = problems_of(path)
    assert problem == "not UTF-8 text (byte 28: invalid start byte); save it as UTF-8"


def test_missing_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.toml") == ["file not found"]


def test_a_device_is_no_config_file() -> None:
    # /dev/zero was read until the memory ran out; /dev/null was a file of defaults.
    assert problems_of("/dev/null") == ["a device, not a config file"]


def test_a_socket_or_a_directory_is_no_config_file(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "newswatch.sock"))
        assert problems_of(tmp_path / "newswatch.sock") == ["a socket, not a config file"]
    assert problems_of(tmp_path) == ["a directory, not a config file"]


def test_the_pipe_of_a_shell_is_read(tmp_path: Path) -> None:
    """``--config <(envsubst < newswatch.toml.in)``: the shell hands over a pipe of the
    process (/dev/fd/63), its writer there; it is read to its end."""
    read, write = os.pipe()
    try:
        os.write(write, b'[crawl]\nevery = "10m"\n')
        os.close(write)
        assert load_config(f"/proc/self/fd/{read}", environ={}).crawl.every_seconds == 600
    finally:
        os.close(read)


# -- the command line -------------------------------------------------------------------------


def python_m_newswatch(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newswatch", *args], cwd=cwd, env=subprocess_env(**env),
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_check_refuses_a_named_pipe(tmp_path: Path) -> None:
    """`check` (and `run`) opened a named pipe and waited, without a word, for something to
    write to it."""
    fifo = tmp_path / "newswatch.toml"
    os.mkfifo(fifo)
    result = python_m_newswatch("--config", str(fifo), "check", cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stderr == f"newswatch: {fifo}: a named pipe (FIFO), not a config file\n"


def test_check_reports_every_problem_one_line_each(workdir: Workdir) -> None:
    workdir.config.write_text(BAD, encoding="utf-8")
    result = workdir.newswatch("check")
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    with pytest.raises(ConfigError) as info:
        load_config(workdir.config, environ={})
    assert lines == [f"newswatch: {workdir.config}: {p}" for p in info.value.problems]
    assert len(lines) == len(BAD_PROBLEMS)
    assert all(line.startswith("newswatch: ") for line in lines)
    assert result.stdout == ""


def test_check_of_a_good_config(workdir: Workdir) -> None:
    workdir.write_config(
        sources=["https://a.example/feed", {"url": "https://b.example/feed", "every": "5m"}],
        topics=[{"name": "Maduro", "query": "Maduro", "notify": ["desk@example.org"]}],
    )
    result = workdir.newswatch("check")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert "2 source(s), 1 topic(s)" in result.stdout
    assert str(workdir.database) in result.stdout
    assert not workdir.database.exists()  # check only reads the config


def test_check_with_tls_and_starttls_exits_2_without_traceback(workdir: Workdir) -> None:
    workdir.write_config(smtp={"host": "127.0.0.1", "tls": True, "starttls": True})
    result = workdir.newswatch("check")
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"newswatch: {workdir.config}: smtp: set either tls (port 465) or starttls, not both"]


def write_metrics_config(workdir: Workdir, address: str) -> None:
    workdir.write_config()
    text = workdir.config.read_text(encoding="utf-8")
    workdir.config.write_text(
        text.replace("[daemon]\n", f'[daemon]\nmetrics = "{address}"\n'), encoding="utf-8")


def test_check_and_run_refuse_a_metrics_address_alike(workdir: Workdir) -> None:
    """check said OK, and run started, then stopped (exit code 1) as it could not listen."""
    write_metrics_config(workdir, "300.1.1.1:0")
    said = [f"newswatch: {workdir.config}: daemon.metrics: '300.1.1.1:0': the host "
            "'300.1.1.1' is no IP address (four numbers 0 to 255), and no host name ends in a "
            "number"]
    for command in ("check", "run"):
        result = workdir.newswatch(command)
        assert (result.returncode, result.stderr.splitlines()) == (2, said), result


def test_check_says_it_does_not_try_the_metrics_address(workdir: Workdir) -> None:
    write_metrics_config(workdir, "127.0.0.1:9464")
    result = workdir.newswatch("check")
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[1] == (
        "metrics at 127.0.0.1:9464: not tried; a port in use, or an address this machine does "
        "not have, stops run at start (exit code 1)")


def test_check_refuses_a_database_under_a_file(workdir: Workdir) -> None:
    (workdir.path / "plain").write_text("a file\n", encoding="utf-8")
    workdir.write_config()
    text = workdir.config.read_text(encoding="utf-8")
    workdir.config.write_text(
        text.replace(str(workdir.database), str(workdir.path / "plain" / "news.db")),
        encoding="utf-8",
    )
    result = workdir.newswatch("check")
    assert result.returncode == 2, result
    assert result.stderr.splitlines() == [
        f"newswatch: {workdir.config}: database.path: {workdir.path / 'plain'} is not a directory"]
    assert result.stdout == ""


@pytest.mark.parametrize(("key", "name"), [
    ("database.path", "x" * 300 + "/news.db"),
    ("alerts.mbox", "x" * 250 + ".mbox"),
])
def test_check_refuses_a_file_name_longer_than_the_file_system_takes(
    workdir: Workdir, key: str, name: str
) -> None:
    # check said "unexpected error: OSError: [Errno 36] File name too long" (exit 1) of such
    # a database, and took such an mbox, where no alert could be written. A name that fits
    # alone but not with the "-journal" or ".restoring" made beside it is refused too.
    workdir.write_config(alerts={"mbox": name} if key == "alerts.mbox" else None)
    text = workdir.config.read_text(encoding="utf-8")
    if key == "database.path":
        workdir.config.write_text(text.replace(str(workdir.database), name), encoding="utf-8")
    result = workdir.newswatch("check")
    assert result.returncode == 2, result
    assert result.stderr.splitlines() == [
        f"newswatch: {workdir.config}: {key}: {workdir.path / name}: a name in it is longer "
        "than the file system takes"]
    workdir.write_config(alerts={"mbox": "x" * 245})  # 255 bytes with ".restoring"
    assert workdir.newswatch("check").returncode == 0


def test_check_reports_the_timings_of_several_machines(workdir: Workdir) -> None:
    # Before, only `run --role` refused them, one at a time and without the file and key.
    workdir.write_config(extra="""
        jobs = 0
        heartbeat = "1m"
        retry_stalled = "5m"
    """)
    result = workdir.newswatch("check")
    assert result.returncode == 2, result
    assert result.stderr.splitlines() == [
        f"newswatch: {workdir.config}: {problem}" for problem in (
            "daemon.jobs: must be 1 to 100, not 0",
            "daemon.stalled_after: must be longer than daemon.heartbeat",
            "daemon.retry_stalled: must be 1s to 59s, not 300s",
        )]


def test_newswatch_config_environment_variable(workdir: Workdir, tmp_path: Path) -> None:
    workdir.write_config(sources=["https://a.example/feed"])
    good = python_m_newswatch("check", cwd=tmp_path, NEWSWATCH_CONFIG=str(workdir.config))
    assert good.returncode == 0, good.stderr
    assert str(workdir.config) in good.stdout
    assert "1 source(s)" in good.stdout

    bad = write(tmp_path, "[crawl]\nevery = \"often\"\n", name="bad.toml")
    result = python_m_newswatch("check", cwd=tmp_path, NEWSWATCH_CONFIG=str(bad))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"newswatch: {bad}: crawl.every: 'often' is not a duration (use a number with ms, s, "
        "m, h, d or w, e.g. \"10m\", \"1h30m\")"]

    # --config wins over the environment.
    flag = python_m_newswatch("--config", str(workdir.config), "check", cwd=tmp_path,
                              NEWSWATCH_CONFIG=str(bad))
    assert flag.returncode == 0, flag.stderr


def test_missing_config_file_on_the_command_line(workdir: Workdir) -> None:
    result = workdir.newswatch("check")  # workdir.config was never written
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"newswatch: {workdir.config}: file not found"]


def test_group_help(tmp_path: Path) -> None:
    from newswatch.cli import cli

    result = python_m_newswatch("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert "NEWSWATCH_CONFIG" in result.stdout
    assert "--config" in result.stdout
    for name in cli.commands:
        assert re.search(rf"^\s+{name}\s+\S", result.stdout, re.MULTILINE), name


def subcommands() -> list[str]:
    from newswatch.cli import cli

    return sorted(cli.commands)


@pytest.mark.parametrize("name", subcommands())
def test_subcommand_help(tmp_path: Path, name: str) -> None:
    from newswatch.cli import cli

    result = python_m_newswatch(name, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and name in result.stdout.splitlines()[0]
    summary = cli.commands[name].help.strip().splitlines()[0]
    assert summary and summary in " ".join(result.stdout.split())
    assert not list(tmp_path.iterdir())  # --help touches nothing


@pytest.mark.parametrize("command", ["export", "status"])
def test_reading_commands_without_a_database(workdir: Workdir, command: str) -> None:
    workdir.write_config()
    result = workdir.newswatch(command)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"newswatch: no database at {workdir.database}: nothing crawled yet"]
    assert result.stdout == ""
    assert not workdir.database.exists()  # not created by a read


def test_crawl_refuses_to_run_while_another_newswatch_holds_the_lock(workdir: Workdir) -> None:
    workdir.write_config()
    with InstanceLock(workdir.database):
        result = workdir.newswatch("crawl")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("newswatch: ")
    assert "already running" in lines[0]
    assert "Traceback" not in result.stderr
    # Once the lock is free, a crawl runs.
    again = workdir.newswatch("crawl")
    assert again.returncode == 0, again.stderr
    assert "polled 0 source(s)" in again.stdout


def test_every_kind_of_setting_has_one_parser() -> None:
    from typing import get_args

    from newswatch.settings import LISTS, Kind
    from newswatch.values import PARSERS

    assert set(PARSERS) == set(get_args(Kind))
    assert all(parser.kind == kind for kind, parser in PARSERS.items())
    used = {s.kind for keys in {**SECTIONS, **LISTS}.values() for s in keys.values()}
    assert used == set(get_args(Kind))


def test_the_settings_a_reload_cannot_apply_are_named(tmp_path: Path) -> None:
    from newswatch.app import NEEDS_RESTART, needs_restart
    from newswatch.settings import LISTS

    flagged = {
        f"{section}.{key}"
        for section, keys in {**SECTIONS, **LISTS}.items()
        for key, setting in keys.items()
        if setting.restart
    }
    assert set(NEEDS_RESTART) == flagged
    running = load_config(write(tmp_path, '[crawl]\nuser_agent = "a/1"\n'), environ={})
    fresh = load_config(write(tmp_path, textwrap.dedent("""
        [database]
        path = "other.db"
        [crawl]
        user_agent = "b/2"
        [daemon]
        metrics = "127.0.0.1:9464"
    """)), environ={})
    assert needs_restart(running, fresh) == ["database.path", "daemon.metrics"]
    assert needs_restart(running, running) == []


def test_run_help_names_the_settings_a_reload_cannot_apply() -> None:
    from newswatch.app import NEEDS_RESTART
    from newswatch.cli import cli

    text = " ".join((cli.commands["run"].help or "").split())
    assert [name for name in NEEDS_RESTART if name not in text] == []


def test_a_zero_pause_needs_no_unit(tmp_path, monkeypatch) -> None:
    """A bare number is refused as a duration (it has no unit), but zero is zero in any unit:
    ``delay = 0`` stays valid."""
    monkeypatch.chdir(tmp_path)
    Path("zero.toml").write_text("[crawl]\ndelay = 0\n", encoding="utf-8")
    assert load_config("zero.toml", environ={}).crawl.delay_seconds == 0


def test_unsynced_names_what_the_schedulers_sync_would_change(
    tmp_path: Path, store_location: str | Path, caplog: pytest.LogCaptureFixture
) -> None:
    """newswatch.app.unsynced (a crawler's or alerter's reload, on both backends): nothing
    once the file is synced, whatever it holds (a page source's patterns, a source named by
    its feed, addresses in capitals, an exclude query, a digest topic, a source added with
    `sources add`); then each source and topic the scheduler's sync would add, change or
    stop, in one warning, and nothing again once it has synced. A file that lists no
    source nor topic (a crawler's machine given only its database) warns of nothing."""
    from newswatch.app import say_unsynced, sync_config, unsynced
    from storage import SourceSpec, open_store, utcnow

    feed, page, added = (f"https://news.example.test/{p}" for p in ("feed", "", "added"))
    head = f'[database]\npath = "{tmp_path / "newswatch.db"}"\n'
    wind = '[[topics]]\nname = "Wind"\nquery = \'"wind farm"\'\nnotify = ["wind@example.org"]\n'
    sources = textwrap.dedent(f"""\
        [crawl]
        every = "15m"
        [[sources]]
        url = "{feed}"
        [[sources]]
        url = "{page}"
        name = "Example"
        kind = "page"
        include = ["/articles/*"]
        every = "10m"
        """)
    config = load_config(write(tmp_path, head + sources + textwrap.dedent("""\
        [[topics]]
        name = "Rates"
        query = '"central bank"'
        notify = ["Desk@Example.org", "json://127.0.0.1/Hook"]
        exclude = "crypto"
        sources = ["Example"]
        mode = "digest"
        """) + wind), environ={})
    with open_store(store_location) as store:
        sync_config(config, store)
        store.add_source(SourceSpec(added, 900, every_default=True), utcnow())
        store.name_source(store.sources()[0].id, "The feed's own title")
        assert unsynced(config, store) == []

        # crawl.every changed (the feed and the source added take it), the page source
        # and Rates gone, Wind's query changed, Football new.
        edited = load_config(write(tmp_path, head + textwrap.dedent(f"""\
            [crawl]
            every = "20m"
            [[sources]]
            url = "{feed}"
            [[topics]]
            name = "Football"
            query = "Okafor"
            notify = ["sport@example.org"]
            """) + wind.replace("wind farm", "wind park")), environ={})
        assert unsynced(edited, store) == [
            f"source {feed}", f"source {page}", f"source {added}",
            "topic Football", "topic Wind", "topic Rates"]
        say_unsynced(load_config(write(tmp_path, head), environ={}), store)
        # A file of sources alone, as the database's: its topics are not judged.
        say_unsynced(load_config(write(tmp_path, head + sources), environ={}), store)
        assert caplog.records == []
        say_unsynced(edited, store)
        [said] = [r.getMessage() for r in caplog.records]
        assert said.startswith(f"{tmp_path / 'newswatch.toml'}: its sources and topics are not"
                               f" the database's (source {feed}, source {page}, ")
        sync_config(edited, store)
        assert unsynced(edited, store) == []
