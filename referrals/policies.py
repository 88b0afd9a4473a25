"""Who on a Pemda's site may do what with referrals: the one place. The
services check which Pemda acts; these check which person inside it may.
Views and GraphQL (in incidents/) call them before calling a service."""

from __future__ import annotations

from accounts.models import Role


def _role(user: object) -> str:
    if user is None or not getattr(user, "is_active", False):
        return ""
    if getattr(user, "is_authenticated", True) is False:
        return ""
    return str(getattr(user, "role", "") or "")


# The call center's floor sends and answers; leadership follows along.
SENDERS = frozenset({Role.CALL_TAKER, Role.SUPERVISOR})
ANSWERERS = frozenset({Role.CALL_TAKER, Role.SUPERVISOR})
READERS = SENDERS | ANSWERERS | {Role.VIEWER}


def can_view_referrals(user: object) -> bool:
    return _role(user) in READERS


def can_send_referral(user: object) -> bool:
    return _role(user) in SENDERS


def can_answer_referral(user: object) -> bool:
    """Accept, decline and post updates."""
    return _role(user) in ANSWERERS
