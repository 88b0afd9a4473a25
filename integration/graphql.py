"""On the national host: the incidents of a province's live Pemda for a province
token (every province for a national token or officer), from the public feed
table that each Pemda's transaction fills; no tenant schema is read."""

from __future__ import annotations

import base64
import json
from typing import Any

import graphene
from django.conf import settings

from core.errors import Forbidden, Invalid
from integration import selectors
from integration.models import ProvinceIncidentEvent


def _cursor(event: ProvinceIncidentEvent) -> str:
    return base64.urlsafe_b64encode(json.dumps(["pevent", event.txid, event.pk]).encode()).decode()


def _position(after: str | None) -> tuple[int, int] | None:
    if not after:
        return None
    try:
        kind, txid, pk = json.loads(base64.urlsafe_b64decode(after.encode()))
        if kind != "pevent":
            raise ValueError(kind)
        return int(txid), int(pk)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise Invalid("This cursor is not one of ours.", field="after") from None


class ProvinceIncidentEventType(graphene.ObjectType):
    cursor = graphene.String(required=True)
    pemda = graphene.String(required=True, description="The Pemda's name")
    pemda_schema = graphene.String(required=True)
    province_code = graphene.String(required=True)
    incident_id = graphene.ID(required=True, description="The incident's id in its Pemda")
    reference = graphene.String(required=True)
    kind = graphene.String(required=True)
    at = graphene.DateTime(required=True)
    category = graphene.String(required=True)
    priority = graphene.Int(required=True)
    status = graphene.String(required=True)
    kecamatan = graphene.String()
    latitude = graphene.Float()
    longitude = graphene.Float()

    @staticmethod
    def resolve_cursor(e: ProvinceIncidentEvent, info: Any) -> str:
        return _cursor(e)

    @staticmethod
    def resolve_pemda(e: ProvinceIncidentEvent, info: Any) -> str:
        return e.tenant_name

    @staticmethod
    def resolve_pemda_schema(e: ProvinceIncidentEvent, info: Any) -> str:
        return e.schema_name


class ProvinceIncidentEventPage(graphene.ObjectType):
    events = graphene.List(graphene.NonNull(ProvinceIncidentEventType), required=True)
    end_cursor = graphene.String()
    has_more = graphene.Boolean(required=True)


class ProvinceFeedQuery(graphene.ObjectType):
    province_incident_events = graphene.Field(
        graphene.NonNull(ProvinceIncidentEventPage),
        after=graphene.String(),
        first=graphene.Int(description="1 to 100 (default 20)"),
        province=graphene.String(description="Province code (national scope only)"),
        description="Changes of the incidents of live Pemda in commit order, each once: "
        "summary fields, no caller data. A province token sees its own province.",
    )

    @staticmethod
    def resolve_province_incident_events(
        root: Any, info: Any, after: str | None = None, first: int | None = None,
        province: str | None = None,
    ) -> dict[str, Any]:
        maximum = int(settings.GRAPHQL_LIMITS["MAX_PAGE"])
        size = 20 if first is None else first
        if not 1 <= size <= maximum:
            raise Invalid(f"first must be between 1 and {maximum}.", field="first")
        allowed, own = selectors.province_scope_of(info.context.user)
        if not allowed:
            raise Forbidden("An API token of province or national scope is needed.")
        if own is not None and province and province != own:
            raise Forbidden("This token may read its own province only.", field="province")
        rows = selectors.province_events(
            province=own or province or None, after=_position(after), limit=size + 1
        )
        more = len(rows) > size
        rows = rows[:size]
        return {"events": rows, "end_cursor": _cursor(rows[-1]) if rows else after,
                "has_more": more}
