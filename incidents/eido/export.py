"""An incident as a NENA-STA-021 EIDO document (a read: no writes here).

Identifiers are stable URNs of the Pemda's schema, so the same incident exported
twice (or by a referral and by the API) carries the same ids:
  urn:siaga112:<schema>:incident:<pk>        the EIDO itself (incident tracking id)
  urn:siaga112:<schema>:agency:psap          the Pemda's 112 call center
  urn:siaga112:<schema>:agency:<code>        an OPD agency of that Pemda
  urn:siaga112:<schema>:agent:<user id>      a person of that Pemda (or :agent:system)
  ...:call:<pk>, :callback:<pk>, :person:caller:<pk>, :dispatch:<pk>,
  :unit:<dispatch pk>, :location:incident:<pk>, :location:aml:<call pk>, :note:<pk>
Each component carries its update time and its owning agency; what the user may
not see (another agency's dispatches for a responder, caller numbers for roles
without them) is left out, not blanked."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from accounts.models import Role, User
from core.observability import scrub_text
from incidents import policies
from incidents.models import Call, DispatchStatus, Incident, IncidentStatus, TimelineEntry
from tenants.models import Tenant

EIDO_VERSION = "1.0"
CONTEXT = {"@vocab": "./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld"}

# Local category code -> the common incident type (the EIDO Incident Type registry
# names the kind; the local code and text travel alongside).
COMMON_INCIDENT_TYPE = {
    "medical": "Medical",
    "fire": "Fire",
    "traffic_accident": "Traffic",
    "natural_disaster": "Disaster",
    "crime": "Police",
    "public_order": "Police",
    "rescue": "Rescue",
    "violence_women_children": "Police",
    "social": "Social",
    "infrastructure": "Utility",
    "other": "Other",
}
COMMON_INCIDENT_STATUS = {
    IncidentStatus.OPEN: "Created",
    IncidentStatus.DISPATCHED: "Dispatched",
    IncidentStatus.RESOLVED: "Resolved",
    IncidentStatus.CLOSED: "Closed",
}
UNIT_STATUS = {
    DispatchStatus.PENDING: "Dispatched",
    DispatchStatus.ACKNOWLEDGED: "Acknowledged",
    DispatchStatus.DEPARTED: "Enroute",
    DispatchStatus.ARRIVED: "OnScene",
    DispatchStatus.RESOLVED: "Available",
    DispatchStatus.CANCELLED: "Cancelled",
}
AGENCY_TYPE = {
    "health": "ems", "hospital": "ems", "clinic": "ems", "fire": "fire", "rescue": "fire",
    "disaster": "fire", "police": "police", "public_order": "police",
}
AGENT_ROLE = {
    Role.CALL_TAKER: "Call Taking",
    Role.SUPERVISOR: "Supervisor",
    Role.OPD_RESPONDER: "Responder",
    Role.PEMDA_ADMIN: "Administrator",
    Role.VIEWER: "Viewer",
}
# Timeline data fields that may travel in a note (never a caller number).
NOTE_FIELDS = ("from", "to", "to_name", "agency", "agency_name", "outcome", "note", "reason",
               "category", "priority")


class EidoIds:
    def __init__(self, schema: str) -> None:
        self.prefix = f"urn:siaga112:{schema}"

    def __call__(self, kind: str, key: object) -> str:
        return f"{self.prefix}:{kind}:{key}"

    @property
    def psap(self) -> str:
        return f"{self.prefix}:agency:psap"


def incident_eido_id(schema: str, incident_id: int) -> str:
    return EidoIds(schema)("incident", incident_id)


def _ts(value: datetime) -> str:
    return value.isoformat()


def _ref(target: str) -> dict[str, str]:
    return {"$ref": target}


def _prologue(component_id: str, updated: datetime, agency: str,
              agent: str | None = None) -> dict[str, Any]:
    prologue: dict[str, Any] = {
        "$id": component_id,
        "lastUpdateTimeStamp": _ts(updated),
        "updatedByAgencyReference": _ref(agency),
    }
    if agent:
        prologue["updatedByAgentReference"] = _ref(agent)
    return prologue


def pidf_point(*, entity: str, latitude: float, longitude: float,
               radius_m: float | None = None, method: str = "Manual",
               civic: dict[str, str] | None = None) -> str:
    """A minimal PIDF-LO (RFC 4119/5491): a GML point (or circle, for an AML fix
    with its uncertainty) in EPSG:4326, and a civic address when known."""
    if radius_m is not None:
        shape = (
            '<gs:Circle xmlns:gs="http://www.opengis.net/pidflo/1.0" '
            'srsName="urn:ogc:def:crs:EPSG::4326">'
            f"<gml:pos>{latitude:.6f} {longitude:.6f}</gml:pos>"
            f'<gs:radius uom="urn:ogc:def:uom:EPSG::9001">{radius_m:.0f}</gs:radius>'
            "</gs:Circle>"
        )
    else:
        shape = (
            '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326">'
            f"<gml:pos>{latitude:.6f} {longitude:.6f}</gml:pos></gml:Point>"
        )
    return _pidf(entity, shape + _civic_xml(civic), method)


def pidf_civic(*, entity: str, civic: dict[str, str]) -> str:
    return _pidf(entity, _civic_xml(civic), "Manual")


def _civic_xml(civic: dict[str, str] | None) -> str:
    if not civic:
        return ""
    inner = "".join(f"<{tag}>{escape(value)}</{tag}>" for tag, value in civic.items() if value)
    namespace = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
    return f'<civicAddress xmlns="{namespace}">{inner}</civicAddress>'


def _pidf(entity: str, location: str, method: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
        'xmlns:gml="http://www.opengis.net/gml" '
        'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
        f'entity="{escape(entity)}"><dm:device id="loc">'
        f"<gp:geopriv><gp:location-info>{location}</gp:location-info>"
        f"<gp:method>{escape(method)}</gp:method></gp:geopriv></dm:device></presence>"
    )


def _note_text(entry: TimelineEntry) -> str:
    data = entry.data if isinstance(entry.data, dict) else {}
    details = ", ".join(f"{k}: {data[k]}" for k in NOTE_FIELDS if data.get(k) not in (None, ""))
    text = f"{entry.kind} ({entry.actor_name})" + (f" - {details}" if details else "")
    return escape(text)


def incident_eido(*, user: Any, incident: Incident, schema: str,
                  for_referral: bool = False) -> dict[str, Any]:
    """The EIDO document of `incident` as `user` may see it. `incident` must come
    from policies.access_incident (or an equivalent visibility check).

    `for_referral`: the copy another Pemda gets (referrals/): no caller number, no
    call-back or person component, phone numbers masked in the notes."""
    ids = EidoIds(schema)
    tenant = Tenant.objects.select_related("region__parent").filter(schema_name=schema).first()
    region = tenant.region if tenant is not None else None
    psap_name = f"Call Center 112 {region.short_name}" if region is not None else "Call Center 112"
    with_numbers = policies.sees_caller_number(user) and not for_referral
    dispatches = list(
        policies.visible_dispatches(user).filter(incident=incident)
        .select_related("agency").order_by("dispatched_at", "id")
    )
    timeline = list(policies.visible_timeline(user, incident).order_by("at", "id"))
    calls = list(Call.objects.filter(incident=incident).order_by("ringing_at", "id"))
    user_ids = {e.actor_id for e in timeline if e.actor_id} | {
        d.dispatched_by_id for d in dispatches if d.dispatched_by_id
    } | {c.operator_id for c in calls if c.operator_id}
    if incident.created_by_id:
        user_ids.add(incident.created_by_id)
    people = {
        u.pk: u for u in User.objects.filter(pk__in=user_ids)
        .select_related("agency_membership__agency")
    }
    incident_ref = ids("incident", incident.pk)
    updated = max([incident.created_at, *(e.at for e in timeline)])

    def agent_id(user_id: int | None) -> str:
        return ids("agent", user_id) if user_id else ids("agent", "system")

    # --- agencies: the call center and every OPD agency in a visible dispatch ------
    agencies = [{
        **_prologue(ids.psap, incident.created_at, ids.psap),
        "agencyRoleDescriptionRegistryText": ["CallReceiving", "Dispatching"],
        "agencyType": ["psap"],
        "incidentOwningAgencyIndicator": True,
        "agencyJcard": _jcard(psap_name),
    }]
    seen_agencies = set()
    for dispatch in dispatches:
        agency = dispatch.agency
        if agency.pk in seen_agencies:
            continue
        seen_agencies.add(agency.pk)
        agencies.append({
            **_prologue(ids("agency", agency.code), dispatch.dispatched_at, ids.psap),
            "agencyRoleDescriptionRegistryText": ["Responding"],
            "agencyType": [AGENCY_TYPE.get(agency.kind, "other")],
            "incidentOwningAgencyIndicator": False,
            "agencyJcard": _jcard(agency.name),
        })

    # --- agents: everyone who acted on the incident ----------------------------------
    agents = [{
        **_prologue(agent_id(None), incident.created_at, ids.psap),
        "agentRoleRegistryText": ["Automaton"],
        "agencyReference": _ref(ids.psap),
    }]
    for person in people.values():
        membership = getattr(person, "agency_membership", None)
        agency_ref = (
            ids("agency", membership.agency.code)
            if person.role == Role.OPD_RESPONDER and membership is not None
            else ids.psap
        )
        if agency_ref != ids.psap and agency_ref not in {a["$id"] for a in agencies}:
            # A responder of an agency this user may not see: keep the agency out.
            agency_ref = ids.psap
        agents.append({
            **_prologue(agent_id(person.pk), incident.created_at, agency_ref),
            "agentRoleRegistryText": [AGENT_ROLE.get(Role(person.role), "Other")
                                      if person.role in Role.values else "Other"],
            "agencyReference": _ref(agency_ref),
        })

    # --- locations -------------------------------------------------------------------
    civic = {
        "country": "ID",
        "A1": region.parent.name if region is not None and region.parent else "",
        "A2": region.name if region is not None else "",
        "A3": incident.kecamatan,
        "A4": incident.kelurahan,
        "RD": incident.address,
    }
    locations: list[dict[str, Any]] = []
    incident_location = ids("location:incident", incident.pk)
    if incident.latitude is not None and incident.longitude is not None:
        by_value = pidf_point(entity=incident_ref, latitude=incident.latitude,
                              longitude=incident.longitude, civic=civic)
    else:
        by_value = pidf_civic(entity=incident_ref, civic=civic)
    locations.append({
        **_prologue(incident_location, incident.created_at, ids.psap,
                    agent_id(incident.created_by_id)),
        "locationTypeDescriptionRegistryText": "CurrentIncident",
        "locationByValue": by_value,
        "locationDescriptionText": incident.address or "",
        "localIdentifier": [incident.reference],
    })

    # --- calls (with the AML fix as the caller's location) ---------------------------
    call_components = []
    callbacks = []
    persons = []
    for call in calls:
        call_id = ids("call", call.pk)
        call_locations = []
        if call.aml_lat is not None and call.aml_lng is not None:
            aml_id = ids("location:aml", call.pk)
            call_locations.append(_ref(aml_id))
            locations.append({
                **_prologue(aml_id, call.aml_time or call.ringing_at, ids.psap),
                "locationTypeDescriptionRegistryText": "Caller",
                "locationByValue": pidf_point(
                    entity=call_id, latitude=call.aml_lat, longitude=call.aml_lng,
                    radius_m=call.aml_radius_m, method=f"AML-{call.aml_source or 'unknown'}",
                ),
                "locationDescriptionText": "Advanced Mobile Location (ETSI TS 103 625)",
            })
        component: dict[str, Any] = {
            **_prologue(call_id, call.ended_at or call.answered_at or call.ringing_at, ids.psap,
                        agent_id(call.operator_id) if call.operator_id else None),
            "standardPrimaryCallType": "emergency" if not call.is_test else "test",
            "localCallType": call.call_type or "",
            "direction": "incoming",
            "callStartTimestamp": _ts(call.ringing_at),
            "callStateRegistryText": {"ringing": "callBegin", "answered": "callAnswered"}.get(
                call.state, "callEnd"),
            "queueIdentifier": call.trunk or "112",
        }
        if call.answered_at:
            component["answerDate"] = _ts(call.answered_at)
        if call.operator_id:
            component["agentReference"] = [_ref(agent_id(call.operator_id))]
        if call_locations:
            component["locationReference"] = call_locations
        if with_numbers and call.caller:
            callback_id = ids("callback", call.pk)
            person_id = ids("person:caller", call.pk)
            callbacks.append({
                **_prologue(callback_id, call.ringing_at, ids.psap),
                "callBackInformationUri": [f"tel:{call.caller}"],
            })
            persons.append({
                **_prologue(person_id, call.ringing_at, ids.psap),
                "personIncidentRoleRegistryText": ["Caller"],
                "callIdentifier": [call_id],
                "callBackReference": _ref(callback_id),
            })
            component["callBackReference"] = _ref(callback_id)
            component["personReference"] = [_ref(person_id)]
        call_components.append(component)

    # --- notes: the visible timeline --------------------------------------------------
    notes = []
    for entry in timeline:
        note_agency = (
            ids("agency", entry.dispatch.agency.code)
            if entry.dispatch_id and entry.dispatch is not None
            and entry.dispatch.agency_id in seen_agencies and entry.actor_id
            and getattr(people.get(entry.actor_id), "role", "") == Role.OPD_RESPONDER
            else ids.psap
        )
        note: dict[str, Any] = {
            **_prologue(ids("note", entry.pk), entry.at, note_agency, agent_id(entry.actor_id)),
            "notesActionComments": _masked(_note_text(entry), for_referral),
            "agentReference": _ref(agent_id(entry.actor_id)),
        }
        notes.append(note)

    # --- dispatches and the units (teams) they sent -----------------------------------
    dispatch_components = []
    units = []
    for dispatch in dispatches:
        agency_ref = ids("agency", dispatch.agency.code)
        dispatch_updated = max(t for t in (
            dispatch.dispatched_at, dispatch.acknowledged_at, dispatch.departed_at,
            dispatch.arrived_at, dispatch.resolved_at, dispatch.cancelled_at) if t is not None)
        unit_id = ids("unit", dispatch.pk)
        dispatch_notes = [_ref(ids("note", e.pk)) for e in timeline if e.dispatch_id == dispatch.pk]
        dispatch_component: dict[str, Any] = {
            **_prologue(ids("dispatch", dispatch.pk), dispatch.dispatched_at, ids.psap,
                        agent_id(dispatch.dispatched_by_id)),
            "agencyReference": _ref(agency_ref),
            "agentReference": _ref(agent_id(dispatch.dispatched_by_id)),
            "emergencyResourceReference": [_ref(unit_id)],
        }
        if dispatch_notes:
            dispatch_component["notesReference"] = dispatch_notes
        dispatch_components.append(dispatch_component)
        unit: dict[str, Any] = {
            **_prologue(unit_id, dispatch_updated, agency_ref),
            "emergencyResourceTypeCommonRegistryText": "Team",
            "emergencyResourceTypeInternalText": dispatch.agency.kind,
            "emergencyResourceName": dispatch.agency.name,
            "resourceAttributeRegistryText": [],
            "primaryUnitStatusRegistryText": UNIT_STATUS[DispatchStatus(dispatch.status)],
            "secondaryUnitStatusRegistryText": [],
            "unitStatusInternal": [dispatch.status] + ([dispatch.outcome] if dispatch.outcome
                                                       else []),
            "agentReference": [_ref(agent_id(dispatch.dispatched_by_id))],
            "unitDestinationReference": _ref(incident_location),
            "activeOnIncidentId": incident_ref,
        }
        units.append(unit)

    category = incident.category
    incident_component: dict[str, Any] = {
        **_prologue(ids("incident:information", incident.pk), updated, ids.psap),
        "incidentTypeCommonRegistryText": COMMON_INCIDENT_TYPE.get(category.code, "Other"),
        "incidentTypeInternalCode": category.code,
        "incidentTypeInternalText": category.name,
        "incidentStatusInternalText": [incident.status],
        "incidentStatusCommonRegistryText": [
            COMMON_INCIDENT_STATUS[IncidentStatus(incident.status)]],
        "internalIncidentId": incident.reference,
        "incidentPriorityInternalText": incident.get_priority_display(),
        "incidentCommonPriorityNumber": incident.priority,
        "locationReference": [_ref(loc["$id"]) for loc in locations],
        "agentReference": [_ref(a["$id"]) for a in agents[1:]],
        "notesReference": [_ref(ids("note:description", incident.pk))] + [
            _ref(n["$id"]) for n in notes],
    }
    # The description is the first note: it is what the caller reported.
    notes.insert(0, {
        **_prologue(ids("note:description", incident.pk), incident.created_at, ids.psap,
                    agent_id(incident.created_by_id)),
        "notesActionComments": _masked(escape(incident.description), for_referral),
        "agentReference": _ref(agent_id(incident.created_by_id)),
    })
    if with_numbers:
        incident_component["personReference"] = [_ref(p["$id"]) for p in persons]

    document: dict[str, Any] = {
        **_prologue(incident_ref, updated, ids.psap),
        "eidoVersion": EIDO_VERSION,
        "issuingElementIdentification": f"{ids.prefix}:eido-exporter",
        "incidentComponent": incident_component,
        "agencyComponent": agencies,
        "agentComponent": agents,
        "locationComponent": locations,
        "notesComponent": notes,
        "@context": CONTEXT,
    }
    for key, rows in (("callComponent", call_components), ("callbackComponent", callbacks),
                      ("personComponent", persons), ("dispatchComponent", dispatch_components),
                      ("emergencyResourceComponent", units)):
        if rows:
            document[key] = rows
    return document


def _masked(text: str, mask: bool) -> str:
    return scrub_text(text) if mask else text


def _jcard(name: str) -> str:
    """The agency's contact as a jCard (RFC 7095), serialised as the schema asks."""
    return json.dumps(["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]],
                      ensure_ascii=False)
