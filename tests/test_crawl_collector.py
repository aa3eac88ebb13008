"""While a crawl runs, the crawl process's garbage collector runs less often, still frees
cyclic garbage, and the process's own thresholds come back after (crawler.memory)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from crawler import memory


@pytest.fixture
def own_thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(500, 5, 5)
    try:
        yield gc.get_threshold()
    finally:
        gc.set_threshold(*before)


class Node:
    def __init__(self) -> None:
        self.me = self


def test_thresholds_while_crawls_run_and_after_the_last(
        own_thresholds: tuple[int, int, int]) -> None:
    first = memory.fewer_collections()
    second = memory.fewer_collections()
    first.__enter__()
    assert gc.get_threshold() == memory.CRAWL_THRESHOLDS
    second.__enter__()
    first.__exit__(None, None, None)  # crawls overlap: the first may end first
    assert gc.get_threshold() == memory.CRAWL_THRESHOLDS
    second.__exit__(None, None, None)
    assert gc.get_threshold() == own_thresholds


def test_a_crawl_that_raises_gives_the_thresholds_back(
        own_thresholds: tuple[int, int, int]) -> None:
    with pytest.raises(RuntimeError), memory.fewer_collections():
        raise RuntimeError("crawl failed")
    assert gc.get_threshold() == own_thresholds


def test_cyclic_garbage_is_still_collected_while_a_crawl_runs(
        own_thresholds: tuple[int, int, int]) -> None:
    assert gc.isenabled()
    with memory.fewer_collections():
        gc.collect()
        node = Node()
        gone = weakref.ref(node)
        del node
        assert gone() is not None  # a cycle: only the collector frees it
        live = [[] for _ in range(3 * memory.CRAWL_THRESHOLDS[0])]  # no explicit collect
        assert gone() is None
        assert len(live) == 3 * memory.CRAWL_THRESHOLDS[0]


def test_a_crawls_memory_settings_hold_while_it_runs_and_go_with_it(
        own_thresholds: tuple[int, int, int]) -> None:
    async def crawl() -> tuple[int, int, int]:
        async with memory.while_crawling():
            return gc.get_threshold()

    assert asyncio.run(crawl()) == memory.CRAWL_THRESHOLDS
    assert gc.get_threshold() == own_thresholds
