"""Who may do what on a Pemda's site: the one place views and GraphQL ask.

Everything here runs inside the tenant's schema, where only that Pemda's staff
exist, so a user from another Pemda is never even authenticated on this host.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Role
from core.errors import NotFound
from incidents.models import Agency, Call, Dispatch, Incident, TimelineEntry

OPERATIONS = (Role.CALL_TAKER, Role.SUPERVISOR)
# The roles that see every incident, dispatch and timeline entry of their Pemda. An OPD
# responder sees its own agency's dispatches only (and the incidents they belong to).
SEES_ALL = (Role.CALL_TAKER, Role.SUPERVISOR, Role.VIEWER)


def _ok(user: Any, *roles: str) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role(*roles))


def can_take_calls(user: Any) -> bool:
    return _ok(user, *OPERATIONS)


def can_create_incident(user: Any) -> bool:
    return _ok(user, *OPERATIONS)


def can_dispatch(user: Any) -> bool:
    return _ok(user, *OPERATIONS)


def can_supervise(user: Any) -> bool:
    """Reassign, close, escalations, lift number blocks."""
    return _ok(user, Role.SUPERVISOR)


def can_administer(user: Any) -> bool:
    return _ok(user, Role.PEMDA_ADMIN)


def can_view_incidents(user: Any) -> bool:
    return _ok(user, Role.CALL_TAKER, Role.SUPERVISOR, Role.VIEWER, Role.OPD_RESPONDER)


def can_view_outline(user: Any) -> bool:
    """The region outline is the map's base layer: whoever sees a map, and the admin
    who uploads it."""
    return can_view_incidents(user) or can_administer(user)


def can_view_dashboard(user: Any) -> bool:
    return _ok(user, Role.SUPERVISOR, Role.VIEWER, Role.PEMDA_ADMIN, Role.CALL_TAKER)


def can_view_handover(user: Any) -> bool:
    return _ok(user, Role.SUPERVISOR, Role.VIEWER)


def is_responder(user: Any) -> bool:
    """An OPD agency's responder: the OPD console and the dispatch steps."""
    return _ok(user, Role.OPD_RESPONDER)


def sees_caller_number(user: Any) -> bool:
    """Responders and viewers work without the caller's number (UU 27/2022)."""
    return _ok(user, *OPERATIONS)


def responder_agency(user: Any) -> Agency | None:
    if not _ok(user, Role.OPD_RESPONDER):
        return None
    membership = getattr(user, "agency_membership", None)
    try:
        return membership.agency if membership is not None else None
    except Agency.DoesNotExist:
        return None


def visible_incidents(user: Any) -> QuerySet[Incident]:
    """The one rule for which incidents a user sees, on every page, partial, JSON
    answer and GraphQL field: responders only those dispatched to their agency."""
    if _ok(user, *SEES_ALL):
        return Incident.objects.all()
    agency = responder_agency(user)
    if agency is not None:
        return Incident.objects.filter(
            pk__in=Dispatch.objects.filter(agency=agency).values("incident")
        )
    return Incident.objects.none()


def visible_dispatches(user: Any) -> QuerySet[Dispatch]:
    if _ok(user, *SEES_ALL):
        return Dispatch.objects.all()
    agency = responder_agency(user)
    if agency is not None:
        return Dispatch.objects.filter(agency=agency)
    return Dispatch.objects.none()


def with_visible_dispatches(user: Any, incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """`incident.dispatches.all()` then yields only the dispatches this user may see
    (a responder does not learn which other agencies were sent, nor how they fare)."""
    return incidents.prefetch_related(
        Prefetch(
            "dispatches",
            queryset=visible_dispatches(user).select_related("agency"),
        )
    )


def visible_timeline(user: Any, incident: Incident) -> QuerySet[TimelineEntry]:
    """The incident's history for this user: a responder sees the incident's own
    entries and its agency's dispatch entries, never another agency's."""
    entries = TimelineEntry.objects.filter(incident=incident).select_related("dispatch__agency")
    if _ok(user, *SEES_ALL):
        return entries
    agency = responder_agency(user)
    if agency is None:
        return entries.none()
    return entries.filter(Q(dispatch__isnull=True) | Q(dispatch__agency=agency))


def visible_timeline_entries(user: Any) -> QuerySet[TimelineEntry]:
    """Every timeline entry this user may see, across incidents (the change feed):
    the same rule as `visible_timeline`, plus the incident must be visible."""
    entries = TimelineEntry.objects.all()
    if _ok(user, *SEES_ALL):
        return entries
    agency = responder_agency(user)
    if agency is None:
        return entries.none()
    return entries.filter(incident__in=visible_incidents(user)).filter(
        Q(dispatch__isnull=True) | Q(dispatch__agency=agency)
    )


def with_visible_details(
    user: Any, incidents: QuerySet[Incident], *, dispatches: bool, timeline: bool
) -> QuerySet[Incident]:
    """Prefetch what a list shows under each incident (one query each, whatever
    the number of incidents), filtered by what this user may see."""
    if dispatches:
        incidents = with_visible_dispatches(user, incidents)
    if timeline:
        incidents = incidents.prefetch_related(
            Prefetch("timeline", queryset=visible_timeline_entries(user).order_by("at", "id"))
        )
    return incidents


def access_incident(user: Any, incident_id: object) -> Incident:
    """The incident if this user may see it; the same NotFound (404) for missing
    and forbidden."""
    try:
        return visible_incidents(user).select_related("category").get(pk=int(str(incident_id)))
    except (Incident.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such incident.")) from None


def access_dispatch_for_update(user: Any, dispatch_id: object) -> Dispatch:
    """A dispatch whose status this user may move: its agency's responders only."""
    agency = responder_agency(user)
    try:
        if agency is None:
            raise Dispatch.DoesNotExist
        return Dispatch.objects.select_related("incident", "agency").get(
            pk=int(str(dispatch_id)), agency=agency
        )
    except (Dispatch.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such dispatch.")) from None


def access_dispatch_for_supervision(user: Any, dispatch_id: object) -> Dispatch:
    if not can_supervise(user):
        raise NotFound(_("No such dispatch."))
    try:
        return Dispatch.objects.select_related("incident", "agency").get(pk=int(str(dispatch_id)))
    except (Dispatch.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such dispatch.")) from None


def access_call(user: Any, call_id: object) -> Call:
    if not can_take_calls(user):
        raise NotFound(_("No such call."))
    try:
        return Call.objects.get(pk=int(str(call_id)))
    except (Call.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such call.")) from None
