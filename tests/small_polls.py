"""``newswatch ARGS`` whose polls take at most 3 new pages of a source, or SMALL_POLL_PAGES
(spider.MAX_POLL_PAGES is 500: a test of the rule with that many pages would fetch as many;
tests/test_source_kinds.py).

    python tests/small_polls.py --config FILE crawl
"""

from __future__ import annotations

import os
import sys

import crawler.spider  # the project root is on PYTHONPATH
from newswatch.cli import main

if __name__ == "__main__":
    crawler.spider.MAX_POLL_PAGES = int(os.environ.get("SMALL_POLL_PAGES", "3"))
    sys.argv[0] = "newswatch"
    main()
