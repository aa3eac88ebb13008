"""Page workers: extraction runs in worker processes, and a page that crashes or hangs its
worker costs that page alone (retried at the next poll), never the rest of the crawl."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import subprocess_env
from hostile_pages import (
    GROW_MARK,
    HANG_MARK,
    KILL_MARK,
    SLOW_MARK,
    SLOW_SECONDS,
    extract,
    pause_and_join,
)
from newssite import STORIES_BY_SLUG

from crawler.workers import NICE, Done, Late, PageFailed, PagePool, WorkerDied, WorkerTimeout

#: Crawls here run with page worker processes, the default (tests/conftest.py: workdir).
pytestmark = pytest.mark.page_workers

TESTS = Path(__file__).parent
PAGE = (TESTS / "fixtures" / "article.html").read_text(encoding="utf-8")
GOOD = ["venezuela-opposition-leader", "central-bank-holds-rates", "city-late-winner"]


def test_a_lost_worker_costs_its_page_alone_and_workers_are_recycled() -> None:
    page = PAGE.replace("$body_html", "<p>" + "A paragraph of the article. " * 20 + "</p>")

    async def run() -> tuple[list[object], PagePool]:
        pool = PagePool(extract, 2, timeout=3.0, max_tasks=2)
        try:
            pages = [page, KILL_MARK, page, HANG_MARK, page, page, page]
            results = await asyncio.gather(
                *(pool.run(p, "http://127.0.0.1/a") for p in pages), return_exceptions=True
            )
        finally:
            pool.close()
        return results, pool

    results, pool = asyncio.run(run())
    assert isinstance(results[1], WorkerDied)
    assert isinstance(results[3], WorkerTimeout)
    good = [r for i, r in enumerate(results) if i not in (1, 3)]
    assert all(isinstance(r, Done) and r.value is not None for r in good), results
    assert all(isinstance(r, Done) and r.cpu_seconds > 0 for r in good)
    assert pool.lost == 2
    # 5 good pages at most 2 a worker, and the 2 lost workers at most 1 good page each before
    # their hostile page: at least 4 worker processes in all, whatever the order.
    assert pool.started >= 4


def test_the_page_a_lost_worker_held_next_goes_to_a_new_worker() -> None:
    """A worker holds the page after the one it extracts (DEPTH 2): when it dies on its page
    or is killed on it, the page it held next is extracted by its successor, not failed."""
    page = PAGE.replace("$body_html", "<p>" + "A paragraph of the article. " * 20 + "</p>")

    async def run() -> tuple[list[object], PagePool]:
        pool = PagePool(extract, 1, timeout=3.0)
        try:
            pages = [KILL_MARK, page, HANG_MARK, page, page]
            results = await asyncio.gather(
                *(pool.run(p, "http://127.0.0.1/a") for p in pages), return_exceptions=True
            )
        finally:
            pool.close()
        return results, pool

    results, pool = asyncio.run(run())
    assert isinstance(results[0], WorkerDied), results
    assert isinstance(results[2], WorkerTimeout), results
    assert all(isinstance(results[i], Done) and results[i].value is not None  # type: ignore[union-attr]
               for i in (1, 3, 4)), results
    assert pool.lost == 2 and pool.started == 3


def test_a_page_whose_argument_fails_fails_alone() -> None:
    """A page whose late argument raises is failed with the reason; the pages around it are
    extracted by the same worker."""
    page = PAGE.replace("$body_html", "<p>" + "A paragraph of the article. " * 20 + "</p>")

    def broken() -> str:
        raise ValueError("no such site")

    async def run() -> tuple[list[object], PagePool]:
        pool = PagePool(extract, 1, timeout=10.0)
        try:
            results = await asyncio.gather(
                pool.run(page, "http://127.0.0.1/a"),
                pool.run(page, Late(broken)),
                pool.run(page, "http://127.0.0.1/b"),
                return_exceptions=True,
            )
        finally:
            pool.close()
        return results, pool

    results, pool = asyncio.run(run())
    assert isinstance(results[1], RuntimeError) and "no such site" in str(results[1]), results
    assert all(isinstance(results[i], Done) for i in (0, 2)), results
    assert pool.started == 1 and pool.lost == 0


def test_a_worker_left_larger_by_a_page_is_retired_after_delivering_it() -> None:
    """A page that leaves its worker 40 MB larger (over the pool's 24 MB) is extracted and
    delivered, then its worker is replaced; pages that leave it as it was do not."""
    page = PAGE.replace("$body_html", "<p>" + "A paragraph of the article. " * 20 + "</p>")
    grow = page.replace("</body>", f"<!-- {GROW_MARK} --></body>")

    async def run() -> tuple[list[Done], PagePool]:
        pool = PagePool(extract, 1, timeout=10.0)
        try:
            return [await pool.run(p, "http://127.0.0.1/a") for p in (page, page, grow, page)], pool
        finally:
            pool.close()

    results, pool = asyncio.run(run())
    assert all(isinstance(r, Done) and r.value is not None for r in results), results
    assert results[2].value.text == results[0].value.text  # the growing page's own result
    assert pool.outgrown == 1 and pool.lost == 0
    assert pool.started == 2  # the first worker for 3 pages, a new one for the last


def test_a_worker_that_cannot_start_fails_its_page_not_the_pool() -> None:
    """A worker that ends before it is ready (here: its task cannot be imported) fails the
    page it was started for with a clear reason, and the pool goes on."""

    async def run() -> list[object]:
        pool = PagePool("newswatch_no_such_module:extract", 1, timeout=3.0)
        try:
            return await asyncio.gather(*(pool.run(PAGE, "http://127.0.0.1/a") for _ in range(2)),
                                        return_exceptions=True)
        finally:
            pool.close()

    results = asyncio.run(run())
    assert all(isinstance(r, PageFailed) and "no worker" in str(r) for r in results), results


def test_workers_share_what_their_fork_server_loaded() -> None:
    """The fork server freezes what it imported out of the garbage collector's reach, so that
    the workers' collections do not copy those pages (crawler.preload)."""

    async def run() -> object:
        pool = PagePool("gc:get_freeze_count", 1)
        try:
            return await pool.run()
        finally:
            pool.close()

    result = asyncio.run(run())
    assert isinstance(result, Done) and isinstance(result.value, int) and result.value > 1000


@pytest.mark.parametrize("size", [0, 1])
def test_a_late_argument_is_worked_out_when_a_worker_takes_the_page(size: int) -> None:
    """What the crawl knows of a page's site when a worker takes it, not when it was queued
    (crawler.containers): a page queued behind a busy worker is handed what was learnt
    meanwhile."""
    known = {"path": "queued"}

    async def run() -> list[object]:
        pool = PagePool(pause_and_join, size)
        try:
            busy = asyncio.ensure_future(pool.run("a", "", 1.0))
            await asyncio.sleep(0.2)  # the one worker has taken it
            waiting = asyncio.ensure_future(pool.run("b", Late(lambda: known["path"])))
            await asyncio.sleep(0.2)  # queued behind it
            known["path"] = "learnt"
            return [await busy, await waiting]
        finally:
            pool.close()

    results = asyncio.run(run())
    assert [r.value for r in results if isinstance(r, Done)] == ["a", "blearnt"]


@pytest.mark.parametrize("settled", [False, True])
def test_a_page_whose_late_argument_is_not_settled_waits_to_be_the_next_page(
        settled: bool) -> None:
    """A worker holds up to DEPTH pages, but a page whose late argument is not settled yet is
    sent, and its argument worked out, only once it is the worker's next page: here, the
    third page queued waits until the first is answered."""
    from crawler.workers import DEPTH, UNSETTLED_DEPTH

    assert UNSETTLED_DEPTH < DEPTH == 3
    known = {"path": "early"}

    async def run() -> list[object]:
        pool = PagePool(pause_and_join, 1)
        try:
            await pool.run("w", "", 0)  # the worker is ready
            # The worker busy, the next three pages are queued: its lane takes them together.
            busy = asyncio.ensure_future(pool.run("x", "", 0.3))
            await asyncio.sleep(0.1)
            pages = [asyncio.ensure_future(pool.run("a", "", 1.0)),
                     asyncio.ensure_future(pool.run("b", "")),
                     asyncio.ensure_future(pool.run(
                         "c", Late(lambda: known["path"], settled=lambda: settled)))]
            await busy
            await asyncio.sleep(0.3)  # the worker is on the first of them
            known["path"] = "late"
            return [await page for page in pages]
        finally:
            pool.close()

    results = asyncio.run(run())
    values = [r.value for r in results if isinstance(r, Done)]
    assert values == ["a", "b", "cearly" if settled else "clate"]


@pytest.mark.parametrize("size", [0, 1])
def test_what_a_worker_answers_is_told_before_its_next_page_is_sent(size: int) -> None:
    """``answered`` is called with a page's value in the pool's thread as soon as the worker
    answers: a later page's late argument sees it even while the crawl's thread is too busy
    to resume the first page's coroutine (as a site's container is learnt)."""
    import time

    learnt: list[str] = []

    async def run() -> list[object]:
        pool = PagePool(pause_and_join, size)
        try:
            await pool.run("w", "", 0)  # the worker is ready
            pages = [asyncio.ensure_future(pool.run("a", "", 0.3, answered=learnt.append)),
                     asyncio.ensure_future(pool.run("x", "", 0.3)),
                     asyncio.ensure_future(pool.run(
                         "b", Late(lambda: "+".join(learnt), settled=lambda: bool(learnt))))]
            await asyncio.sleep(0)  # the three are queued
            time.sleep(1.0)  # the loop's thread busy while they are extracted
            return [await page for page in pages]
        finally:
            pool.close()

    results = asyncio.run(run())
    assert [r.value for r in results if isinstance(r, Done)] == ["a", "x", "ba"]
    assert learnt == ["a"]


def test_a_failing_answered_callback_does_not_change_the_page() -> None:
    """An error in ``answered`` is logged; the page is still delivered, the lane goes on."""

    def fail(value: object) -> None:
        raise ValueError(value)

    async def run() -> list[object]:
        pool = PagePool(pause_and_join, 1)
        try:
            return [await pool.run("a", "", answered=fail), await pool.run("b", "")]
        finally:
            pool.close()

    results = asyncio.run(run())
    assert [r.value for r in results if isinstance(r, Done)] == ["a", "b"]


def test_workers_run_below_the_crawl_process_priority() -> None:
    """Extraction yields the CPU to the crawl process that feeds it (crawler.workers.NICE)."""

    async def run() -> object:
        pool = PagePool("os:nice", 1)
        try:
            return await pool.run(0)
        finally:
            pool.close()

    result = asyncio.run(run())
    assert isinstance(result, Done)
    assert result.value == min(19, os.nice(0) + NICE)


def test_ctrl_c_at_a_terminal_is_for_the_crawl_process_not_its_workers() -> None:
    """Ctrl-C reaches every process of the terminal's foreground group: a worker printed a
    KeyboardInterrupt traceback and died under the page it held. The crawl process decides
    when its workers end (a stop, then end of file)."""
    import signal

    async def run() -> list[object]:
        pool = PagePool("os:getpid", 1)
        try:
            first = await pool.run()
            assert isinstance(first, Done)
            os.kill(first.value, signal.SIGINT)
            await asyncio.sleep(0.5)
            return [first, await pool.run()]
        finally:
            pool.close()

    first, second = asyncio.run(run())
    assert isinstance(second, Done) and second.value == first.value  # the same worker


def test_a_stop_by_systemd_is_for_the_crawl_process_not_its_workers() -> None:
    """`systemctl stop` sends SIGTERM to every process of the service (KillMode=control-group),
    the workers and their fork server too: the pages already fetched lost their workers
    ("worker process died (exit code 255)") instead of being extracted and stored before the
    daemon exits, and no new worker could be started. Both stay until the crawl process ends
    them."""

    def parent(pid: int) -> int:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
        return int(next(line.split()[1] for line in status.splitlines()
                        if line.startswith("PPid:")))

    async def run() -> tuple[Done, Done, Done, int, int]:
        pool = PagePool("os:getpid", 1, max_tasks=2)
        try:
            first = await pool.run()
            server = parent(first.value)
            os.kill(first.value, signal.SIGTERM)
            os.kill(server, signal.SIGTERM)
            # The same worker's last page (max_tasks), then one for a worker the server forks
            # (multiprocessing started a new server in its place, loading everything again).
            second, third = await pool.run(), await pool.run()
            return first, second, third, server, parent(third.value)
        finally:
            pool.close()

    first, second, third, server, forked_by = asyncio.run(run())
    assert second.value == first.value  # the same worker
    assert third.value != first.value and forked_by == server  # the same fork server


def test_in_process_extraction_when_workers_is_zero() -> None:
    async def run() -> object:
        pool = PagePool(extract, 0)
        try:
            return await pool.run(PAGE, "http://127.0.0.1/a")
        finally:
            pool.close()

    result = asyncio.run(run())
    assert isinstance(result, Done) and result.value is not None


def test_crawl_goes_on_when_pages_crash_or_hang_their_workers(site, workdir) -> None:
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    for slug in GOOD:
        site.publish(replace(STORIES_BY_SLUG[slug], published=when))
    template = STORIES_BY_SLUG["central-bank-holds-rates"]
    for slug, mark in (("crashing-page", KILL_MARK), ("hanging-page", HANG_MARK)):
        site.publish(replace(template, slug=slug, title=f"Page {slug}", published=when,
                             body=[*template.body, mark]))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "Venezuela", "query": "Maduro", "notify": ["desk@test.example"]}],
    )
    result = subprocess.run(
        [sys.executable, str(TESTS / "hostile_pages.py"), str(workdir.config)],
        cwd=workdir.path, env=subprocess_env(), capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "1 ok, 0 failed; 3 new article(s)" in result.stdout, result.stdout
    assert "2 page(s) crashed or hung their extraction worker" in result.stdout
    assert "delivered 1 email(s)" in result.stdout
    mbox = workdir.database.with_suffix(".mbox").read_text(encoding="utf-8")
    assert "Maduro" in mbox
    with sqlite3.connect(workdir.database) as db:
        deferred = dict(db.execute("SELECT url, last_error FROM deferred_entries"))
        stored = {row[0] for row in db.execute("SELECT url FROM articles")}
    assert len(stored) == 3
    assert not any("crashing-page" in url or "hanging-page" in url for url in stored)
    errors = sorted(deferred.values())
    assert len(errors) == 2, deferred
    assert any("died" in e for e in errors) and any("took over" in e for e in errors)


def test_a_stop_keeps_the_article_of_a_page_fetched_and_still_being_extracted(
    site, workdir, wait
) -> None:
    """SIGTERM while one page hangs past the stop's grace period (5 s) and another, fetched
    before, is still being extracted (the page workers starting on a busy machine; here a
    page that takes 8 s): the crawl was abandoned at the end of the grace, and the article
    of the fetched page with it (its entry maybe gone from the feed by the next poll). The
    pages already fetched are extracted and stored first."""
    template = STORIES_BY_SLUG["central-bank-holds-rates"]
    slow = replace(template, slug="slow-page", title="Rates held after a long meeting",
                   published=datetime.now(UTC) - timedelta(minutes=5),
                   body=[*template.body, SLOW_MARK])
    hung = replace(STORIES_BY_SLUG["harbour-wind-farm-approved"],
                   published=datetime.now(UTC) - timedelta(minutes=30))
    site.publish(slow)
    site.publish(hung)
    gate = site.hold(f"/articles/{hung.slug}")
    workdir.write_config(sources=[site.url("/feeds/world.rss")], crawl={"timeout": "60s"})
    process = subprocess.Popen(
        [sys.executable, str(TESTS / "hostile_pages.py"), str(workdir.config)],
        cwd=workdir.path, env=subprocess_env(HOSTILE_TIMEOUT="60"), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert wait(lambda: site.requests_for(f"/articles/{slow.slug}"), 60)
        assert wait(lambda: site.held, 60)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        gate.set()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "interrupted (SIGTERM)" in output, output
    assert SLOW_SECONDS > 5  # past the grace period: the page was still being extracted
    with sqlite3.connect(workdir.database) as db:
        urls = [url for (url,) in db.execute("SELECT url FROM articles")]
    assert urls == [site.article_url(slow.slug)], output
