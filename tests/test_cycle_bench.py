"""The crawl-cycle benchmark on a tiny workload: the generator, a cold and a warm cycle.

Speed is measured by ``python -m benchmarks.cycle_bench``, never asserted here.
"""

from __future__ import annotations

import urllib.request

import pytest

from benchmarks import cycle_bench
from benchmarks.cycle_site import build_site, feed_name


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
        counted = site.counters()
        assert counted["bytes"] > len(feed) + len(page)
        assert counted["statuses"] == {200: 2, 304: 1}
    finally:
        site.stop()


def test_tiny_cold_and_warm_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--feeds", "5", "--entries", "3", "--topics", "3", "--baseline-budget", "1",
            "--skip", "latency,soak"]
    results = cycle_bench.run(cycle_bench.parse_args(argv), log=lambda line: None)
    cycles = results["cycles"]
    cold, warm, base = cycles["cold"], cycles["warm"], cycles["baseline"]
    assert cold.articles == 15
    assert base.articles > 0
    assert warm.articles == 0
    assert warm.requests == {304: 5}
    assert warm.bytes * 20 < cold.bytes  # far fewer bytes: one 304 per feed
    print(cycle_bench.summary(results))
    out = capsys.readouterr().out
    assert "| warm: bytes / cold bytes" in out and "PASS" in out
