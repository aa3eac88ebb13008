"""Alerts: rendering alert emails and digests, when digests go out, and delivering the outbox
(SMTP, or a local mbox file).

Errors::

    DeliveryError              a message could not be handed over (.permanent: never will be)
    ├── TransportUnavailable   server unreachable, TLS/login failed, connection lost:
    │   │                      never permanent; the delivery run stops and retries later
    │   └── AuthenticationFailed   the login was refused (checked when the daemon starts)
    └── MessageRefused         the server refused this message: .permanent on 5xx, else 4xx
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from .channels import AppriseTransport, check_channel, is_channel, redact
from .compose import AlertItem, compose, compose_digest, format_when
from .schedule import (
    STORM_WINDOW,
    DigestPlan,
    RecipientPolicies,
    RecipientPolicy,
    plan,
)
from .transport import (
    AuthenticationFailed,
    DeliveryError,
    MboxTransport,
    MessageRefused,
    SmtpSettings,
    SmtpTransport,
    Transport,
    TransportUnavailable,
)

if TYPE_CHECKING:
    from .deliver import DeliveryReport, RetryPolicy, build_message, deliver_due
    from .health import compose_health

# Delivery loads on first use (PEP 562). The module ``compose`` is not lazy: its name is also
# a function's, and importing the module would shadow the function.
_LAZY = {
    "DeliveryReport": ".deliver",
    "RetryPolicy": ".deliver",
    "build_message": ".deliver",
    "deliver_due": ".deliver",
    "compose_health": ".health",
}


def __getattr__(name: str) -> object:
    """The names of ``_LAZY``, imported when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "STORM_WINDOW",
    "AlertItem",
    "AppriseTransport",
    "AuthenticationFailed",
    "DeliveryError",
    "DeliveryReport",
    "DigestPlan",
    "MboxTransport",
    "MessageRefused",
    "RecipientPolicies",
    "RecipientPolicy",
    "RetryPolicy",
    "SmtpSettings",
    "SmtpTransport",
    "Transport",
    "TransportUnavailable",
    "build_message",
    "check_channel",
    "compose",
    "compose_digest",
    "compose_health",
    "deliver_due",
    "format_when",
    "is_channel",
    "plan",
    "redact",
]
