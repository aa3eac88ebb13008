"""Files newswatch creates are private, and secrets never show in logs or status."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mailserver import MailServer
from newssite import STORIES_BY_SLUG


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_database_and_mbox_are_owner_only(site, workdir):
    site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "M", "query": "Maduro", "notify": ["a@test.example"]}],
    )
    assert workdir.newswatch("crawl").returncode == 0
    assert mode(workdir.database) == 0o600
    assert mode(workdir.path / "newswatch.mbox") == 0o600
    for suffix in ("-wal", "-shm"):
        extra = workdir.path / f"newswatch.db{suffix}"
        if extra.exists():
            assert mode(extra) & 0o077 == 0


def test_smtp_password_never_appears_in_output(site, workdir):
    secret = "s3cr3t-Pa55word"
    server = MailServer(auth=("newswatch", "wrong-on-purpose"))
    server.start()
    try:
        site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                             published=datetime.now(UTC) - timedelta(minutes=5)))
        workdir.write_config(
            sources=[site.url("/feeds/world.rss")],
            topics=[{"name": "M", "query": "Maduro", "notify": ["a@test.example"]}],
            smtp={"host": server.host, "port": server.port, "username": "newswatch",
                  "password_env": "NW_TEST_PASSWORD", "timeout": "5s"},
        )
        crawl = workdir.newswatch("crawl", NW_TEST_PASSWORD=secret)
        assert crawl.returncode == 3  # login refused: alerts stay queued
        assert "login failed for newswatch" in crawl.stderr
        status = workdir.newswatch("status", NW_TEST_PASSWORD=secret)
        check = workdir.newswatch("check", NW_TEST_PASSWORD=secret)
        for result in (crawl, status, check):
            assert secret not in result.stdout + result.stderr
        assert secret not in workdir.database.read_bytes().decode("latin-1")
    finally:
        server.stop()
