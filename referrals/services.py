"""Writes of the cross-Pemda exchange. Each side only ever writes rows in the
public schema naming itself as the author; the other side reads them.

Errors are ReferralError (a django ValidationError with a message a person can
act on); ReferralNotFound is the same answer for "missing" and "not yours"."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from core.errors import DomainError, NotFound
from core.observability import PERSONAL_KEYS, scrub_text
from core.rules import INDONESIA_LAT, INDONESIA_LNG
from referrals.models import Referral, ReferralStatus, ReferralUpdate
from tenants.db import current_schema
from tenants.models import Tenant
from tenants.selectors import OPERATING_STATUSES, pemda_tenants

logger = logging.getLogger(__name__)

# A referral may go to a Pemda that takes real or trial calls.
RECEIVING_STATUSES = OPERATING_STATUSES
# Keys that carry caller data whatever their value (the incident's address is
# where help is needed, not personal data, so it is allowed).
CALLER_KEYS = frozenset(PERSONAL_KEYS - {"address"}) | {
    "caller", "caller_phone", "reporter", "reporter_phone", "nik", "ktp",
}
MAX_PAYLOAD_BYTES = 16_000
# The NENA EIDO copy of the incident that travels with a referral (payload["eido"]).
MAX_EIDO_BYTES = 256_000
# EIDO components that carry who called: never sent to another Pemda.
EIDO_CALLER_COMPONENTS = ("callbackComponent", "personComponent")
MAX_TEXT = 2000

_RANK = {
    ReferralStatus.SENT: 0,
    ReferralStatus.ACCEPTED: 1,
    ReferralStatus.IN_PROGRESS: 2,
    ReferralStatus.RESOLVED: 3,
    ReferralStatus.CLOSED: 4,
}
_FINAL = {ReferralStatus.DECLINED, ReferralStatus.CLOSED}


class ReferralError(ValidationError, DomainError):
    """Bad input or a step out of order; the message says what to do. Still a
    django ValidationError (`messages`, `code`) for the callers that read it so."""


class ReferralNotFound(ReferralError, NotFound):
    """No such referral for this Pemda (missing and forbidden look the same)."""


def _not_found() -> ReferralNotFound:
    return ReferralNotFound(_("Referral not found."), code="not_found")


def access_referral(schema: str, referral_id: int) -> Referral:
    """The referral if `schema` is one of its two parties; else ReferralNotFound
    (the same for missing and forbidden)."""
    referral = Referral.objects.filter(pk=referral_id).first()
    if referral is None or referral.party(schema) is None:
        raise _not_found()
    return referral


def _pemda(schema: str) -> Tenant | None:
    return pemda_tenants().filter(schema_name=schema).first()


def _acting_as(schema: str) -> None:
    """From a tenant's connection, a Pemda can only speak for itself."""
    here = current_schema()
    if here != get_public_schema_name() and here != schema:
        raise ReferralError(_("A Pemda can only act on referrals in its own name."),
                            code="impersonation")


def _contains_phone(text: str) -> bool:
    return scrub_text(text) != text


def _check_no_caller_data(value: Any, path: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if str(key).lower() in CALLER_KEYS:
                raise ReferralError(
                    _("Remove %(field)s from the referral: caller data is not shared with "
                      "another Pemda.") % {"field": f"{path}{key}"},
                    code="caller_data",
                )
            _check_no_caller_data(inner, f"{path}{key}.")
    elif isinstance(value, list):
        for item in value:
            _check_no_caller_data(item, path)
    elif isinstance(value, str) and _contains_phone(value):
        raise ReferralError(
            _("Remove the phone number from %(field)s: caller data is not shared with "
              "another Pemda.") % {"field": path.rstrip(".") or "the referral"},
            code="caller_data",
        )


def _check_eido(document: Any) -> None:
    """The EIDO document is structured data full of timestamps and coordinates, which
    the free-text phone-number guard would misread: it is checked by structure
    instead (no caller components, no tel: URI anywhere, no phone number in a note)."""
    if not isinstance(document, dict):
        raise ReferralError(_("The referral's EIDO document must be a JSON object."),
                            code="eido")
    raw = json.dumps(document, cls=DjangoJSONEncoder)
    if len(raw) > MAX_EIDO_BYTES:
        raise ReferralError(_("The referral's EIDO document is too long."), code="eido")
    if any(document.get(key) for key in EIDO_CALLER_COMPONENTS) or "tel:" in raw.lower():
        raise ReferralError(_("Remove the caller's number from the EIDO document: caller data "
                              "is not shared with another Pemda."), code="caller_data")
    for note in document.get("notesComponent") or []:
        if isinstance(note, dict) and _contains_phone(str(note.get("notesActionComments", ""))):
            raise ReferralError(_("Remove the phone number from the EIDO notes: caller data is "
                                  "not shared with another Pemda."), code="caller_data")


def _validate_payload(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ReferralError(_("The referral details must be a JSON object."), code="payload")
    if "eido" in payload:
        _check_eido(payload["eido"])
        rest = {k: v for k, v in payload.items() if k != "eido"}
        _validate_payload(rest)
        return payload
    try:
        raw = json.dumps(payload, cls=DjangoJSONEncoder)
    except (TypeError, ValueError):
        raise ReferralError(_("The referral details cannot be written as JSON."),
                            code="payload") from None
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ReferralError(_("The referral details are too long."), code="payload")
    _check_no_caller_data(payload, "")
    category = payload.get("category", payload.get("category_code"))
    if not isinstance(category, str) or not category.strip():
        raise ReferralError(_("A referral needs the incident's category."), code="category")
    for key, (low, high) in (("lat", INDONESIA_LAT), ("lng", INDONESIA_LNG)):
        if key not in payload or payload[key] in (None, ""):
            continue
        try:
            number = float(payload[key])
        except (TypeError, ValueError):
            raise ReferralError(_("%(field)s must be a number.") % {"field": key},
                                code=key) from None
        if not low <= number <= high:
            raise ReferralError(
                _("%(field)s %(value)s lies outside Indonesia.") % {"field": key, "value": number},
                code=key,
            )
    description = payload.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_TEXT:
        raise ReferralError(_("The description must be text of at most 2000 characters."),
                            code="description")
    return payload


def _validate_note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ReferralError(_("Write a note for the other Pemda."), code="note")
    if len(note) > MAX_TEXT:
        raise ReferralError(_("The note is too long (2000 characters at most)."), code="note")
    if _contains_phone(note):
        raise ReferralError(
            _("Remove the phone number from the note: caller data is not shared with "
              "another Pemda."),
            code="caller_data",
        )
    return note


def _locked(referral_id: int, schema: str) -> Referral:
    referral = Referral.objects.select_for_update().filter(pk=referral_id).first()
    if referral is None or referral.party(schema) is None:
        raise _not_found()
    return referral


def _log(event: str, referral: Referral, **extra: Any) -> None:
    logger.info(event, extra={"referral_id": referral.pk, "from_schema": referral.from_schema,
                              "to_schema": referral.to_schema, "status": referral.status,
                              **extra})


@transaction.atomic
def referral_send(
    *,
    from_schema: str,
    to_schema: str,
    source_incident_id: int,
    payload: dict[str, Any],
    actor_name: str,
) -> Referral:
    """Refer an incident of `from_schema` to a neighbouring Pemda."""
    _acting_as(from_schema)
    if _pemda(from_schema) is None:
        raise ReferralError(_("Only a Pemda's call center can refer an incident."),
                            code="from_schema")
    if to_schema == from_schema:
        raise ReferralError(_("An incident cannot be referred to your own Pemda."),
                            code="to_schema")
    target = _pemda(to_schema)
    if target is None:
        raise ReferralError(_("The Pemda to refer to does not exist."), code="to_schema")
    if target.status not in RECEIVING_STATUSES:
        raise ReferralError(
            _("%(pemda)s does not run its 112 center yet (status: %(status)s); refer the "
              "incident to a Pemda in trial or live.")
            % {"pemda": target.name, "status": target.get_status_display()},
            code="to_schema",
        )
    if not isinstance(source_incident_id, int) or source_incident_id <= 0:
        raise ReferralError(_("The incident to refer is missing."), code="source_incident_id")
    actor_name = (actor_name or "").strip()
    if not actor_name or len(actor_name) > 150:
        raise ReferralError(_("Name the operator who refers the incident (150 characters at "
                              "most)."), code="actor_name")
    payload = _validate_payload(payload)
    now = timezone.now()
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                from_schema=from_schema, to_schema=to_schema,
                source_incident_id=source_incident_id, payload=payload,
                actor_name=actor_name, created_at=now, updated_at=now,
            )
    except IntegrityError:
        raise ReferralError(
            _("This incident is already referred to %(pemda)s and still open.")
            % {"pemda": target.name},
            code="duplicate",
        ) from None
    ReferralUpdate.objects.create(referral=referral, from_schema=from_schema,
                                  status=ReferralStatus.SENT, note="", at=now)
    _log("referral.sent", referral, source_incident_id=source_incident_id)
    return referral


@transaction.atomic
def referral_accept(*, referral_id: int, to_schema: str, local_incident_id: int) -> Referral:
    """The receiving Pemda takes the referral on, as its own incident."""
    _acting_as(to_schema)
    referral = _locked(referral_id, to_schema)
    if referral.to_schema != to_schema:
        raise ReferralError(_("Only the Pemda the incident was referred to can accept it."),
                            code="not_receiver")
    if referral.status != ReferralStatus.SENT:
        if referral.accepted_at is not None:
            raise ReferralError(_("This referral was already accepted."), code="already_accepted")
        raise ReferralError(
            _("This referral can no longer be accepted (status: %(status)s).")
            % {"status": referral.get_status_display()},
            code="status",
        )
    if not isinstance(local_incident_id, int) or local_incident_id <= 0:
        raise ReferralError(_("Accepting needs the incident created on your side."),
                            code="local_incident_id")
    now = timezone.now()
    referral.status = ReferralStatus.ACCEPTED
    referral.target_incident_id = local_incident_id
    referral.accepted_at = now
    referral.updated_at = now
    referral.save(update_fields=["status", "target_incident_id", "accepted_at", "updated_at"])
    ReferralUpdate.objects.create(referral=referral, from_schema=to_schema,
                                  status=ReferralStatus.ACCEPTED, note="", at=now)
    _log("referral.accepted", referral)
    return referral


@transaction.atomic
def referral_decline(*, referral_id: int, to_schema: str, reason: str) -> Referral:
    """The receiving Pemda turns the referral down, saying why."""
    _acting_as(to_schema)
    referral = _locked(referral_id, to_schema)
    if referral.to_schema != to_schema:
        raise ReferralError(_("Only the Pemda the incident was referred to can decline it."),
                            code="not_receiver")
    if referral.status != ReferralStatus.SENT:
        raise ReferralError(
            _("This referral can no longer be declined (status: %(status)s).")
            % {"status": referral.get_status_display()},
            code="status",
        )
    note = _validate_note(reason, required=True)
    now = timezone.now()
    referral.status = ReferralStatus.DECLINED
    referral.updated_at = now
    referral.save(update_fields=["status", "updated_at"])
    ReferralUpdate.objects.create(referral=referral, from_schema=to_schema,
                                  status=ReferralStatus.DECLINED, note=note, at=now)
    _log("referral.declined", referral)
    return referral


@transaction.atomic
def referral_post_update(
    *, referral_id: int, from_schema: str, status: str, note: str
) -> ReferralUpdate:
    """Either side reports progress (in_progress, resolved, closed) or adds a note
    (the current status again, with a note). Statuses only move forward;
    accepting and declining have their own functions."""
    _acting_as(from_schema)
    referral = _locked(referral_id, from_schema)
    current = ReferralStatus(referral.status)
    if status not in ReferralStatus.values:
        raise ReferralError(
            _("Unknown referral status %(status)s: use in_progress, resolved or closed.")
            % {"status": status},
            code="status",
        )
    new = ReferralStatus(status)
    if current in _FINAL:
        raise ReferralError(
            _("This referral is %(status)s: no more updates.")
            % {"status": current.label},
            code="final",
        )
    if new != current:
        if new in (ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.DECLINED):
            raise ReferralError(
                _("Use accept or decline to answer a referral, not an update."),
                code="status",
            )
        if new != ReferralStatus.CLOSED and current == ReferralStatus.SENT:
            raise ReferralError(
                _("The referral is not accepted yet: it cannot be %(status)s.")
                % {"status": new.label},
                code="not_accepted",
            )
        if _RANK[new] < _RANK[current]:
            raise ReferralError(
                _("A referral cannot go back from %(current)s to %(new)s.")
                % {"current": current.label, "new": new.label},
                code="backwards",
            )
    clean_note = _validate_note(note, required=new == current)
    now = timezone.now()
    if new != current:
        referral.status = new
    referral.updated_at = now
    referral.save(update_fields=["status", "updated_at"])
    update = ReferralUpdate.objects.create(referral=referral, from_schema=from_schema,
                                           status=new, note=clean_note, at=now)
    _log("referral.updated", referral, by=from_schema)
    return update
