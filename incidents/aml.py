"""Caller phone numbers and AML (Advanced Mobile Location, ETSI TS 103 625) payloads.

Pure Python on purpose: the SMS/HTTPS gateways and the call-taking views both use
this, and it must stay testable without Django settings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from core.errors import Invalid
from core.rules import PLAUSIBLE_YEARS, InvalidPhoneNumber, normalize_phone, plausible_time

Source = Literal["gnss", "wifi", "cell", "unknown"]

AML_SMS_PREFIX = 'A"ML='
# The handset may reuse a fix taken shortly before dialling; anything older is stale.
FIX_LEAD_SECONDS = 60

_SMS_SOURCES: dict[str, Source] = {"G": "gnss", "W": "wifi", "C": "cell"}
_HTTPS_SOURCES: dict[str, Source] = {"gps": "gnss", "gnss": "gnss", "wifi": "wifi", "cell": "cell"}
_SMS_KNOWN = frozenset({"lt", "lg", "rd", "top", "lc", "pm", "ei", "si"})
# ASCII-only on purpose: float()/int() also take "1_000" and non-Latin digits.
_COMPACT_TIME = re.compile(r"[0-9]{14}")
_EPOCH_MS = re.compile(r"[0-9]{1,13}")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


class _OutOfRange(ValueError):
    """A well-formed time outside PLAUSIBLE_YEARS."""


def _plausible(value: datetime) -> datetime:
    if not plausible_time(value):
        raise _OutOfRange(value)
    return value


class AmlError(Invalid, ValueError):
    """An AML payload is unusable (400); `fields` lists the offending wire field names.
    Still a ValueError for the parsers' callers."""

    code = "aml_invalid"

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message, field=",".join(fields))
        self.fields = fields


@dataclass(frozen=True)
class AmlLocation:
    caller_number: str | None
    latitude: float
    longitude: float
    radius_m: float
    position_time: datetime
    source: Source
    confidence_pct: int | None
    imei: str | None
    imsi: str | None
    raw: str
    version: str | None = None
    # Wire fields without a dedicated attribute (mcc, mnc, ml, emergency_number, …).
    extras: dict[str, str] = field(default_factory=dict, hash=False)


def _compact_time(value: str) -> datetime:
    if not _COMPACT_TIME.fullmatch(value):
        raise ValueError(value)
    return _plausible(datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC))


def _epoch_ms_or_compact(value: str) -> datetime:
    # 14 digits is YYYYMMDDhhmmss; epoch milliseconds stay at 13 digits until 2286.
    if _COMPACT_TIME.fullmatch(value):
        return _compact_time(value)
    if not _EPOCH_MS.fullmatch(value):
        raise ValueError(value)
    return _plausible(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(value)))


_BOUNDS = ((-90.0, 90.0), (-180.0, 180.0), (0.0, math.inf))  # latitude, longitude, radius


def _mandatory(
    fields: Mapping[str, str],
    keys: tuple[str, str, str, str],
    when: tuple[str, Callable[[str], datetime]],
) -> tuple[float, float, float, datetime]:
    """Check lat/lon/radius/time together so a single error names every problem."""
    missing = [key for key in keys if not fields.get(key)]
    problems: list[str] = [f"AML message is missing: {', '.join(missing)}"] if missing else []
    bad: list[str] = []
    numbers: list[float] = []
    for key, (low, high) in zip(keys[:3], _BOUNDS, strict=True):
        if key in missing:
            continue
        value = float(fields[key]) if _NUMBER.fullmatch(fields[key]) else math.nan
        if not math.isfinite(value):
            error = "is not a number"
        elif not low <= value <= high:
            error = f"is out of range [{low:g}, {high:g}]"
        else:
            numbers.append(value)
            continue
        problems.append(f"AML field {key} {error}: {fields[key]!r}")
        bad.append(key)
    describe, parse = when
    time_key, position_time = keys[3], None
    try:
        position_time = parse(fields[time_key]) if time_key not in missing else None
    except _OutOfRange:
        low, high = PLAUSIBLE_YEARS
        problems.append(
            f"AML field {time_key} is outside the years {low}-{high}: {fields[time_key][:20]!r}"
        )
        bad.append(time_key)
    except (ValueError, OverflowError):
        problems.append(f"AML field {time_key} is not {describe}: {fields[time_key]!r}")
        bad.append(time_key)
    if problems or position_time is None:
        raise AmlError("; ".join(problems), tuple(missing + bad))
    return numbers[0], numbers[1], numbers[2], position_time


def _confidence(value: str | None) -> int | None:
    # Optional and only a hint for the dispatcher: a garbled value must not cost
    # us the position, so it degrades to "unknown" (the value survives in `raw`).
    try:
        pct = round(float(value)) if value else None
    except (ValueError, OverflowError):  # "nan" / "inf"
        return None
    return pct if pct is not None and 0 <= pct <= 100 else None


def _caller(value: str | None) -> str | None:
    # An odd originator must not drop the position; it just cannot be auto-matched.
    try:
        return normalize_phone(value) if value else None
    except InvalidPhoneNumber:
        return None


def parse_aml_sms(text: str, *, caller_number: str | None = None) -> AmlLocation:
    """Parse the SMS form; `caller_number` is the SMS originator from the gateway."""
    body = text.strip()
    if not body.startswith(AML_SMS_PREFIX):
        # "sms": the whole text is wrong, and that is the wire field the gateway sends it in.
        raise AmlError(
            f"not an AML message (expected it to start with {AML_SMS_PREFIX}): {text[:40]!r}",
            ("sms",),
        )
    version, _, rest = body[len(AML_SMS_PREFIX) :].partition(";")
    fields: dict[str, str] = {}
    for segment in filter(None, rest.split(";")):
        key, _, value = segment.partition("=")
        key = key.strip()
        if key in fields:
            # Two different positions in one message: refuse rather than guess.
            raise AmlError(f"AML field {key} appears more than once", (key,))
        fields[key] = value.strip()
    lat, lon, rad, when = _mandatory(
        fields, ("lt", "lg", "rd", "top"), ("a YYYYMMDDhhmmss UTC time", _compact_time)
    )
    # ml (declared length) is deliberately not checked: the published ETSI examples
    # disagree with their own length, so a mismatch proves nothing about the fix.
    extras = {k: v for k, v in fields.items() if k not in _SMS_KNOWN}
    caller = _caller(caller_number)
    if caller_number and caller is None:
        extras["caller_number"] = caller_number
    return AmlLocation(
        caller_number=caller,
        latitude=lat,
        longitude=lon,
        radius_m=rad,
        position_time=when,
        source=_SMS_SOURCES.get(fields.get("pm", "").upper(), "unknown"),
        confidence_pct=_confidence(fields.get("lc")),
        imei=fields.get("ei") or None,
        imsi=fields.get("si") or None,
        raw=text,
        version=version.strip() or None,
        extras=extras,
    )


def parse_aml_https(data: Mapping[str, object]) -> AmlLocation:
    """Parse the HTTPS form (form fields or JSON, as sent by Android ELS)."""
    # Form posts give strings, JSON bodies give numbers; treat both alike.
    fields = {str(k): "" if v is None else str(v).strip() for k, v in data.items()}
    lat, lon, rad, when = _mandatory(
        fields,
        ("location_latitude", "location_longitude", "location_accuracy", "location_time"),
        ("epoch milliseconds or a YYYYMMDDhhmmss UTC time", _epoch_ms_or_compact),
    )
    known = {
        "v", "device_number", "device_imei", "device_imsi", "location_source",
        "location_latitude", "location_longitude", "location_accuracy", "location_time",
        "location_certainty",
    }  # fmt: skip
    extras = {k: v for k, v in fields.items() if k not in known}
    caller = _caller(fields.get("device_number"))
    if fields.get("device_number") and caller is None:
        extras["device_number"] = fields["device_number"]
    return AmlLocation(
        caller_number=caller,
        latitude=lat,
        longitude=lon,
        radius_m=rad,
        position_time=when,
        source=_HTTPS_SOURCES.get(fields.get("location_source", "").lower(), "unknown"),
        confidence_pct=_confidence(fields.get("location_certainty")),
        imei=fields.get("device_imei") or None,
        imsi=fields.get("device_imsi") or None,
        raw=json.dumps(dict(data), ensure_ascii=False, sort_keys=True, default=str),
        version=fields.get("v") or None,
        extras=extras,
    )


def matches_call(
    location: AmlLocation,
    *,
    caller_number: str,
    call_started_at: datetime,
    window_seconds: int = 600,
) -> bool:
    """True if `location` belongs to the call: same number, fix time plausible for it."""
    if call_started_at.tzinfo is None:
        raise ValueError("call_started_at must be timezone-aware")
    if window_seconds < 0:
        raise ValueError(f"window_seconds must not be negative: {window_seconds}")
    if location.caller_number is None:
        return False
    try:
        number = normalize_phone(caller_number)
    except InvalidPhoneNumber:
        return False
    earliest = call_started_at - timedelta(seconds=FIX_LEAD_SECONDS)
    latest = call_started_at + timedelta(seconds=window_seconds)
    return number == location.caller_number and earliest <= location.position_time <= latest
