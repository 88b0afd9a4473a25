"""Cross-Pemda referral from the call center's side: refer an incident to a
neighbouring Pemda, accept or decline one a neighbour sent."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from incidents.eido import reading
from incidents.eido.export import incident_eido
from incidents.errors import OperationError
from incidents.models import Category, Incident
from incidents.services.common import actor_label, lock_incident_not_closed, timeline_add
from incidents.services.incidents import IncidentInput, incident_create
from referrals.selectors import inbox_for, neighbour_tenants
from referrals.services import referral_accept, referral_decline, referral_send
from tenants.db import current_schema
from tenants.models import Tenant

logger = logging.getLogger(__name__)


@transaction.atomic
def incident_refer(*, incident_id: int, to_schema: str, actor: User) -> Incident:
    """Send an open incident to a neighbouring Pemda; its timeline says so."""
    incident = lock_incident_not_closed(incident_id)
    if incident.referral_out_id is not None:
        raise OperationError(
            _("%(ref)s was already referred.") % {"ref": incident.reference}, status=409
        )
    schema = current_schema()
    neighbours = {t.schema_name: t for t in neighbour_tenants(schema)}
    target = neighbours.get(to_schema)
    if target is None:
        raise OperationError(_("Choose a neighbouring Pemda on Siaga112."), field="to_schema")

    # A ReferralError (a DomainError) from the exchange rolls this back and is
    # answered by core.http with its own status and message.
    referral = referral_send(
        from_schema=schema,
        to_schema=to_schema,
        source_incident_id=incident.pk,
        payload={
            # No reference number: digit runs read as phone numbers to the
            # exchange's caller-data guard; the receiver sees the source id.
            "category": incident.category.code,
            "lat": incident.latitude,
            "lng": incident.longitude,
            "address": incident.address,
            "kecamatan": incident.kecamatan,
            "kelurahan": incident.kelurahan,
            "description": incident.description,
            "priority": incident.priority,
            # The same incident as a NENA EIDO document (no caller data): what a
            # receiving system that speaks EIDO reads; the fields above stay for
            # the console.
            "eido": incident_eido(user=actor, incident=incident, schema=schema,
                                  for_referral=True),
        },
        actor_name=actor_label(actor),
    )
    incident.referral_out_id = referral.pk
    incident.save(update_fields=["referral_out_id"])
    timeline_add(
        incident=incident,
        kind="referred",
        actor=actor,
        data={"to": to_schema, "to_name": str(target), "referral": referral.pk},
    )
    logger.info("incident.referred", extra={"incident": incident.pk, "to": to_schema})
    return incident


@transaction.atomic
def referral_incident_accept(*, referral_id: int, actor: User, is_test: bool) -> Incident:
    """Accept a neighbour's referral: a local incident with the referral in its timeline."""
    schema = current_schema()
    referral = inbox_for(schema).filter(pk=referral_id).first()
    if referral is None:
        raise OperationError(_("No such referral for this Pemda."), status=404)
    if referral.target_incident_id is not None:
        raise OperationError(_("This referral was already accepted."), status=409)
    payload: dict[str, Any] = dict(referral.payload or {})
    code = str(payload.get("category") or "other")
    category = Category.objects.filter(code=code).first() or Category.objects.get(code="other")
    lat, lng = payload.get("lat"), payload.get("lng")
    result = incident_create(
        data=IncidentInput(
            category=category.code,
            description=str(payload.get("description") or "(rujukan)"),
            latitude=lat,
            longitude=lng,
            address=str(payload.get("address") or "(lihat rujukan)"),
            kecamatan=str(payload.get("kecamatan") or ""),
            kelurahan=str(payload.get("kelurahan") or ""),
            idempotency_key=f"referral-{referral_id}",
        ),
        actor=actor,
        is_test=is_test,
        force=True,
    )
    incident = result.incident
    incident.referral_in_id = referral_id
    incident.save(update_fields=["referral_in_id"])
    eido = payload.get("eido") if isinstance(payload.get("eido"), dict) else None
    timeline_add(
        incident=incident,
        kind="referral_received",
        actor=actor,
        data={
            "from": referral.from_schema,
            # The timeline shows people the Pemda's name, never its schema.
            "from_name": Tenant.objects.filter(schema_name=referral.from_schema)
            .values_list("name", flat=True).first() or "",
            "reference": payload.get("reference", ""),
            "referral": referral_id,
            **({"eido_id": str(eido.get("$id", ""))[:500]} if eido else {}),
        },
    )
    if eido:
        # The sender's timeline travels as EIDO notes: the receiving operators see
        # what was done before the handover.
        for note in reading.notes(eido):
            timeline_add(incident=incident, kind="eido_note", actor=actor,
                         data={"eido_id": note.id, "note": note.text})

    referral_accept(referral_id=referral_id, to_schema=schema, local_incident_id=incident.pk)
    return incident


@transaction.atomic
def referral_incident_decline(*, referral_id: int, actor: User, reason: str) -> None:
    """Decline a neighbour's referral (with a reason the sender sees)."""
    schema = current_schema()
    if not inbox_for(schema).filter(pk=referral_id).exists():
        raise OperationError(_("No such referral for this Pemda."), status=404)
    referral_decline(referral_id=referral_id, to_schema=schema, reason=reason)
    logger.info("referral.declined_here", extra={"referral": referral_id, "by": actor.pk})
