"""Read access to incidents over GraphQL: thin, through policies and selectors."""

from __future__ import annotations

from typing import Any

import graphene

from core.errors import NotFound
from incidents import policies, selectors
from incidents.graphql.pagination import selects
from incidents.models import Dispatch, Incident, TimelineEntry


class TimelineEntryType(graphene.ObjectType):
    kind = graphene.String(required=True)
    at = graphene.DateTime(required=True)
    actor = graphene.String(required=True)
    data = graphene.JSONString()

    @staticmethod
    def resolve_actor(entry: TimelineEntry, info: Any) -> str:
        return entry.actor_name


class DispatchType(graphene.ObjectType):
    id = graphene.ID(required=True)
    incident_reference = graphene.String(required=True)
    agency_code = graphene.String(required=True)
    agency_name = graphene.String(required=True)
    status = graphene.String(required=True)
    dispatched_at = graphene.DateTime(required=True)
    acknowledged_at = graphene.DateTime()
    departed_at = graphene.DateTime()
    arrived_at = graphene.DateTime()
    resolved_at = graphene.DateTime()
    escalated_at = graphene.DateTime()
    outcome = graphene.String()

    @staticmethod
    def resolve_incident_reference(d: Dispatch, info: Any) -> str:
        return d.incident.reference

    @staticmethod
    def resolve_agency_code(d: Dispatch, info: Any) -> str:
        return d.agency.code

    @staticmethod
    def resolve_agency_name(d: Dispatch, info: Any) -> str:
        return d.agency.name


class IncidentType(graphene.ObjectType):
    id = graphene.ID(required=True)
    reference = graphene.String(required=True)
    category = graphene.String(required=True)
    priority = graphene.Int(required=True)
    status = graphene.String(required=True)
    latitude = graphene.Float()
    longitude = graphene.Float()
    address = graphene.String()
    outside_area = graphene.Boolean()
    description = graphene.String()
    caller = graphene.String(description="E.164; masked for roles that do not need it")
    is_test = graphene.Boolean()
    created_at = graphene.DateTime(required=True)
    closed_at = graphene.DateTime()
    dispatches = graphene.List(graphene.NonNull(DispatchType))
    timeline = graphene.List(graphene.NonNull(TimelineEntryType))

    @staticmethod
    def resolve_category(i: Incident, info: Any) -> str:
        return i.category.code

    @staticmethod
    def resolve_caller(i: Incident, info: Any) -> str:
        return selectors.display_caller(
            i.caller, full=policies.sees_caller_number(info.context.user)
        )

    @staticmethod
    def resolve_dispatches(i: Incident, info: Any) -> list[Dispatch]:
        # Lists prefetch these (policies.with_visible_details); a single incident asks.
        if "dispatches" in getattr(i, "_prefetched_objects_cache", {}):
            return list(i.dispatches.all())
        return list(
            policies.visible_dispatches(info.context.user)
            .filter(incident=i)
            .select_related("agency", "incident")
        )

    @staticmethod
    def resolve_timeline(i: Incident, info: Any) -> list[TimelineEntry]:
        if "timeline" in getattr(i, "_prefetched_objects_cache", {}):
            return list(i.timeline.all())
        return list(policies.visible_timeline(info.context.user, i))


class IncidentQuery(graphene.ObjectType):
    incidents = graphene.List(
        graphene.NonNull(IncidentType), status=graphene.String(), first=graphene.Int()
    )
    incident = graphene.Field(IncidentType, id=graphene.ID(required=True))
    open_dispatches = graphene.List(graphene.NonNull(DispatchType))

    @staticmethod
    def resolve_incidents(
        root: Any, info: Any, status: str = "", first: int = 100
    ) -> list[Incident]:
        user = info.context.user
        if not policies.can_view_incidents(user):
            return []
        query = selectors.incident_search(policies.visible_incidents(user), "", status or "")
        query = policies.with_visible_details(
            user, query, dispatches=selects(info, "dispatches"), timeline=selects(info, "timeline")
        )
        return list(query[: max(1, min(first or 100, 500))])

    @staticmethod
    def resolve_incident(root: Any, info: Any, id: str) -> Incident | None:
        try:
            return policies.access_incident(info.context.user, id)
        except NotFound:
            return None

    @staticmethod
    def resolve_open_dispatches(root: Any, info: Any) -> list[Dispatch]:
        user = info.context.user
        ids = selectors.open_dispatches_query().values("pk")
        return list(
            policies.visible_dispatches(user)
            .filter(pk__in=ids)
            .select_related("agency", "incident")
        )
