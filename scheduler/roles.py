"""The roles of a process on several machines (``run --role``), read without the task engine:
an unknown role is said as such wherever newswatch runs (on SQLite it was taken for a role
asked of a database not shared)."""

from __future__ import annotations

from collections.abc import Iterable

ROLES = ("scheduler", "crawler", "alerter")


def parse_roles(values: Iterable[str]) -> frozenset[str]:
    """The roles named by ``--role`` options (each one role or a comma list); ValueError
    names an unknown one."""
    roles = {part.strip().lower() for value in values for part in value.split(",")} - {""}
    unknown = sorted(roles - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role {', '.join(unknown)} (roles: {', '.join(ROLES)})")
    if not roles:
        raise ValueError(f"no role given (roles: {', '.join(ROLES)})")
    return frozenset(roles)
