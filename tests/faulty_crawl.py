"""``newswatch ARGS`` with a fault planted in the crawl: reading a feed whose address holds
"/faulty" raises, as a bug of newswatch's on some input would (tests/test_recovery.py).

    python tests/faulty_crawl.py --config FILE crawl
"""

from __future__ import annotations

import sys
from typing import Any

import crawler.spider  # the project root is on PYTHONPATH
from newswatch.cli import main

_parse_feed = crawler.spider.parse_feed


def parse_feed(body: bytes, url: str, *args: Any, **kwargs: Any) -> Any:
    if "/faulty" in url:
        raise RuntimeError("a planted fault")
    return _parse_feed(body, url, *args, **kwargs)


if __name__ == "__main__":  # not in the page workers' fork server, which imports this
    crawler.spider.parse_feed = parse_feed  # type: ignore[assignment]
    sys.argv[0] = "newswatch"
    main()
