"""Small display helpers for the call center screens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import template
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from incidents import selectors
from incidents.models import CallType, IncidentStatus

register = template.Library()


@register.filter
def duration(seconds: Any) -> str:
    """1234 -> '20:34'; over an hour '1:20:34'."""
    if seconds in (None, ""):
        return "–"
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def caller(number: str, full: bool) -> str:
    return selectors.display_caller(number, full=bool(full))


@register.filter
def priority_class(priority: int) -> str:
    colours = {1: "danger", 2: "warning", 3: "info", 4: "secondary"}
    return colours.get(int(priority or 4), "secondary")


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None


_KINDS = {
    "created": _("created"),
    "call_attached": _("call attached"),
    "dispatched": _("dispatched"),
    "status": _("status"),
    "acknowledged": _("acknowledged"),
    "departed": _("departed"),
    "arrived": _("arrived"),
    "resolved": _("resolved"),
    "cancelled": _("cancelled"),
    "reassigned": _("reassigned"),
    "escalated": _("escalated"),
    "referred": _("referred to a neighbouring Pemda"),
    "referral_received": _("referral received"),
    "no_unit": _("no unit available"),
}


@register.filter
def status_label(code: str) -> str:
    """An incident status as people read it; an unknown code is shown as stored."""
    try:
        return str(IncidentStatus(code).label)
    except ValueError:
        return str(code)


@register.filter
def agency_short(name: str) -> str:
    """'Damkar (Pemadam Kebakaran)' -> 'Damkar': the name people use, short enough
    for a badge; the full name is on the incident page."""
    return str(name).split(" (")[0].strip() or str(name)


@register.filter
def call_type_label(code: str) -> str:
    if code == "unclassified":  # the handover's key for calls nobody classified
        return str(_("Unclassified"))
    try:
        return str(CallType(code).label)
    except ValueError:
        return str(code)


# How the handset found its AML position (incidents.aml's sources), as a call-taker reads it.
_AML_SOURCES = {
    "gnss": _("satellite (GNSS)"),
    "wifi": _("Wi-Fi"),
    "cell": _("mobile network cell"),
}


@register.filter
def aml_source_label(source: str) -> str:
    return str(_AML_SOURCES.get(source, _("source unknown")))


@register.filter
def kind_label(kind: str) -> str:
    return str(_KINDS.get(kind, kind))


@register.simple_tag(takes_context=True)
def page_href(context: Any, param: str, number: int) -> str:
    """A link to page `number` of a console list: the screen the fragment sits in
    (htmx names it in HX-Current-URL) with `param` set. Only the path and query of
    that header are used, so the link never leaves the site."""
    request = context.get("request")
    current = request.headers.get("HX-Current-URL", "") if request is not None else ""
    parts = urlsplit(current or (request.get_full_path() if request is not None else ""))
    query = QueryDict(parts.query, mutable=True)
    query[param] = str(number)
    return f"{parts.path or '/'}?{query.urlencode()}"


@register.simple_tag
def presence_of(user: Any) -> dict[str, Any]:
    """The navbar's presence for this call-taker (incidents.call_routing.own_presence)."""
    from incidents.call_routing import own_presence

    return own_presence(user)
