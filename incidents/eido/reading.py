"""Reading what an incoming EIDO document says, without writing anything: the
incident's type, where it is, who called back, its notes. Pure functions over
the (already schema-valid) JSON; the import service decides what to store.

PIDF-LO and notes come as XML/HTML strings from another system: they are read
with bounded regular expressions, never with an XML parser (no entity
expansion, no external entities to fetch)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

MAX_MARKUP = 20_000
_POS = re.compile(r"<(?:[A-Za-z][\w.-]*:)?pos(?:\s[^>]{0,200})?>\s*([-+0-9.eE]{1,30})\s+"
                  r"([-+0-9.eE]{1,30})")
_CIVIC = re.compile(r"<(country|A1|A2|A3|A4|A5|A6|RD|STS|HNO|HNS|PC|LOC|NAM)>([^<]{0,200})</\1>")
_TAG = re.compile(r"<[^>]{0,500}>")
INCIDENT_LOCATION_TYPES = ("CurrentIncident", "Incident", "IncidentLocation")


@dataclass
class EidoLocation:
    path: str
    latitude: float | None = None
    longitude: float | None = None
    civic: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        parts = [self.civic.get(k, "") for k in ("HNO", "RD", "STS", "LOC", "A4", "A3", "A2",
                                                  "A1", "country")]
        return ", ".join(p for p in parts if p)[:255]


@dataclass
class EidoNote:
    id: str
    path: str
    text: str


def parse_location(value: str, path: str) -> EidoLocation:
    markup = value[:MAX_MARKUP]
    found = EidoLocation(path=path)
    match = _POS.search(markup)
    if match:
        try:
            found.latitude, found.longitude = float(match.group(1)), float(match.group(2))
        except ValueError:
            found.latitude = found.longitude = None
    for tag, text in _CIVIC.findall(markup):
        found.civic.setdefault(tag, html.unescape(text).strip())
    return found


def incident_location(document: dict[str, Any]) -> EidoLocation | None:
    """The incident's location: a location component of an incident type first, then
    any with coordinates, then any with a civic address."""
    candidates = []
    for index, component in enumerate(document.get("locationComponent") or []):
        value = component.get("locationByValue")
        if not isinstance(value, str):
            continue
        location = parse_location(value, f"$.locationComponent[{index}].locationByValue")
        kind = str(component.get("locationTypeDescriptionRegistryText", ""))
        candidates.append((kind in INCIDENT_LOCATION_TYPES, location.latitude is not None,
                           bool(location.civic), -index, location))
    candidates = [c for c in candidates if c[1] or c[2]]
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[:4])[4]


def plain_text(markup: str) -> str:
    """notesActionComments is HTML5: keep the words."""
    return html.unescape(_TAG.sub(" ", markup[:MAX_MARKUP])).strip()


def notes(document: dict[str, Any]) -> list[EidoNote]:
    found = []
    for index, component in enumerate(document.get("notesComponent") or []):
        text = plain_text(str(component.get("notesActionComments", "")))
        if text:
            found.append(EidoNote(str(component["$id"]), f"$.notesComponent[{index}]",
                                  text[:2000]))
    return found


def callback_numbers(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(tel number, JSON path) for every call-back URI, callers first."""
    found = []
    for index, component in enumerate(document.get("callbackComponent") or []):
        for uri_index, uri in enumerate(component.get("callBackInformationUri") or []):
            if isinstance(uri, str) and uri.lower().startswith("tel:"):
                number = uri[4:].split(";")[0].strip()
                found.append((number, f"$.callbackComponent[{index}]"
                                      f".callBackInformationUri[{uri_index}]"))
    return found
