"""What bare Scrapy costs a request, with newswatch's Scrapy settings, on the cycle
benchmark's heavy pages: the floor of the crawl process's "fetch" stage.

A minimal spider fetches every feed of a local heavy site (benchmarks.cycle_site), takes the
links out of each with a regular expression and fetches every page with a callback that does
nothing (``--variant bare``) or reads ``response.text`` (``text``). Each variant runs in a
process of its own, in turn, ``--rounds`` times; the figure is the CPU of that process
(rusage, Scrapy's start-up included and shown apart) per page fetched::

    python -m benchmarks.scrapy_floor --feeds 100 --entries 30 --rounds 2

A variant's name says what it adds: ``text`` reads ``response.text``, ``nometa`` turns
Scrapy's meta refresh off, ``lean`` seven of its downloader middlewares, ``await`` makes the
page callback a coroutine that awaits a thread (as newswatch's awaits its page workers),
``direct`` fetches the pages through Scrapy's downloader alone (``engine.download_async``, 16
at a time: its downloader middlewares and per-host slots, not its scheduler, spider
middlewares and scraper); ``aiohttp`` fetches the same pages with aiohttp alone:
``--variants bare,text-await,aiohttp``. Scrapy's own HTTP client is Twisted's; ``ahandler``
swaps it for Scrapy's (experimental) aiohttp download handler, ``reactorless`` runs Scrapy
without Twisted's reactor (its asyncio-only mode, where that handler is the default):
``--variants text-await,text-await-ahandler,text-await-reactorless``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(rb"<link>([^<]+)</link>")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def plain(feeds: list[str]) -> dict[str, Any]:
    """The same fetches with aiohttp alone (16 at a time, 2 a host), for comparison: what
    an HTTP client costs without Scrapy's engine around it."""
    started = _cpu()
    import aiohttp

    counts = {"pages": 0, "bytes": 0}
    marks: dict[str, float] = {}

    async def crawl() -> None:
        connector = aiohttp.TCPConnector(limit=16, limit_per_host=2)
        async with aiohttp.ClientSession(connector=connector) as session:
            marks["open"] = _cpu()

            async def get(url: str) -> bytes:
                async with session.get(url) as response:
                    return await response.read()

            async def source(url: str) -> None:
                links = LINK.findall(await get(url))[1:]
                for body in await asyncio.gather(*(get(link.decode()) for link in links)):
                    counts["pages"] += 1
                    counts["bytes"] += len(body)

            await asyncio.gather(*(source(url) for url in feeds))
            marks["closed"] = _cpu()

    asyncio.run(crawl())
    end = _cpu()
    return {
        "variant": "aiohttp", "pages": counts["pages"], "bytes": counts["bytes"],
        "startup": marks["open"] - started, "crawl": marks["closed"] - marks["open"],
        "total": end - started,
    }


def child(feeds: list[str], variant: str) -> dict[str, Any]:
    """Crawl ``feeds`` and their pages with a do-nothing spider; CPU figures."""
    if variant == "aiohttp":
        return plain(feeds)
    started = _cpu()
    import scrapy

    from crawler.settings import CrawlSettings, downloader_middlewares, scrapy_settings

    settings = scrapy_settings(CrawlSettings(delay_seconds=0, per_host=2))
    settings["LOG_LEVEL"] = "WARNING"
    if "ahandler" in variant or "reactorless" in variant:
        handler = "scrapy.core.downloader.handlers._aiohttp.AiohttpDownloadHandler"
        settings["DOWNLOAD_HANDLERS"] = {**settings["DOWNLOAD_HANDLERS"], "http": handler,
                                         "https": handler}
    if "reactorless" in variant:
        settings["TWISTED_REACTOR_ENABLED"] = False
        del settings["TWISTED_REACTOR"]
    if "nometa" in variant:
        settings["METAREFRESH_ENABLED"] = False
    if "lean" in variant:
        mws = downloader_middlewares()
        for name in ("MetaRefreshMiddleware", "HttpAuthMiddleware", "DownloadTimeoutMiddleware",
                     "DefaultHeadersMiddleware", "OffsiteMiddleware", "HttpProxyMiddleware",
                     "DownloaderStats"):
            for path in list(mws):
                if path.endswith("." + name):
                    mws[path] = None  # type: ignore[assignment]
        settings["DOWNLOADER_MIDDLEWARES_BASE"] = {k: v for k, v in mws.items() if v is not None}
    pool = ThreadPoolExecutor(max_workers=2)
    gate = asyncio.Semaphore(16)  # "direct": CONCURRENT_REQUESTS, which the engine applies
    marks: dict[str, float] = {}
    counts = {"pages": 0, "bytes": 0}

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self) -> Any:
            marks["open"] = _cpu()
            for url in feeds:
                yield scrapy.Request(url, callback=self.feed, dont_filter=True, priority=10,
                                     meta={"dont_obey_robotstxt": True})

        async def feed(self, response: Any) -> Any:
            links = [link.decode() for link in LINK.findall(response.body)[1:]]
            if "direct" in variant:
                # The pages through Scrapy's downloader alone (its middlewares and per-host
                # slots), not its scheduler, spider middlewares and scraper.
                await asyncio.gather(*(self.direct(link) for link in links))
                return
            for link in links:
                yield scrapy.Request(link, callback=self.page, priority=20)

        async def direct(self, link: str) -> None:
            async with gate:
                assert self.crawler.engine is not None
                response = await self.crawler.engine.download_async(scrapy.Request(link))
            result = self.page(response)
            if result is not None:
                await result

        def page(self, response: Any) -> Any:
            counts["pages"] += 1
            counts["bytes"] += len(response.body)
            if "text" in variant:
                _ = response.text
            if "await" in variant:  # as newswatch's callback: a coroutine awaiting a thread
                return self.handed_over(response)
            return None

        async def handed_over(self, response: Any) -> None:
            await asyncio.get_running_loop().run_in_executor(pool, len, response.body)

        def closed(self, reason: str) -> None:
            marks["closed"] = _cpu()

    _crawl(settings, Bare, reactor="reactorless" not in variant)
    end = _cpu()
    return {
        "variant": variant, "pages": counts["pages"], "bytes": counts["bytes"],
        "startup": marks["open"] - started, "crawl": marks["closed"] - marks["open"],
        "total": end - started,
    }


def _crawl(settings: dict[str, Any], spider: type[Any], *, reactor: bool) -> None:
    """Run one crawl of ``spider`` to its end, in Twisted's asyncio reactor or (``reactor``
    False) in an asyncio loop alone. The crawl starts in the running loop: the aiohttp
    download handler needs one when it is made."""
    from scrapy.crawler import AsyncCrawlerRunner

    async def crawl() -> None:
        await AsyncCrawlerRunner(settings).crawl(spider)

    if not reactor:
        asyncio.run(crawl())
        return
    from crawler.run import install_reactor

    install_reactor()
    from scheduler.daemon import run_once

    run_once(crawl)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scrapy_floor")
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default="bare,text")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        feeds, variant = json.loads(Path(args.child).read_text(encoding="utf-8"))
        print(json.dumps(child(feeds, variant)))
        return 0

    import tempfile

    from benchmarks.cycle_bench import subprocess_env
    from benchmarks.cycle_site import build_site

    site, _ = build_site(args.feeds, args.entries, 1, args.feeds, heavy=True)
    try:
        with tempfile.TemporaryDirectory() as work:
            for round_ in range(args.rounds):
                for variant in args.variants.split(","):
                    job = Path(work) / "job.json"
                    urls = [site.feed_url(i) for i in range(args.feeds)]
                    job.write_text(json.dumps([urls, variant]), encoding="utf-8")
                    wall = time.monotonic()
                    out = subprocess.run(
                        [sys.executable, "-m", "benchmarks.scrapy_floor", "--child", str(job)],
                        cwd=ROOT, env=subprocess_env(), capture_output=True, text=True,
                        check=True, timeout=3600,
                    ).stdout
                    r = json.loads(out.strip().splitlines()[-1])
                    pages = max(1, r["pages"])
                    print(f"round {round_ + 1} {variant:12s}: {r['pages']} pages, "
                          f"{r['bytes'] / pages / 1024:.0f} KB a page, "
                          f"{time.monotonic() - wall:.1f}s wall; CPU start-up "
                          f"{r['startup']:.2f}s, crawl {1000 * r['crawl'] / pages:.2f} ms a "
                          f"page, all {1000 * r['total'] / pages:.2f} ms a page", flush=True)
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
