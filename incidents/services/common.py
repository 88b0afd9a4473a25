"""Helpers every incidents service uses: the timeline, parsing a person's input,
locking a row or answering 404."""

from __future__ import annotations

import copy
import math
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.localcache import TtlCache
from core.rules import InvalidPhoneNumber, normalize_phone
from incidents.errors import OperationError
from incidents.models import (
    Agency,
    Category,
    Dispatch,
    Incident,
    IncidentSettings,
    IncidentStatus,
    TimelineEntry,
)
from integration.services import province_event_publish
from tenants.db import current_schema
from webhooks.services import webhook_event_publish

M = TypeVar("M", bound=Model)


# What a 404 says, per kind of row, whole sentences so that a translator sees them
# (an f-string "No such {what}." reached people in English only).
_NO_SUCH = {
    "incident": gettext_lazy("No such incident."),
    "dispatch": gettext_lazy("No such dispatch."),
    "call": gettext_lazy("No such call."),
    "category": gettext_lazy("No such category."),
    "block": gettext_lazy("No such number block."),
    "handover note": gettext_lazy("No such handover note."),
    "PBX credential": gettext_lazy("No such PBX key."),
}


def lock_or_404(query: type[M] | QuerySet[M], pk: object, what: str) -> M:
    """The row, locked (SELECT ... FOR UPDATE) until the transaction ends; an
    OperationError 404 ("No such <what>.", in the request's language) when there
    is none. `what` is a key of _NO_SUCH."""
    rows = query._default_manager.all() if isinstance(query, type) else query
    # of=("self",): a select_related join (the category, the agency) must not lock
    # those rows too, or every change to any fire incident would wait for the others.
    row = rows.select_for_update(of=("self",)).filter(pk=pk).first()
    if row is None:
        raise OperationError(str(_NO_SUCH.get(what, gettext_lazy("Not found."))), status=404)
    return row


# What every incident created reads and a Pemda admin changes a few times a year, kept
# in the process per schema (core.localcache): the Pemda's settings row and its
# active categories. A save or delete in this process forgets them at once; another
# process sees the change within LOCAL_CACHE_SECONDS.
_settings: TtlCache[str, IncidentSettings] = TtlCache()
_categories: TtlCache[str, tuple[dict[str, Category], dict[int, Category]]] = TtlCache()


def _forget_settings(**_kwargs: object) -> None:
    _settings.clear()


def _forget_categories(**_kwargs: object) -> None:
    _categories.clear()


for _signal in (post_save, post_delete):
    _signal.connect(_forget_settings, sender=IncidentSettings,
                    dispatch_uid=f"incident-settings-cache-{id(_signal)}")
    _signal.connect(_forget_categories, sender=Category,
                    dispatch_uid=f"incident-categories-cache-{id(_signal)}")


def incident_settings() -> IncidentSettings:
    """The Pemda's settings (IncidentSettings.load()), from the process cache; a copy,
    so a caller that changes it changes nothing another request sees."""
    schema = current_schema()
    cfg = _settings.get(schema)
    if cfg is None:
        cfg = IncidentSettings.load()
        _settings.set(schema, cfg)
    return copy.copy(cfg)


def active_category(raw: str) -> Category | None:
    """The active category with this code, or this primary key when `raw` is digits
    (as the incident form sends either), from the process cache of the Pemda's
    active categories."""
    schema = current_schema()
    known = _categories.get(schema)
    if known is None:
        active = list(Category.objects.filter(active=True))
        known = ({c.code: c for c in active}, {c.pk: c for c in active})
        _categories.set(schema, known)
    category = known[1].get(int(raw)) if raw.isdigit() else known[0].get(raw)
    return copy.copy(category) if category is not None else None


def actor_label(actor: User | None) -> str:
    if actor is None:
        return "system"
    return str(actor.display_name or actor.username)


def timeline_add(
    *,
    incident: Incident,
    kind: str,
    actor: User | None,
    data: dict[str, Any] | None = None,
    dispatch: Dispatch | None = None,
    at: datetime | None = None,
    actor_name: str = "",
) -> TimelineEntry:
    entry = TimelineEntry.objects.create(
        incident=incident,
        dispatch=dispatch,
        kind=kind,
        actor=actor,
        actor_name=actor_name or actor_label(actor),
        at=at or timezone.now(),
        data=data or {},
    )
    timeline_published(incident, entry)
    return entry


def timeline_published(incident: Incident, entry: TimelineEntry) -> None:
    """What a new timeline row tells beyond its Pemda. Called by timeline_add, and
    by a writer that inserts the row itself (incident_create's one statement)."""
    # The province's feed learns of the change in the same transaction: it commits
    # (or rolls back) with the change itself, and its readers never open 514 schemas.
    province_event_publish(
        schema_name=current_schema(),
        incident_id=incident.pk,
        reference=incident.reference,
        kind=entry.kind,
        at=entry.at,
        category=incident.category.code,
        priority=incident.priority,
        status=incident.status,
        kecamatan=incident.kecamatan,
        latitude=incident.latitude,
        longitude=incident.longitude,
        is_test=incident.is_test,
    )
    incident_events_publish(incident, entry)


# Timeline kinds that subscribers hear, and as which events.
_EVENTS = {"created": "incident.created", "status": "incident.status_changed",
           "dispatched": "incident.dispatched"}
# What of a timeline entry's data travels in an event (no caller number, no free text).
_EVENT_FIELDS = ("from", "to", "agency", "agency_name", "category", "priority")


def incident_events_publish(incident: Incident, entry: TimelineEntry) -> None:
    """Webhook deliveries for this change, in its own transaction (webhooks/). The
    payload names the incident, its category and place, not the caller nor the
    free-text description: subscribers fetch the EIDO document for more."""
    event = _EVENTS.get(entry.kind)
    if event is None:
        return
    schema = current_schema()
    data = entry.data if isinstance(entry.data, dict) else {}
    payload = {
        "incident": {
            "id": incident.pk,
            "eido_id": f"urn:siaga112:{schema}:incident:{incident.pk}",
            "reference": incident.reference,
            "category": incident.category.code,
            "priority": incident.priority,
            "status": incident.status,
            "latitude": incident.latitude,
            "longitude": incident.longitude,
            "kecamatan": incident.kecamatan,
            "kelurahan": incident.kelurahan,
            "created_at": incident.created_at.isoformat(),
        },
        "change": {"kind": entry.kind, "at": entry.at.isoformat(),
                   **{k: data[k] for k in _EVENT_FIELDS if k in data}},
    }
    base = f"{schema}:incident:{incident.pk}:timeline:{entry.pk}"
    webhook_event_publish(event=event, event_id=base, payload=payload)
    if entry.kind == "status" and data.get("to") == IncidentStatus.CLOSED:
        webhook_event_publish(event="incident.closed", event_id=f"{base}:closed",
                              payload=payload)


def normalize_phone_field(raw: str, field_name: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidPhoneNumber as exc:
        raise OperationError(str(exc), field=field_name) from None


def parse_float(value: object, field_name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        raise OperationError(
            _("%(field)s must be a number, not %(value)r") % {"field": field_name, "value": value},
            field=field_name,
        ) from None
    if not math.isfinite(number):
        raise OperationError(f"{field_name} must be a number", field=field_name)
    return number


def lock_incident_not_closed(incident_id: int) -> Incident:
    """The incident, row-locked for the rest of the transaction; 404/409 otherwise."""
    incident = lock_or_404(Incident.objects.select_related("category"), incident_id, "incident")
    if incident.status == IncidentStatus.CLOSED:
        raise OperationError(_("%(ref)s is closed.") % {"ref": incident.reference}, status=409)
    return incident


def agencies_chosen(agency_ids: list[Any]) -> list[Agency]:
    if not agency_ids:
        raise OperationError(_("Choose at least one agency."), field="agency")
    agencies = []
    for raw in agency_ids:
        text = str(raw).strip()
        agency = (
            Agency.objects.filter(pk=int(text), active=True).first() if text.isdigit() else None
        )
        if agency is None:
            raise OperationError(
                _("Agency %(id)r does not exist in this Pemda (or is inactive).") % {"id": text},
                field="agency",
            )
        agencies.append(agency)
    return agencies
