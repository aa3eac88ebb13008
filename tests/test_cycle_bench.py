"""The crawl-cycle benchmark on a tiny workload: the generator, a cold and a warm cycle, and
crawl throughput per number of crawler processes on PostgreSQL (``--database``).

Speed is measured by ``python -m benchmarks.cycle_bench``, never asserted here.
"""

from __future__ import annotations

import os
import re
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pgserver import PostgresServer

from benchmarks import cycle_bench, cycle_sampler
from benchmarks.cycle_site import build_site, feed_name
from crawler.feeds import parse_feed

FIXTURES = Path(__file__).parent / "fixtures"


def test_workload_is_distinct_articles_with_conditional_feeds() -> None:
    site, _ = build_site(3, 4, seed=5)
    try:
        assert len(site.articles) == 12
        bodies = {" ".join(s.body) for s in site.articles.values()}
        assert len(bodies) == 12  # no two pages alike
        with urllib.request.urlopen(site.feed_url(1), timeout=10) as response:
            feed = response.read()
            etag = response.headers["ETag"]
        assert feed.count(b"<item>") == 4
        request = urllib.request.Request(site.feed_url(1), headers={"If-None-Match": etag})
        with pytest.raises(urllib.error.HTTPError) as not_modified:
            urllib.request.urlopen(request, timeout=10)
        assert not_modified.value.code == 304
        not_modified.value.close()
        slug = next(iter(site._feeds[feed_name(1)].stories)).slug
        with urllib.request.urlopen(site.url(f"/articles/{slug}"), timeout=10) as response:
            page = response.read()
        assert b"<nav" in page and len(page) > 5000  # a full page, chrome included
        # The server notes a request once its answer is written: wait (bounded) for that.
        deadline = time.monotonic() + 10
        while sum((counted := site.counters())["statuses"].values()) < 3:
            assert time.monotonic() < deadline, counted
            time.sleep(0.01)
        assert counted["bytes"] > len(feed) + len(page)
        assert counted["statuses"] == {200: 2, 304: 1}
    finally:
        site.stop()


def test_heavy_sites_give_a_third_of_their_feeds_whole_texts() -> None:
    """As WordPress's feeds do by default, one heavy feed in three carries each story's
    whole text in content:encoded (with an embedded post's script), which newswatch reads
    as the feed's text of the item."""
    site, _ = build_site(3, 2, seed=5, heavy=True)
    try:
        bodies = []
        for index in range(3):
            with urllib.request.urlopen(site.feed_url(index), timeout=10) as response:
                bodies.append(response.read())
        assert [b"<content:encoded>" in body for body in bodies] == [True, False, False]
        [first, _] = parse_feed(bodies[0], site.feed_url(0)).entries
        story = next(s for s in site.articles.values() if s.title == first.title)
        assert first.text == " ".join(" ".join(p.split()) for p in (
            story.body[0], "Statement to follow.", *story.body[1:]))
        assert all(e.text == e.summary for e in parse_feed(bodies[1], site.feed_url(1)).entries)
    finally:
        site.stop()


def test_site_on_many_hosts_links_back_to_the_host_asked() -> None:
    site, _ = build_site(4, 2, seed=5, hosts=3)
    try:
        assert site.hosts == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        hosts = [urlsplit(site.feed_url(i)).hostname for i in range(4)]
        assert hosts == ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.1"]
        for url in (site.feed_url(1), site.feed_url(1, host="127.0.0.3")):
            with urllib.request.urlopen(url, timeout=10) as response:
                links = re.findall(rb"<link>([^<]+)</link>", response.read())[1:]
            assert links
            assert {urlsplit(link.decode()).netloc for link in links} == {urlsplit(url).netloc}
            with urllib.request.urlopen(links[0].decode(), timeout=10) as response:
                assert response.status == 200
        seen = site.politeness()
        assert (seen.hosts, seen.requests, seen.busiest_host_requests) == (2, 4, 2)
        assert seen.max_in_flight >= 1
        site.reset_politeness()
        assert site.politeness().requests == 0
    finally:
        site.stop()


def test_tiny_cold_and_warm_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--feeds", "5", "--entries", "3", "--topics", "3", "--baseline-budget", "1",
            "--hosts", "3", "--one-host-feeds", "2", "--skip", "latency,soak"]
    results = cycle_bench.run(cycle_bench.parse_args(argv), log=lambda line: None)
    cycles = results["cycles"]
    cold, warm, base, one = cycles["cold"], cycles["warm"], cycles["baseline"], cycles["one_host"]
    assert cold.articles == 15
    assert cold.politeness.hosts == 3
    assert cold.politeness.max_in_flight <= 2 + 1  # per_host 2 (+1: a request may end late)
    assert one.articles == 6
    assert one.politeness.hosts == 1
    assert base.articles > 0
    assert warm.articles == 0
    assert warm.requests == {304: 5}
    assert warm.bytes * 20 < cold.bytes  # far fewer bytes: one 304 per feed
    print(cycle_bench.summary(results))
    out = capsys.readouterr().out
    assert "| warm: bytes / cold bytes" in out and "PASS" in out
    assert "| one host: articles stored" in out
    assert "| cold: pages extracted from their site's learnt article element" in out
    assert 0 <= cold.cut <= cold.articles
    assert isinstance(cycles["beside"], cycle_bench.Beside)  # sampled beside the cold cycle
    # The floor's extraction timed before the cycles and after them; the faster is kept.
    floor = cycles["floor"]
    assert floor.extract_cpu_before is not None and floor.extract_cpu_after is not None
    assert floor.extract_cpu_per_page == min(floor.extract_cpu_before, floor.extract_cpu_after)
    assert "(before " in out
    # How busy the cores were: newswatch's CPU by stage, and the machine's from /proc/stat.
    assert cold.idle_seconds is not None and cold.idle_seconds >= 0
    assert cold.idle_seconds <= (os.cpu_count() or 1) * cold.seconds + 0.1
    assert re.search(r"\| cold: cores used by newswatch \(CPU by stage / wall time\) +\| "
                     r"\d+\.\d\d of \d+", out)
    assert re.search(r"\| cold: cores busy on the machine .*\| -?\d+\.\d\d of \d+, "
                     r"\d+\.\d s idle", out)


def test_warm_daemon_prints_the_cpu_of_a_poll_answered_304(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The warm cycle in the running daemon, on 4 feeds polled every second: its polls are
    counted at the site (the daemon's crawl never ends when its sources fall due every
    second, so it logs no cycle to count by: the benchmark waited for one ten minutes and
    gave up, unnoticed, until a test ran it)."""
    from benchmarks import warm_daemon

    assert warm_daemon.main(["--feeds", "4", "--cycles", "3"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"(\d+) polls answered 304 .*: daemon CPU ([\d.]+) s, ([\d.]+) ms per "
                      r"source", out)
    assert found is not None, out
    assert int(found.group(1)) >= 12 and float(found.group(3)) > 0


def test_scrapy_floor_fetches_every_page_each_way(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import scrapy_floor

    variants = "bare,direct-text-await,aiohttp,text-await-ahandler,text-await-reactorless"
    assert scrapy_floor.main(["--feeds", "2", "--entries", "3", "--rounds", "1",
                              "--variants", variants]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    for line, variant in zip(lines, variants.split(","), strict=True):
        assert line.startswith(f"round 1 {variant}") and ": 6 pages," in line, line


def test_sampler_extracts_both_ways_until_its_input_closes() -> None:
    html = (FIXTURES / "article.html").read_text(encoding="utf-8")
    read, write = os.pipe()
    os.write(write, b"...")  # each byte wakes the sampler at once (its tick is a minute)
    os.close(write)
    try:
        found = cycle_sampler.sample_while_open([("http://127.0.0.1/a", html)], 60, read)
    finally:
        os.close(read)
    assert found["sampled"] == 3  # a page for each wake-up, then the closed input ends it
    assert found["trafilatura_cpu_per_page"] > 0 and found["newswatch_cpu_per_page"] > 0


def test_workers_means_page_workers_unless_database_is_given() -> None:
    args = cycle_bench.parse_args(["--workers", "2"])
    assert (args.workers, args.crawlers, args.pages, args.server_delay) == (2, [], "heavy", 0.0)
    args = cycle_bench.parse_args(["--workers", "1,2,4", "--database", "postgresql"])
    assert (args.crawlers, args.workers, args.pages, args.server_delay) == (
        [1, 2, 4], None, "light", 0.1)
    assert (args.feeds, args.entries, args.hosts, args.jobs) == (100, 10, 100, 1)
    args = cycle_bench.parse_args(["--database", "postgresql", "--page-workers", "1"])
    assert (args.crawlers, args.page_workers) == ([1, 2, 4], 1)
    for argv in (["--workers", "1,2"], ["--workers", "0", "--database", "postgresql"],
                 ["--database", "sqlite"]):
        with pytest.raises(SystemExit):
            cycle_bench.parse_args(argv)


def test_tiny_cluster_throughput_prints_a_line_per_worker_count(
    postgres: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("procrastinate", reason="pip install -e '.[test]' brings it")
    import psycopg

    argv = ["--workers", "1,2", "--database", postgres.url(), "--feeds", "3", "--entries", "2",
            "--page-workers", "0"]
    assert cycle_bench.main(argv) == 0
    out = capsys.readouterr().out
    for label in ("SQLite, one process", "PostgreSQL, 1 crawler process",
                  "PostgreSQL, 2 crawler processes"):
        # run | articles | first request -> all stored | articles/s | ...
        assert re.search(rf"^\| {label}[^|]* \| 6 +\| [\d.]+ s +\| [\d.]+ +\|", out, re.M), out
    assert "every answer after 0.1 s" in out
    with psycopg.connect(postgres.conninfo(), autocommit=True) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'nwbench%'")
        assert left.fetchall() == []  # every database of the runs dropped
