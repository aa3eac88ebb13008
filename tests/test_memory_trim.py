"""The crawl process gives the memory a crawl frees back to the system (crawler.memory)."""

from __future__ import annotations

import asyncio

import pytest

from crawler import memory
from crawler.workers import resident

pytestmark = pytest.mark.skipif(memory._MALLOC_TRIM is None, reason="no malloc_trim (not glibc)")


def test_trim_returns_freed_memory_held_between_live_blocks() -> None:
    """80 MB of 2 KB blocks freed around one block in sixteen still in use: the allocator
    keeps the space (the blocks in use pin it), a trim gives most of it back."""
    blocks = [bytes(2000) + bytes([i % 256]) for i in range(40_000)]
    kept = blocks[::16]
    del blocks
    before = resident()
    assert memory.trim()
    assert before - resident() > 30 * 1024 * 1024
    assert len(kept) == 2_500


def test_trims_repeat_while_the_task_runs() -> None:
    async def run() -> int:
        start = memory.trims
        task = asyncio.ensure_future(memory.trim_every(0.01))
        await asyncio.sleep(0.2)
        task.cancel()
        return memory.trims - start

    assert asyncio.run(run()) >= 3

