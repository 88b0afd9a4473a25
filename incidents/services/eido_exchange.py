"""Importing an EIDO document (NENA-STA-021): create the incident it describes, or
update the one an earlier import (or our own export) made. Idempotent by the
EIDO's `$id`: the same document twice is one incident, and notes already taken
over are not added again.

Everything is checked before anything is written; a refusal names the JSON path
(`$.locationComponent[0].locationByValue`) and rolls back."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.rules import InvalidPhoneNumber, normalize_phone
from incidents.eido import reading
from incidents.eido.export import COMMON_INCIDENT_TYPE
from incidents.eido.schema import eido_schema_errors
from incidents.errors import OperationError
from incidents.models import Category, Incident, TimelineEntry
from incidents.services.common import lock_or_404, timeline_add
from incidents.services.incidents import IncidentInput, incident_create

logger = logging.getLogger(__name__)

NOTE_KIND = "eido_note"
# Which JSON path a form field of incident_validate came from, for its errors.
_FIELD_PATH = {
    "category": "$.incidentComponent.incidentTypeInternalCode",
    "description": "$.notesComponent",
    "address": "$.locationComponent",
    "caller": "$.callbackComponent",
}


class EidoInvalid(OperationError):
    """The document is not a valid EIDO. `errors` lists every (path, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        first_path, first_message = errors[0]
        super().__init__(
            _("Invalid EIDO at %(path)s: %(message)s") % {"path": first_path,
                                                          "message": first_message},
            field=first_path,
            status=400,
            code="invalid_eido",
        )
        self.errors = errors

    def as_json(self) -> dict[str, Any]:  # type: ignore[override]
        body: dict[str, Any] = dict(super().as_json())
        body["errors"] = [{"path": p, "message": m} for p, m in self.errors]
        return body


@dataclass
class EidoImported:
    incident: Incident
    created: bool
    notes_added: int


def eido_idempotency_key(eido_id: str) -> str:
    # Incident.idempotency_key holds 64 characters: a digest of the EIDO id fits, and
    # can never collide with the console's uuid4 hex keys (those are 32 long).
    return hashlib.sha256(f"eido:{eido_id}".encode()).hexdigest()


def _own_incident_id(eido_id: str, schema: str) -> int | None:
    match = re.fullmatch(rf"urn:siaga112:{re.escape(schema)}:incident:(\d+)", eido_id)
    return int(match.group(1)) if match else None


def _category(document: dict[str, Any]) -> Category:
    component = document.get("incidentComponent") or {}
    active = Category.objects.filter(active=True)
    code = str(component.get("incidentTypeInternalCode") or "").strip()
    if code:
        found = active.filter(code=code).first()
        if found is not None:
            return found
    common = str(component.get("incidentTypeCommonRegistryText") or "").strip().lower()
    for local_code, common_type in COMMON_INCIDENT_TYPE.items():
        if common and common_type.lower() == common:
            found = active.filter(code=local_code).first()
            if found is not None:
                return found
    found = active.filter(code="other").first() or active.order_by("sort_order", "code").first()
    if found is None:
        raise OperationError(_("This Pemda has no active category to file the incident under."),
                             field="$.incidentComponent.incidentTypeCommonRegistryText")
    return found


def _caller(document: dict[str, Any]) -> str:
    """The first call-back number that is an Indonesian phone number; others (a foreign
    test sample's numbers, SIP URIs) are left out rather than refusing the incident.
    Only global (+62…) or national (0…) forms: a bare "8195551212" (a local number
    of another country, RFC 3966 without phone-context) is not guessed at."""
    for number, _path in reading.callback_numbers(document):
        if not number.startswith(("+", "0")):
            continue
        try:
            return normalize_phone(number)
        except InvalidPhoneNumber:
            continue
    return ""


def _description(document: dict[str, Any], notes: list[reading.EidoNote]) -> str:
    component = document.get("incidentComponent") or {}
    for candidate in (
        notes[0].text if notes else "",
        str(component.get("incidentTypeInternalText") or ""),
        str(component.get("incidentTypeCommonRegistryText") or ""),
    ):
        if candidate.strip():
            return candidate.strip()[:4000]
    return f"EIDO {document.get('issuingElementIdentification', '')}".strip()


def _notes_add(incident: Incident, notes: list[reading.EidoNote], actor: User | None) -> int:
    known = set(
        TimelineEntry.objects.filter(incident=incident, kind=NOTE_KIND)
        .values_list("data__eido_id", flat=True)
    )
    added = 0
    for note in notes:
        if note.id in known:
            continue
        timeline_add(incident=incident, kind=NOTE_KIND, actor=actor,
                     data={"eido_id": note.id, "note": note.text})
        known.add(note.id)
        added += 1
    return added


@transaction.atomic
def incident_import_eido(*, document: Any, actor: User | None, schema: str) -> EidoImported:
    """Create or update the incident `document` describes (see the module docstring)."""
    errors = eido_schema_errors(document)
    if errors:
        raise EidoInvalid([(e.path, e.message) for e in errors])
    eido_id = str(document["$id"])
    if not eido_id.strip() or len(eido_id) > 500:
        raise EidoInvalid([("$.$id", "the EIDO id must be 1 to 500 characters")])
    # Notes this Pemda wrote itself (a round trip, a referral coming back) are in
    # its timeline already.
    notes = [n for n in reading.notes(document)
             if not n.id.startswith(f"urn:siaga112:{schema}:")]
    own_id = _own_incident_id(eido_id, schema)
    if own_id is not None:
        # Our own export coming back (a round trip): update that incident.
        incident = lock_or_404(Incident, own_id, "incident")
        added = _notes_add(incident, notes, actor)
        return EidoImported(incident, False, added)
    key = eido_idempotency_key(eido_id)
    existing = Incident.objects.select_for_update().filter(idempotency_key=key).first()
    if existing is not None:
        added = _notes_add(existing, notes, actor)
        if added:
            logger.info("eido.updated", extra={"incident": existing.pk, "notes": added})
        return EidoImported(existing, False, added)

    location = reading.incident_location(document)
    data = IncidentInput(
        category=_category(document).code,
        description=_description(document, notes),
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        address=location.address if location else "",
        kecamatan=location.civic.get("A3", "")[:100] if location else "",
        kelurahan=location.civic.get("A4", "")[:100] if location else "",
        caller=_caller(document),
        idempotency_key=key,
    )
    try:
        # force: an EIDO is an incident another center already accepted; offering
        # "link to a duplicate" makes no sense to a machine sender.
        created = incident_create(data=data, actor=actor, is_test=False, force=True)
    except OperationError as exc:
        field = exc.error_field()
        path = (location.path if location and field in ("latitude", "longitude")
                else _FIELD_PATH.get(field, "$"))
        raise EidoInvalid([(path, exc.error_message())]) from None
    incident = created.incident
    if created.created:
        timeline_add(incident=incident, kind="eido_imported", actor=actor,
                     data={"eido_id": eido_id[:500],
                           "issuer": str(document.get("issuingElementIdentification", ""))[:200]})
    added = _notes_add(incident, notes, actor)
    logger.info("eido.imported", extra={"incident": incident.pk, "new": created.created})
    return EidoImported(incident, created.created, added)
