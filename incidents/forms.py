"""Reading what a person sent (a form post or a JSON body) into the arguments the
services take. Shape only: whether a value is allowed is the services' business."""

from __future__ import annotations

from typing import Any

from incidents.errors import OperationError
from incidents.services.incidents import IncidentInput

TRUE = ("1", "on", "true", "True")


def checked(data: dict[str, Any], name: str, *, default: bool = False) -> bool:
    """A checkbox or a JSON flag; `default` when the field is missing."""
    if name not in data:
        return default
    return str(data.get(name, "")) in TRUE


def optional_id(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def as_list(value: Any) -> list[Any]:
    """A multi-select: one value, several, or none."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


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
