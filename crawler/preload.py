"""Imported last by the page workers' fork server, once it has imported the task's module:
every object loaded so far is moved out of the garbage collector's reach (``gc.freeze``).

A worker forked from the server shares the server's memory until it writes to it, and a
collection writes to the header of every object it examines: without this, each worker's
first full collections would copy most of the pages of the modules it inherited (about 5 MB
a worker). Frozen objects are never examined, so those pages stay shared.

The server also ignores SIGTERM, which a stop by systemd sends to every process of the service.
"""

from __future__ import annotations

import gc
import signal

gc.collect()
gc.freeze()

# `systemctl stop` sends SIGTERM to every process of the service, this server too: killed, it
# left the crawl's stop no server to start a worker from (a worker retired after its last page,
# one lost on a page). It ends when the crawl process does (end of file on its pipe), and the
# workers it forks keep this (crawler.workers ignores SIGTERM in them anyway).
signal.signal(signal.SIGTERM, signal.SIG_IGN)
