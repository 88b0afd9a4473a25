"""core.rules: the one Indonesia box (used by incidents, onboarding and referrals),
distance and the overdue rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.rules import INDONESIA_LAT, INDONESIA_LNG, distance_m, in_indonesia, overdue_reason

# The far ends of the country: Sabang to Merauke, Miangas to Rote.
EXTREMES = {
    "Pulau Rondo (Sabang), northernmost": (6.07, 95.11),
    "Pulau Benggala (Aceh), westernmost": (5.83, 94.97),
    "Miangas (Sulawesi Utara)": (5.56, 126.58),
    "Pulau Ndana (Rote), southernmost": (-11.01, 122.87),
    "Merauke": (-8.49, 140.40),
    "Papua border at Sota, easternmost": (-8.43, 141.02),
    "Jayapura": (-2.53, 140.72),
}
ABROAD = {
    "Darwin": (-12.46, 130.84),
    "Port Moresby": (-9.44, 147.18),
    "Manila": (14.60, 120.98),
    "Colombo": (6.93, 79.85),
    "Cocos Islands": (-12.19, 96.83),
}


@pytest.mark.parametrize("place", sorted(EXTREMES))
def test_every_end_of_indonesia_is_inside(place: str) -> None:
    assert in_indonesia(*EXTREMES[place]), place


@pytest.mark.parametrize("place", sorted(ABROAD))
def test_neighbouring_countries_are_outside(place: str) -> None:
    assert not in_indonesia(*ABROAD[place]), place


def test_margin_widens_the_box_on_every_side() -> None:
    just_south = (INDONESIA_LAT[0] - 0.5, 120.0)
    just_east = (-5.0, INDONESIA_LNG[1] + 0.5)
    assert not in_indonesia(*just_south) and not in_indonesia(*just_east)
    assert in_indonesia(*just_south, margin=1.0) and in_indonesia(*just_east, margin=1.0)


def test_onboarding_and_referrals_refuse_what_the_box_refuses() -> None:
    """One box: a point just outside it is refused by all three apps the same way."""
    from onboarding.validators import validate_latitude, validate_longitude
    from referrals.services import ReferralError, _validate_payload

    validate_latitude(Decimal(str(INDONESIA_LAT[0])))
    validate_longitude(Decimal(str(INDONESIA_LNG[1])))
    with pytest.raises(ValidationError):
        validate_latitude(INDONESIA_LAT[0] - 0.1)
    with pytest.raises(ValidationError):
        validate_longitude(INDONESIA_LNG[1] + 0.1)
    _validate_payload({"category": "fire", "lat": INDONESIA_LAT[0], "lng": INDONESIA_LNG[1]})
    # The referral box used to be wider (-11.5 .. 6.5, 94.0 .. 141.5).
    for bad in ({"lat": INDONESIA_LAT[0] - 0.1}, {"lng": INDONESIA_LNG[1] + 0.1},
                {"lat": 6.4}, {"lng": 94.5}):
        with pytest.raises(ReferralError):
            _validate_payload({"category": "fire", **bad})


def test_distance_is_great_circle_metres() -> None:
    assert distance_m(-6.2, 106.8, -6.2, 106.8) == 0
    # Jakarta (Monas) to Bandung (Gedung Sate): about 116 km as the crow flies.
    assert 110_000 < distance_m(-6.1754, 106.8272, -6.9025, 107.6188) < 125_000
    # One degree of latitude is about 111 km anywhere.
    assert distance_m(0, 120, 1, 120) == pytest.approx(111_195, rel=1e-3)


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _reason(minutes_ago: float, **kw: bool) -> str:
    state = {"active": True, "acknowledged": False, "arrived": False, **kw}
    return overdue_reason(
        dispatched_at=NOW - timedelta(minutes=minutes_ago),
        ack_target_minutes=5,
        arrive_target_minutes=20,
        now=NOW,
        **state,
    )


def test_overdue_follows_the_category_targets() -> None:
    assert _reason(4) == ""
    assert _reason(6) == "ack"
    assert _reason(6, acknowledged=True) == ""
    assert _reason(21, acknowledged=True) == "arrive"
    assert _reason(21) == "ack"  # not even acknowledged: that is the first lateness
    assert _reason(21, acknowledged=True, arrived=True) == ""
    assert _reason(500, active=False) == ""
