"""Lazy exports (PEP 562): a package names what it exports, and the heavy ones load on first
use, so that ``newswatch --help`` does not pay for Scrapy, sqlite-utils or APScheduler.

It lives in ``storage/`` because that is the package every other one may import.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_exports(package: str, names: Mapping[str, str]) -> Callable[[str], object]:
    """The module ``__getattr__`` of ``package``: each of ``names`` (name → submodule,
    relative to the package) is imported when first asked for, then kept in the package."""
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> object:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(names[name], package), name)
        namespace[name] = value
        return value

    return __getattr__
