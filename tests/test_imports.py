"""Heavy libraries load where they are used, not when the command line starts: ``newswatch
--help`` imports none of them (measured by the modules loaded, not by the clock)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import subprocess_env

#: Loaded only by the commands that need them: a crawl (Scrapy, Twisted, trafilatura), story
#: signatures (datasketch, which brings SciPy), notification URLs (Apprise), the database
#: (sqlite-utils) and the daemon (APScheduler). PostgreSQL's client and the task engine of
#: several machines (docs/scale-out.md) are optional and never loaded on the SQLite path.
HEAVY = ("scrapy", "twisted", "datasketch", "scipy", "trafilatura", "apprise")
ALSO_LAZY = ("sqlite_utils", "apscheduler", "numpy", "psycopg", "procrastinate")


def _imported(tmp_path: Path, *args: str, whole: bool = False) -> set[str]:
    """The top-level packages ``python -m newswatch ARGS`` imports (from -X importtime), or
    with ``whole`` every module by its full name."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "newswatch", *args],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Usage:" in result.stdout
    modules = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name if whole else name.split(".")[0])
    assert "newswatch" in modules  # the measurement itself works
    return modules


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    assert not _imported(tmp_path, "--help") & {*HEAVY, *ALSO_LAZY}


#: Not heavy, but not for ``--help`` either (together about 0.2 s of a 0.3 s start): the
#: email templates, SMTP and TLS, XML for OPML, the query language, the config file's
#: parser (with the time zones of the digest schedules), and storage's records, views and
#: ports (dataclasses and protocols: building them is most of what storage costs at import).
NOT_FOR_HELP = ("jinja2", "smtplib", "ssl", "lxml", "watchlist", "alerts.channels",
                "alerts.compose", "alerts.transport", "newswatch.opml", "newswatch.config",
                "alerts.schedule", "zoneinfo", "tomllib", "storage.models", "storage.views",
                "storage.ports", "crawler")


def test_help_imports_neither_templates_smtp_nor_the_query_language(tmp_path: Path) -> None:
    assert not _imported(tmp_path, "--help", whole=True) & set(NOT_FOR_HELP)


def test_subcommand_help_imports_no_heavy_library(tmp_path: Path) -> None:
    assert not _imported(tmp_path, "topics", "--help") & {*HEAVY, *ALSO_LAZY}


def test_every_exported_name_resolves_to_itself() -> None:
    """A lazily exported name gives the object, never a submodule of the same name."""
    import importlib
    import types

    for package in ("alerts", "scheduler", "storage", "watchlist"):
        module = importlib.import_module(package)
        for name in module.__all__:
            assert not isinstance(getattr(module, name), types.ModuleType), f"{package}.{name}"


def test_only_the_crawler_imports_scrapy() -> None:
    """Scrapy stays behind crawler.CrawlRunner: no other package imports it."""
    import ast

    root = Path(__file__).resolve().parent.parent
    for package in ("alerts", "newswatch", "scheduler", "storage", "watchlist"):
        for path in sorted((root / package).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                else:
                    continue
                assert not any(n.split(".")[0] == "scrapy" for n in names), path.name


def test_search_gives_the_verdict_without_the_scheduler(tmp_path: Path) -> None:
    """`search` and `topics test` ask watchlist for the verdict the daemon gives: the
    scheduler's pipeline (and the crawler behind it) stays unloaded."""
    code = """
import sys
from storage import Store, utcnow
from newswatch.search import find, query_topic
from watchlist import compile_query
with Store.open("archive.db") as store:
    find(store, query_topic("Maduro", compile_query("Maduro")), since=None, limit=5, now=utcnow())
loaded = {m.split(".")[0] for m in sys.modules} | set(sys.modules)
print(sorted(loaded & {"scheduler.pipeline", "crawler.run", "crawler.spider", "scrapy", "twisted", "apscheduler"}))
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
