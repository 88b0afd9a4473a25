"""Pure rules of Indonesian 112 operations: where Indonesia is, how far apart two
points are, when a dispatch is overdue, and what a caller's number is.

Plain Python on purpose (stdlib and `phonenumbers` only): every app and every
layer may use these, and they are tested without a database. Nothing here
imports a product app.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta

import phonenumbers

# --- where Indonesia is -------------------------------------------------------------------

# A box around every island, with a little sea: north of Pulau Rondo (Sabang, 6.07 N)
# and Miangas (5.56 N), south of Pulau Ndana by Rote (11.0 S), west of Pulau Benggala
# (Aceh, 95.0 E), east of the Papua border at Merauke (141.02 E). Incidents, onboarding
# coordinates and referrals all check against it; two database constraints use it too,
# so a change here needs a migration.
INDONESIA_LAT = (-11.2, 6.3)
INDONESIA_LNG = (94.7, 141.2)


def in_indonesia(lat: float, lng: float, *, margin: float = 0.0) -> bool:
    """The point lies in Indonesia's box, widened by `margin` degrees on every side
    (a handset's position may be a little off the coast)."""
    return (
        INDONESIA_LAT[0] - margin <= lat <= INDONESIA_LAT[1] + margin
        and INDONESIA_LNG[0] - margin <= lng <= INDONESIA_LNG[1] + margin
    )


# --- wire times ---------------------------------------------------------------------------

# Times a PBX or a handset sends us. Outside these years a time is a fault (a handset
# with no clock reports 0001, a bad gateway 9999), and near the ends of Python's
# datetime range the window arithmetic would overflow; refusing them is a 400.
PLAUSIBLE_YEARS = (2000, 2099)


def plausible_time(value: datetime) -> bool:
    """A wire time lies within PLAUSIBLE_YEARS (checked on the year as sent, so the
    check itself cannot overflow converting the offset)."""
    return PLAUSIBLE_YEARS[0] <= value.year <= PLAUSIBLE_YEARS[1]


# --- distance ----------------------------------------------------------------------------


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine on a 6,371 km sphere)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# --- overdue -----------------------------------------------------------------------------


def overdue_reason(
    *,
    active: bool,
    acknowledged: bool,
    arrived: bool,
    dispatched_at: datetime,
    ack_target_minutes: int,
    arrive_target_minutes: int,
    now: datetime,
) -> str:
    """Why an agency's dispatch is late: "ack" (nobody acknowledged within the
    category's target), "arrive" (nobody arrived within its target) or ""."""
    if not active:
        return ""
    if not acknowledged and now > dispatched_at + timedelta(minutes=ack_target_minutes):
        return "ack"
    if not arrived and now > dispatched_at + timedelta(minutes=arrive_target_minutes):
        return "arrive"
    return ""


# --- phone numbers -----------------------------------------------------------------------


class InvalidPhoneNumber(ValueError):
    """The text cannot be turned into a dialable E.164 number."""


def normalize_phone(raw: str, region: str = "ID") -> str:
    """Return `raw` as E.164, reading national forms ("0812…", "(0627) …") as `region`."""
    return _normalized(raw, region)


# Parsing is a tenth of a PBX event's CPU, and in a flood the same people redial:
# a pure function of its text, so the last few thousand answers are kept (a refusal
# is an exception, which lru_cache does not keep).
@functools.lru_cache(maxsize=4096)
def _normalized(raw: str, region: str) -> str:
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("phone number is empty")
    # phonenumbers turns letters into keypad digits ("0812 CALL ME" is "valid"),
    # which would invent a number nobody dialled.
    if any(ch.isalpha() for ch in text):
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        kind = "Indonesian phone number" if region == "ID" else f"phone number for region {region}"
        raise InvalidPhoneNumber(f"{raw!r} is not a valid {kind}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """Hide the subscriber part, e.g. "+6281234567890" -> "+62812*****890"."""
    if not e164.startswith("+"):
        raise InvalidPhoneNumber(f"{e164!r} is not an E.164 number (it must start with '+')")
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(f"{e164!r} is not a phone number") from None
    national = phonenumbers.national_significant_number(number)
    # The operator/area prefix is only shown when enough digits stay hidden; on a
    # short landline it would narrow the number down to a handful of candidates.
    head = national[:3] if len(national) >= 9 else ""
    hidden = len(national) - len(head) - 3
    if hidden <= 0:
        return f"+{number.country_code}{'*' * len(national)}"
    return f"+{number.country_code}{head}{'*' * hidden}{national[-3:]}"
