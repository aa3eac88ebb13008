"""Imported last by the page workers' fork server, once it has imported the task's module:
every object loaded so far is moved out of the garbage collector's reach (``gc.freeze``).

A worker forked from the server shares the server's memory until it writes to it, and a
collection writes to the header of every object it examines: without this, each worker's
first full collections would copy most of the pages of the modules it inherited (about 5 MB
a worker). Frozen objects are never examined, so those pages stay shared.
"""

from __future__ import annotations

import gc

gc.collect()
gc.freeze()
