"""Running newswatch for months: CLI commands while the daemon writes, and clear errors for a
database that cannot be used."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from newssite import STORIES_BY_SLUG


def test_cli_reads_while_the_daemon_writes(site, workdir, wait):
    names = [f"desk{i}" for i in range(5)]
    for i, name in enumerate(names):
        site.create_feed(name)
        story = replace(STORIES_BY_SLUG["city-late-winner"], slug=f"story-number-{i}",
                        published=datetime.now(UTC) - timedelta(minutes=i))
        site.articles[story.slug] = story
        site.publish(story, feed=name)
    workdir.write_config(sources=[{"url": site.url(f"/feeds/{n}.rss"), "every": "1s"}
                                  for n in names])
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        for _ in range(2):
            for command in (["status"], ["export"], ["sources", "list"]):
                result = workdir.newswatch(*command)
                assert result.returncode == 0, (command, result.stderr)
        assert wait(lambda: workdir.newswatch("export").stdout.count("\n") == 5, 30)
    finally:
        assert daemon.stop() == 0, daemon.output()


def test_corrupted_database_gives_one_clear_line(workdir):
    workdir.write_config()
    workdir.database.write_bytes(b"this is not a database" * 100)
    for command in ("status", "crawl", "export"):
        result = workdir.newswatch(command)
        assert result.returncode == 1, command
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("newswatch: cannot open database")
        assert "not a database" in line
        assert "Traceback" not in result.stderr


def test_database_path_that_is_a_directory(workdir):
    workdir.write_config()
    workdir.database.mkdir()
    result = workdir.newswatch("crawl")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "newswatch: " in result.stderr
