"""Reading what a person sent (a form post or a JSON body) into the arguments the
services take. Shape only: whether a value is allowed is the services' business."""

from __future__ import annotations

from typing import Any

from core.forms import as_list as as_list
from core.forms import checked as checked
from core.forms import optional_id as optional_id
from incidents.errors import OperationError
from incidents.services.incidents import IncidentInput


def incident_input(data: dict[str, Any]) -> IncidentInput:
    call_raw = str(data.get("call") or "").strip()
    if call_raw and not call_raw.isdigit():
        raise OperationError("call must be a call id", field="call")
    return IncidentInput(
        category=str(data.get("category") or ""),
        description=str(data.get("description") or ""),
        latitude=data.get("latitude"),
        longitude=data.get("longitude"),
        address=str(data.get("address") or ""),
        kecamatan=str(data.get("kecamatan") or ""),
        kelurahan=str(data.get("kelurahan") or ""),
        caller=str(data.get("caller") or ""),
        call_id=int(call_raw) if call_raw else None,
        idempotency_key=str(data.get("idempotency_key") or ""),
    )


def expected_version(data: dict[str, Any]) -> int | None:
    """The dispatch version the responder saw (optimistic locking), if sent."""
    raw = str(data.get("version", "")).strip()
    if raw and not raw.isdigit():
        raise OperationError("version must be a whole number", field="version")
    return int(raw) if raw else None


def agency_codes(data: dict[str, Any]) -> list[str]:
    """"damkar, psc119" -> ["damkar", "psc119"]."""
    return [c.strip() for c in str(data.get("agency_codes", "")).split(",") if c.strip()]
