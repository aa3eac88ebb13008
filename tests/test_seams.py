"""The storage seams hold: only storage/ knows SQLite, callers name ports rather than the Store,
and no sqlite3 exception leaves the Store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from storage import StorageError, Store, open_store

ROOT = Path(__file__).parent.parent
CALLERS = ("newswatch", "crawler", "watchlist", "alerts", "scheduler")


def imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every import of a Python file (name "" for ``import module``)."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def caller_files() -> list[Path]:
    return sorted(p for package in CALLERS for p in (ROOT / package).rglob("*.py"))


def test_only_storage_imports_sqlite() -> None:
    leaks = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in caller_files()
        for module, _ in imports(path)
        if module.split(".")[0] in ("sqlite3", "sqlite_utils")
    ]
    assert leaks == []


def test_callers_name_ports_not_the_sqlite_store() -> None:
    leaks = [
        f"{path.relative_to(ROOT)}: {module} {name}"
        for path in caller_files()
        for module, name in imports(path)
        if (module == "storage" and name == "Store") or module.startswith("storage.store")
    ]
    assert leaks == []


def test_database_failures_are_storage_errors(tmp_path: Path) -> None:
    store = open_store(tmp_path / "news.db")
    assert isinstance(store, Store)
    store.close()
    with pytest.raises(StorageError, match=r"news\.db"):
        store.topics()  # sqlite3.ProgrammingError inside: a closed database
    with pytest.raises(StorageError):
        list(store.export_rows())  # a generator: raised as it is read
