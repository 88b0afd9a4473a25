"""The change feed of one Pemda: every timeline entry (created, dispatched, each
responder step, status, note, ...) in COMMIT order, each exactly once.

Ids and clock times are taken before commit, so paging by them lets a reader
pass a row that commits later with a smaller id. Each entry carries its
transaction's id (txid, set by PostgreSQL at insert); the feed serves only
entries whose transaction is older than every transaction still running
(integration.selectors.FEED_HORIZON, about `pg_snapshot_xmin(pg_current_snapshot())`),
ordered by (txid, id). Whatever
commits later has a txid at or above that horizon, so it sorts after the
reader's cursor. The price: an entry appears once the oldest transaction
running at the time has ended (normally milliseconds)."""

from __future__ import annotations

from typing import Any

import graphene
from django.db.models import Prefetch, Q
from django.db.models.expressions import RawSQL

from incidents import policies
from incidents.graphql.pagination import decode, encode, page_size, selects
from incidents.graphql.queries import IncidentType
from incidents.models import TimelineEntry
from integration.selectors import FEED_HORIZON as HORIZON


class IncidentEventType(graphene.ObjectType):
    cursor = graphene.String(required=True, description="Pass as `after` to continue here")
    kind = graphene.String(required=True)
    at = graphene.DateTime(required=True)
    actor = graphene.String(required=True)
    data = graphene.JSONString()
    incident_id = graphene.ID(required=True)
    incident_reference = graphene.String(required=True)
    dispatch_id = graphene.ID()
    agency_code = graphene.String()
    incident = graphene.Field(IncidentType, description="The incident as it is now")

    @staticmethod
    def resolve_cursor(e: TimelineEntry, info: Any) -> str:
        return encode("event", e.txid, e.pk)

    @staticmethod
    def resolve_actor(e: TimelineEntry, info: Any) -> str:
        return e.actor_name

    @staticmethod
    def resolve_incident_reference(e: TimelineEntry, info: Any) -> str:
        return e.incident.reference

    @staticmethod
    def resolve_agency_code(e: TimelineEntry, info: Any) -> str | None:
        return e.dispatch.agency.code if e.dispatch is not None else None


class IncidentEventPage(graphene.ObjectType):
    events = graphene.List(graphene.NonNull(IncidentEventType), required=True)
    end_cursor = graphene.String(description="Where the next call starts; the same `after` "
                                 "when nothing new has committed yet")
    has_more = graphene.Boolean(required=True)


class IncidentFeedQuery(graphene.ObjectType):
    incident_events = graphene.Field(
        graphene.NonNull(IncidentEventPage),
        after=graphene.String(description="endCursor of the previous page; empty: from the start"),
        first=graphene.Int(description="1 to 100 (default 20)"),
        description="Every change of this Pemda's incidents in commit order, each once.",
    )

    @staticmethod
    def resolve_incident_events(
        root: Any, info: Any, after: str | None = None, first: int | None = None
    ) -> dict[str, Any]:
        user = info.context.user
        size = page_size(first)
        position = decode("event", after, 2)
        if not policies.can_view_incidents(user):
            return {"events": [], "end_cursor": after, "has_more": False}
        query = policies.visible_timeline_entries(user).filter(
            txid__lt=RawSQL(HORIZON, [])
        ).select_related("incident", "dispatch__agency")
        if position is not None:
            txid, pk = int(position[0]), int(position[1])
            query = query.filter(Q(txid__gt=txid) | Q(txid=txid, pk__gt=pk))
        if selects(info, "incident"):
            query = query.select_related("incident__category")
            query = query.prefetch_related(*_incident_prefetches(user, info))
        rows = list(query.order_by("txid", "pk")[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        end = encode("event", rows[-1].txid, rows[-1].pk) if rows else after
        return {"events": rows, "end_cursor": end, "has_more": more}


def _incident_prefetches(user: Any, info: Any) -> list[Any]:
    prefetches: list[Any] = []
    if selects(info, "dispatches"):
        prefetches.append(Prefetch(
            "incident__dispatches",
            queryset=policies.visible_dispatches(user).select_related("agency"),
        ))
    if selects(info, "timeline"):
        prefetches.append(Prefetch(
            "incident__timeline",
            queryset=policies.visible_timeline_entries(user).order_by("at", "id"),
        ))
    return prefetches
