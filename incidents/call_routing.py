"""Which ringing calls ring for whom, and the call-takers' presence board.

A new ringing call is offered first to the call-takers who are free (available and
not on a call) for the Pemda's offer window (IncidentSettings.offer_window_seconds);
after the window, or at once when nobody is free, it rings for every call-taker on
the site. A call is never hidden from everyone.

Offered to ALL free call-takers at once, not to the longest-idle one first: a 112
line is judged by seconds to answer, not by an even share of calls. Offering to one
agent at a time (the ACD's longest-idle rule, fair in a sales center) loses a whole
offer window each time that agent has stepped away from the desk without setting
"away", and a Pemda's shift has a handful of call-takers, so there is little load to
balance. The window still takes the call off the screens of those already talking to a
caller, which is what "free operators first" is for.

Only the PostgreSQL state (presence rows, calls) and the clock decide; state changes
bump the live counters, and what the clock alone changes (a window ending) is given to
the conditional polling as a token and a time (`RingingView.token`, `.until`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from incidents import selectors
from incidents.models import Call, CallState, OperatorPresence, PresenceStatus
from incidents.services.common import incident_settings

# Who has a presence: the roles that answer calls (policies.OPERATIONS).
OPERATOR_ROLES = (Role.CALL_TAKER, Role.SUPERVISOR)
# An answered call the PBX never reported ended stops counting as "on a call" after
# this long, so one lost "ended" event does not keep a call-taker busy for ever.
ON_CALL_STALE = timedelta(hours=4)


def _on_call(now: datetime) -> QuerySet[Call]:
    return Call.objects.filter(state=CallState.ANSWERED, ended_at__isnull=True,
                               answered_at__gte=now - ON_CALL_STALE)


def free_operator_ids(now: datetime | None = None) -> set[int]:
    """Active call-takers who said they are available and are not on a call."""
    now = now or timezone.now()
    rows = (OperatorPresence.objects
            .filter(status=PresenceStatus.AVAILABLE, user__is_active=True,
                    user__role__in=OPERATOR_ROLES)
            .exclude(Exists(_on_call(now).filter(operator_id=OuterRef("user_id"))))
            .values_list("user_id", flat=True))
    return set(rows)


@dataclass(frozen=True)
class RingingView:
    """What rings for one user now. `token` changes whenever the clock alone changes
    what is shown (with the database unchanged); `until` is the next moment it will
    (None: not before the next write)."""

    calls: QuerySet[Call]
    count: int
    offered: bool  # True: this user is among the free ones (sees new calls at once)
    token: str
    until: float | None


def ringing_for(user: Any, now: datetime | None = None) -> RingingView:
    now = now or timezone.now()
    # From the process cache: every console poll asks, even the ones answered 304.
    window = timedelta(seconds=incident_settings().offer_window_seconds)
    ringing = selectors.ringing_calls(now)
    free = free_operator_ids(now) if window else set()
    offered = not free or user.pk in free
    cutoff = now - window
    shown = Q() if offered else Q(ringing_at__lte=cutoff)
    hidden = Q(pk__in=[]) if offered else Q(ringing_at__gt=cutoff)
    # Given the same rows, the shown set only changes with the clock by gaining the
    # next call whose window ends (always the newest shown: the max moves) or losing
    # the oldest to RINGING_STALE_SECONDS (the count moves): (count, max) tells.
    figures = ringing.order_by().aggregate(
        n=Count("pk", filter=shown), last=Max("ringing_at", filter=shown),
        next_hidden=Min("ringing_at", filter=hidden))
    last, next_hidden = figures["last"], figures["next_hidden"]
    token = f"{figures['n']}:{last.timestamp() if last else '-'}:{int(offered)}"
    until = (next_hidden + window).timestamp() if next_hidden else None
    return RingingView(calls=ringing.filter(shown), count=figures["n"], offered=offered,
                       token=token, until=until)


# --- the supervisor's presence board ------------------------------------------------------


@dataclass(frozen=True)
class PresenceRow:
    user: User
    state: str  # "on_call", "available", "away"
    since: datetime | None


def presence_board(now: datetime | None = None) -> list[PresenceRow]:
    """Every active call-taker and supervisor: on a call (since the answer), available
    or away (since the last change); on a call first, then available, then away."""
    now = now or timezone.now()
    users = list(User.objects.filter(is_active=True, role__in=OPERATOR_ROLES)
                 .order_by("display_name", "username"))
    statuses = {p.user_id: p for p in OperatorPresence.objects.filter(
        user_id__in=[u.pk for u in users])}
    calls: dict[int, datetime] = {}
    for operator_id, answered_at in (_on_call(now).filter(operator_id__in=[u.pk for u in users])
                                     .order_by("answered_at")
                                     .values_list("operator_id", "answered_at")):
        if operator_id is not None and answered_at is not None:
            calls.setdefault(operator_id, answered_at)
    rows = []
    for user in users:
        presence = statuses.get(user.pk)
        if user.pk in calls:
            rows.append(PresenceRow(user, "on_call", calls[user.pk]))
        elif presence is not None and presence.status == PresenceStatus.AVAILABLE:
            rows.append(PresenceRow(user, "available", presence.changed_at))
        else:
            rows.append(PresenceRow(user, "away", presence.changed_at if presence else None))
    order = {"on_call": 0, "available": 1, "away": 2}
    return sorted(rows, key=lambda r: order[r.state])


def own_presence(user: Any) -> dict[str, Any]:
    """The navbar's presence for this user: what they set ("available" or "away") and
    whether they are on a call now (which routing reads as busy either way)."""
    status = (OperatorPresence.objects.filter(user=user)
              .values_list("status", flat=True).first())
    return {
        "status": PresenceStatus.AVAILABLE if status == PresenceStatus.AVAILABLE
        else PresenceStatus.AWAY,
        "on_call": _on_call(timezone.now()).filter(operator=user).exists(),
    }
