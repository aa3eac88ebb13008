"""Alerts: rendering alert emails and digests, when digests go out, and delivering the outbox
(SMTP, or a local mbox file).

Errors::

    DeliveryError              a message could not be handed over (.permanent: never will be)
    ├── TransportUnavailable   server unreachable, TLS/login failed, connection lost:
    │   │                      never permanent; the delivery run stops and retries later
    │   └── AuthenticationFailed   the login was refused (5xx; a 4xx is for now): checked
    │                              when the daemon starts
    ├── MessageRefused         the server refused this message: .permanent on 5xx, else 4xx
    ├── AcceptanceUnknown      the connection lost after the message's end: maybe delivered
    ├── SendAbandoned          a stop ended the send before the message's end: not sent
    └── AskedToWait            a notification service said when to come back (.seconds)

Names load on first use (``newswatch --help`` imports none of the submodules). The function
``compose`` is imported from ``alerts.compose``: a lazy export cannot share its module's name.
"""

from typing import TYPE_CHECKING

from storage.lazy import lazy_exports

if TYPE_CHECKING:
    from .channels import AppriseTransport, check_channel, is_channel, redact
    from .compose import AlertItem, compose_digest, format_when
    from .deliver import DeliveryReport, MailOutage, RetryPolicy, build_message, deliver_due
    from .health import compose_health
    from .schedule import (
        STORM_WINDOW,
        DigestPlan,
        RecipientPolicies,
        RecipientPolicy,
        plan,
    )
    from .transport import (
        AcceptanceUnknown,
        AskedToWait,
        AuthenticationFailed,
        DeliveryError,
        MboxTransport,
        MessageRefused,
        SendAbandoned,
        SmtpSettings,
        SmtpTransport,
        Transport,
        TransportUnavailable,
    )

_LAZY = {
    "AlertItem": ".compose",
    "AppriseTransport": ".channels",
    "AcceptanceUnknown": ".transport",
    "AskedToWait": ".transport",
    "AuthenticationFailed": ".transport",
    "DeliveryError": ".transport",
    "DeliveryReport": ".deliver",
    "DigestPlan": ".schedule",
    "MailOutage": ".deliver",
    "MboxTransport": ".transport",
    "MessageRefused": ".transport",
    "RecipientPolicies": ".schedule",
    "RecipientPolicy": ".schedule",
    "RetryPolicy": ".deliver",
    "STORM_WINDOW": ".schedule",
    "SendAbandoned": ".transport",
    "SmtpSettings": ".transport",
    "SmtpTransport": ".transport",
    "Transport": ".transport",
    "TransportUnavailable": ".transport",
    "build_message": ".deliver",
    "check_channel": ".channels",
    "compose_digest": ".compose",
    "compose_health": ".health",
    "deliver_due": ".deliver",
    "format_when": ".compose",
    "is_channel": ".channels",
    "plan": ".schedule",
    "redact": ".channels",
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "STORM_WINDOW",
    "AcceptanceUnknown",
    "AlertItem",
    "AppriseTransport",
    "AskedToWait",
    "AuthenticationFailed",
    "DeliveryError",
    "DeliveryReport",
    "DigestPlan",
    "MailOutage",
    "MboxTransport",
    "MessageRefused",
    "RecipientPolicies",
    "RecipientPolicy",
    "RetryPolicy",
    "SendAbandoned",
    "SmtpSettings",
    "SmtpTransport",
    "Transport",
    "TransportUnavailable",
    "build_message",
    "check_channel",
    "compose_digest",
    "compose_health",
    "deliver_due",
    "format_when",
    "is_channel",
    "plan",
    "redact",
]
