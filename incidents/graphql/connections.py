"""Relay connections over incidents and dispatches: keyset cursors, a maximum
page size, filters by status, category, agency and time range; one query per
page plus one per nested list asked for, whatever the page holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from incidents import policies, selectors
from incidents.graphql.pagination import decode, encode, page_size, selects
from incidents.graphql.queries import DispatchType, IncidentType
from incidents.models import Dispatch


class IncidentConnection(graphene.relay.Connection):
    class Meta:
        node = IncidentType


class DispatchConnection(graphene.relay.Connection):
    class Meta:
        node = DispatchType


def _page(connection: Any, rows: list[Any], size: int, cursor: Any, after: str | None) -> Any:
    more = len(rows) > size
    rows = rows[:size]
    edges = [connection.Edge(node=row, cursor=cursor(row)) for row in rows]
    return connection(
        edges=edges,
        page_info=graphene.relay.PageInfo(
            has_next_page=more,
            has_previous_page=bool(after),
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def _time(cursor_value: str) -> datetime:
    parsed = parse_datetime(cursor_value)
    if parsed is None:
        raise ValueError(cursor_value)
    return parsed


def _filters(query: QuerySet[Any], prefix: str, *, category: str | None,
             since: datetime | None, until: datetime | None, time_field: str) -> QuerySet[Any]:
    if category:
        query = query.filter(**{f"{prefix}category__code": category})
    if since:
        query = query.filter(**{f"{time_field}__gte": since})
    if until:
        query = query.filter(**{f"{time_field}__lt": until})
    return query


class IncidentConnectionQuery(graphene.ObjectType):
    all_incidents = graphene.Field(
        graphene.NonNull(IncidentConnection),
        first=graphene.Int(description="Page size, 1 to 100 (default 20)."),
        after=graphene.String(),
        status=graphene.String(
            description="open, dispatched, resolved, closed; 'open' = not closed"
        ),
        category=graphene.String(description="Category code, e.g. fire"),
        agency=graphene.String(description="Agency code: incidents dispatched to it"),
        created_after=graphene.DateTime(),
        created_before=graphene.DateTime(),
        description="Incidents, newest first, by keyset pages.",
    )
    all_dispatches = graphene.Field(
        graphene.NonNull(DispatchConnection),
        first=graphene.Int(),
        after=graphene.String(),
        status=graphene.String(
            description="pending, acknowledged, departed, arrived, resolved, cancelled"
        ),
        category=graphene.String(),
        agency=graphene.String(),
        dispatched_after=graphene.DateTime(),
        dispatched_before=graphene.DateTime(),
        description="Dispatches, newest first, by keyset pages.",
    )

    @staticmethod
    def resolve_all_incidents(
        root: Any, info: Any, first: int | None = None, after: str | None = None,
        status: str | None = None, category: str | None = None, agency: str | None = None,
        created_after: datetime | None = None, created_before: datetime | None = None,
    ) -> Any:
        user = info.context.user
        size = page_size(first)
        position = decode("incident", after, 2)
        if not policies.can_view_incidents(user):
            return _page(IncidentConnection, [], size, lambda i: "", after)
        query = selectors.incident_search(policies.visible_incidents(user), "", status or "")
        query = _filters(query, "", category=category, since=created_after,
                         until=created_before, time_field="created_at")
        if agency:
            query = query.filter(
                pk__in=Dispatch.objects.filter(agency__code=agency).values("incident")
            )
        if position is not None:
            at, pk = _time(str(position[0])), int(position[1])
            query = query.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
        query = policies.with_visible_details(
            user, query.order_by("-created_at", "-pk"),
            dispatches=selects(info, "dispatches"), timeline=selects(info, "timeline"),
        )
        rows = list(query[: size + 1])
        return _page(IncidentConnection, rows, size,
                     lambda i: encode("incident", i.created_at.isoformat(), i.pk), after)

    @staticmethod
    def resolve_all_dispatches(
        root: Any, info: Any, first: int | None = None, after: str | None = None,
        status: str | None = None, category: str | None = None, agency: str | None = None,
        dispatched_after: datetime | None = None, dispatched_before: datetime | None = None,
    ) -> Any:
        user = info.context.user
        size = page_size(first)
        position = decode("dispatch", after, 2)
        query: QuerySet[Dispatch] = policies.visible_dispatches(user).select_related(
            "agency", "incident"
        )
        if status:
            query = query.filter(status=status)
        query = _filters(query, "incident__", category=category,
                         since=dispatched_after, until=dispatched_before,
                         time_field="dispatched_at")
        if agency:
            query = query.filter(agency__code=agency)
        if position is not None:
            at, pk = _time(str(position[0])), int(position[1])
            query = query.filter(Q(dispatched_at__lt=at) | Q(dispatched_at=at, pk__lt=pk))
        rows = list(query.order_by("-dispatched_at", "-pk")[: size + 1])
        return _page(DispatchConnection, rows, size,
                     lambda d: encode("dispatch", d.dispatched_at.isoformat(), d.pk), after)

