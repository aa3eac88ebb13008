"""Source-health emails for the operator: a source failing for long (or gone, or stale: its
polls bring no new article), and its recovery — one email each way, not one per failure."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from storage import Email, SourceHealth

from .compose import MAX_NAME, format_when, one_line, plural, shorten, templates


def _view(row: SourceHealth, tz: tzinfo) -> dict[str, Any]:
    """A source as the email shows it: each value on one line, without control characters
    (a feed's title on two lines, taken as the source's name, made the subject a header
    that cannot be written: the email failed for good, and so every source's report in
    it)."""
    return {
        "name": shorten(one_line(row.name or row.url), MAX_NAME) or one_line(row.url),
        "url": one_line(row.url),
        "polled_at": one_line(row.fetch_url) if row.fetch_url else row.fetch_url,
        "error": one_line(row.deactivated or row.last_error or "unknown error"),
        "failures": plural(row.consecutive_failures, "failed poll"),
        "since": format_when(row.failing_since, tz),
        "last_success": format_when(row.last_success, tz) if row.last_success else "never",
        "gone": bool(row.deactivated),
        "stale": row.stale,
        "last_new": format_when(row.last_new, tz) if row.last_new else "never",
    }


def compose_health(
    recipient: str,
    failing: Sequence[SourceHealth],
    recovered: Sequence[SourceHealth],
    now: datetime,
    domain: str = "newswatch.local",
    tz: tzinfo = UTC,
) -> Email:
    """The email telling the operator which sources are failing, gone or stale, and which
    recovered; times on the operator's clock (``tz``: their [[recipients]] time zone, else
    alerts.timezone)."""
    failing_views = [_view(r, tz) for r in failing]
    recovered_views = [_view(r, tz) for r in recovered]
    parts = []
    for state, views in (("failing", [v for v in failing_views if not v["stale"]]),
                         ("stale", [v for v in failing_views if v["stale"]])):
        if views:
            parts.append(f"{state}: {', '.join(v['name'] for v in views)}")
    if recovered_views:
        names = ", ".join(v["name"] for v in recovered_views)
        parts.append(f"recovered: {names}")
    subject = "[newswatch] source health — " + "; ".join(parts)
    if len(subject) > 150:
        subject = subject[:149] + "…"
    context = {
        "failing": failing_views,
        "recovered": recovered_views,
        "recipient": recipient,
        "failing_heading": (f"{plural(len(failing_views), 'source')} "
                            f"{'needs' if len(failing_views) == 1 else 'need'} attention"),
        "recovered_heading": (f"{plural(len(recovered_views), 'source')} "
                              f"{'is' if len(recovered_views) == 1 else 'are'} polled normally "
                              "again"),
    }
    env = templates()
    return Email(
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
        recipient=recipient,
        subject=subject,
        text=env.get_template("health.txt.j2").render(context),
        html=env.get_template("health.html.j2").render(context),
        created=now,
    )
