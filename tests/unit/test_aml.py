"""Phone normalisation/masking (core.rules) and AML (ETSI TS 103 625) parsing (incidents.aml)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.rules import InvalidPhoneNumber, mask_phone, normalize_phone
from incidents.aml import AmlError, AmlLocation, matches_call, parse_aml_https, parse_aml_sms

# The ETSI TS 103 625 examples, verbatim (their `ml` does not match their own length).
ETSI_GLASGOW = (
    'A"ML=1;lt=+55.74317;lg=-004.26881;rd=50;top=20130717141935;lc=90;pm=W;'
    "si=123456789012345;ei=1234567890123456;mcc=234;mnc=30;ml=128"
)
ETSI_LONDON = (
    'A"ML=1;lt=+51.50084;lg=-000.12462;rd=10;top=20170613105430;lc=68;pm=G;'
    "si=234302543446355;ei=356708041746734;mcc=234;mnc=30;ml=124"
)
NIAS = (
    'A"ML=1;lt=-2.60120;lg=+98.31200;rd=25;top=20261123101500;lc=68;pm=G;'
    "si=510101234567890;ei=356708041746734;mcc=510;mnc=10;ml=123"
)
MOBILE = "+6281234567890"


def sms(**overrides: str | None) -> str:
    """NIAS with fields replaced (value) or removed (None), keeping the field order."""
    parts = []
    for segment in NIAS.split(";")[1:]:
        key, _, value = segment.partition("=")
        new = overrides.pop(key, value)
        if new is not None:
            parts.append(f"{key}={new}")
    parts += [f"{k}={v}" for k, v in overrides.items() if v is not None]
    return 'A"ML=1;' + ";".join(parts)


def https(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "v": "3",
        "device_number": "+6281234567890",
        "location_latitude": "-6.175392",
        "location_longitude": "106.827153",
        "location_accuracy": "12.5",
        "location_time": "1795428900000",
        "location_source": "GPS",
        "location_certainty": "68",
        "device_imei": "356708041746734",
        "device_imsi": "510101234567890",
        "emergency_number": "112",
        "cell_carrier": "Telkomsel",
        "thunderbird_version": "2.0",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- phone numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0812-3456-7890", MOBILE),
        ("+62 812 3456 7890", MOBILE),
        ("6281234567890", MOBILE),
        ("  081234567890\n", MOBILE),
        ("+62 (812) 3456.7890", MOBILE),
        ("(0627) 21112", "+6262721112"),
        ("021 1234567", "+62211234567"),
        ("+44 20 7946 0958", "+442079460958"),  # a roaming foreign SIM stays foreign
    ],
)
def test_normalize_phone_accepts_indonesian_forms(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "'abc' is not a phone number"),
        ("", "phone number is empty"),
        ("   ", "phone number is empty"),
        ("0812", "'0812' is not a valid Indonesian phone number"),
        ("112", "'112' is not a valid Indonesian phone number"),
        # phonenumbers would read these letters as keypad digits and call it valid.
        ("0812 CALL ME NOW", "'0812 CALL ME NOW' is not a phone number"),
        ("0812-3456-7890 abc", "'0812-3456-7890 abc' is not a phone number"),
        ("08123456789012345678", "'08123456789012345678' is not a phone number"),
    ],
)
def test_normalize_phone_rejects_with_actionable_message(raw: str, message: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as excinfo:
        normalize_phone(raw)
    assert str(excinfo.value) == message
    assert isinstance(excinfo.value, ValueError)


def test_normalize_phone_uses_region_for_national_numbers() -> None:
    assert normalize_phone("012-345 6789", region="MY") == "+60123456789"
    with pytest.raises(InvalidPhoneNumber, match="not a valid phone number for region MY"):
        normalize_phone("0812", region="MY")


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        (MOBILE, "+62812*****890"),
        ("+628123456789", "+62812****789"),
        ("+62211234567", "+62211***567"),
        ("+6262721112", "+62*****112"),  # short landline: area code hidden too
        ("+442079460958", "+44207****958"),
    ],
)
def test_mask_phone(e164: str, masked: str) -> None:
    assert mask_phone(e164) == masked


@pytest.mark.parametrize("bad", ["081234567890", "+", "+abc", ""])
def test_mask_phone_requires_e164(bad: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        mask_phone(bad)


# --- AML over SMS --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            ETSI_GLASGOW,
            dict(
                latitude=55.74317,
                longitude=-4.26881,
                radius_m=50.0,
                position_time=datetime(2013, 7, 17, 14, 19, 35, tzinfo=UTC),
                source="wifi",
                confidence_pct=90,
                imsi="123456789012345",
                imei="1234567890123456",
                extras={"mcc": "234", "mnc": "30", "ml": "128"},
            ),
        ),
        (
            ETSI_LONDON,
            dict(
                latitude=51.50084,
                longitude=-0.12462,
                radius_m=10.0,
                position_time=datetime(2017, 6, 13, 10, 54, 30, tzinfo=UTC),
                source="gnss",
                confidence_pct=68,
                imsi="234302543446355",
                imei="356708041746734",
                extras={"mcc": "234", "mnc": "30", "ml": "124"},
            ),
        ),
        (
            NIAS,
            dict(
                latitude=-2.6012,
                longitude=98.312,
                radius_m=25.0,
                position_time=datetime(2026, 11, 23, 10, 15, tzinfo=UTC),
                source="gnss",
                confidence_pct=68,
                imsi="510101234567890",
                imei="356708041746734",
                extras={"mcc": "510", "mnc": "10", "ml": "123"},
            ),
        ),
    ],
    ids=["etsi-glasgow", "etsi-london", "nias"],
)
def test_parse_aml_sms_published_examples(text: str, expected: dict[str, object]) -> None:
    location = parse_aml_sms(text)
    assert {k: getattr(location, k) for k in expected} == expected
    assert location.caller_number is None
    assert location.version == "1"
    assert location.raw == text
    assert location.position_time.utcoffset() == timedelta(0)


def test_parse_aml_sms_normalises_caller_number() -> None:
    location = parse_aml_sms(NIAS, caller_number="0812-3456-7890")
    assert location.caller_number == MOBILE
    assert "caller_number" not in location.extras


def test_parse_aml_sms_keeps_position_when_caller_number_is_odd() -> None:
    location = parse_aml_sms(NIAS, caller_number="TELKOMSEL")
    assert location.caller_number is None
    assert location.extras["caller_number"] == "TELKOMSEL"
    assert location.latitude == -2.6012


@pytest.mark.parametrize(
    ("pm", "source"),
    [
        ("G", "gnss"),
        ("W", "wifi"),
        ("C", "cell"),
        ("N", "unknown"),
        ("X", "unknown"),
        (None, "unknown"),
    ],
)
def test_parse_aml_sms_positioning_method(pm: str | None, source: str) -> None:
    assert parse_aml_sms(sms(pm=pm)).source == source


def test_parse_aml_sms_keeps_unknown_fields_and_tolerates_framing() -> None:
    text = sms(alt="12.5", fl="3") + ";\r\n"
    location = parse_aml_sms(text)
    assert location.extras == {"mcc": "510", "mnc": "10", "ml": "123", "alt": "12.5", "fl": "3"}
    assert location.raw == text
    assert location.latitude == -2.6012


def test_parse_aml_sms_ignores_wrong_declared_length() -> None:
    assert parse_aml_sms(sms(ml="9999")).extras["ml"] == "9999"


@pytest.mark.parametrize(
    ("lc", "expected"),
    [("0", 0), ("100", 100), ("68.4", 68), ("150", None), ("x", None), (None, None)],
)
def test_parse_aml_sms_confidence_is_optional_and_bounded(
    lc: str | None, expected: int | None
) -> None:
    assert parse_aml_sms(sms(lc=lc)).confidence_pct == expected


def test_parse_aml_sms_optional_identity_fields_may_be_absent() -> None:
    location = parse_aml_sms(sms(si=None, ei=None, mcc=None, mnc=None, ml=None, lc=None, pm=None))
    assert (location.imsi, location.imei, location.extras) == (None, None, {})


@pytest.mark.parametrize("field", ["lt", "lg", "rd", "top"])
@pytest.mark.parametrize("how", ["absent", "empty"])
def test_parse_aml_sms_names_missing_mandatory_field(field: str, how: str) -> None:
    with pytest.raises(AmlError) as excinfo:
        parse_aml_sms(sms(**{field: None if how == "absent" else ""}))
    assert str(excinfo.value) == f"AML message is missing: {field}"
    assert excinfo.value.fields == (field,)


def test_parse_aml_sms_names_every_missing_field() -> None:
    with pytest.raises(AmlError, match=r"^AML message is missing: lg, rd$"):
        parse_aml_sms(sms(lg=None, rd=None))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lt": "abc"}, "AML field lt is not a number: 'abc'"),
        ({"lg": "9,8"}, "AML field lg is not a number: '9,8'"),
        ({"lg": "1_0"}, "AML field lg is not a number: '1_0'"),
        ({"rd": "nan"}, "AML field rd is not a number: 'nan'"),
        ({"rd": "inf"}, "AML field rd is not a number: 'inf'"),
        (
            {"top": "2013071714193"},
            "AML field top is not a YYYYMMDDhhmmss UTC time: '2013071714193'",
        ),
        (
            {"top": "20131317141935"},
            "AML field top is not a YYYYMMDDhhmmss UTC time: '20131317141935'",
        ),
        (
            {"top": "2013-07-17T14:19"},
            "AML field top is not a YYYYMMDDhhmmss UTC time: '2013-07-17T14:19'",
        ),
    ],
)
def test_parse_aml_sms_rejects_malformed_field(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(AmlError) as excinfo:
        parse_aml_sms(sms(**overrides))
    assert str(excinfo.value) == message
    assert excinfo.value.fields == tuple(overrides)


def test_parse_aml_sms_reports_all_problems_at_once() -> None:
    with pytest.raises(AmlError) as excinfo:
        parse_aml_sms(sms(lt="abc", rd=None, top="x"))
    assert str(excinfo.value) == (
        "AML message is missing: rd; AML field lt is not a number: 'abc'; "
        "AML field top is not a YYYYMMDDhhmmss UTC time: 'x'"
    )
    assert excinfo.value.fields == ("rd", "lt", "top")


@pytest.mark.parametrize(
    ("field", "value", "bounds"),
    [
        ("lt", "+90.00001", "[-90, 90]"),
        ("lt", "-91", "[-90, 90]"),
        ("lg", "+180.5", "[-180, 180]"),
        ("lg", "-181", "[-180, 180]"),
        ("rd", "-1", "[0, inf]"),
    ],
)
def test_parse_aml_sms_rejects_out_of_range(field: str, value: str, bounds: str) -> None:
    with pytest.raises(AmlError) as excinfo:
        parse_aml_sms(sms(**{field: value}))
    assert str(excinfo.value) == f"AML field {field} is out of range {bounds}: {value!r}"


def test_parse_aml_sms_accepts_the_exact_bounds() -> None:
    location = parse_aml_sms(sms(lt="-90", lg="+180", rd="0"))
    assert (location.latitude, location.longitude, location.radius_m) == (-90.0, 180.0, 0.0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Halo, tolong saya",
        "AML=1;lt=+55.7;lg=-4.2;rd=50;top=20130717141935",
        'a"ml=1;lt=1',
        "lt=1;" + NIAS,
    ],
)
def test_parse_aml_sms_rejects_non_aml_text(text: str) -> None:
    with pytest.raises(AmlError, match=r"^not an AML message"):
        parse_aml_sms(text)


def test_parse_aml_sms_refuses_duplicate_fields() -> None:
    with pytest.raises(AmlError, match="AML field lt appears more than once"):
        parse_aml_sms(NIAS + ";lt=+10.0")


def test_aml_location_is_frozen() -> None:
    location = parse_aml_sms(NIAS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        location.latitude = 0.0  # type: ignore[misc]
    assert isinstance(hash(location), int)


# --- AML over HTTPS (Android ELS) ----------------------------------------------------


def test_parse_aml_https_full_payload_with_epoch_ms() -> None:
    location = parse_aml_https(https())
    assert location == AmlLocation(
        caller_number=MOBILE,
        latitude=-6.175392,
        longitude=106.827153,
        radius_m=12.5,
        position_time=datetime(2026, 11, 23, 10, 15, tzinfo=UTC),
        source="gnss",
        confidence_pct=68,
        imei="356708041746734",
        imsi="510101234567890",
        raw=location.raw,
        version="3",
        extras={
            "emergency_number": "112",
            "cell_carrier": "Telkomsel",
            "thunderbird_version": "2.0",
        },
    )
    assert '"location_latitude": "-6.175392"' in location.raw


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1497351270000", datetime(2017, 6, 13, 10, 54, 30, tzinfo=UTC)),
        ("1497351270123", datetime(2017, 6, 13, 10, 54, 30, 123000, tzinfo=UTC)),
        ("20170613105430", datetime(2017, 6, 13, 10, 54, 30, tzinfo=UTC)),
        (1497351270000, datetime(2017, 6, 13, 10, 54, 30, tzinfo=UTC)),  # JSON number
    ],
)
def test_parse_aml_https_location_time_forms(value: object, expected: datetime) -> None:
    assert parse_aml_https(https(location_time=value)).position_time == expected


def test_parse_aml_https_accepts_json_numbers_and_national_device_number() -> None:
    location = parse_aml_https(
        https(
            location_latitude=-6.2,
            location_longitude=106.8,
            location_accuracy=30,
            device_number="081234567890",
        )
    )
    assert (location.latitude, location.longitude, location.radius_m) == (-6.2, 106.8, 30.0)
    assert location.caller_number == MOBILE


@pytest.mark.parametrize(
    ("value", "source"),
    [
        ("GPS", "gnss"),
        ("gps", "gnss"),
        ("WiFi", "wifi"),
        ("Cell", "cell"),
        ("Fused", "unknown"),
        (None, "unknown"),
    ],
)
def test_parse_aml_https_location_source(value: str | None, source: str) -> None:
    assert parse_aml_https(https(location_source=value)).source == source


def test_parse_aml_https_without_device_number() -> None:
    location = parse_aml_https(https(device_number=None, location_certainty=None))
    assert (location.caller_number, location.confidence_pct) == (None, None)
    assert "device_number" not in location.extras


def test_parse_aml_https_keeps_unparseable_device_number_in_extras() -> None:
    location = parse_aml_https(https(device_number="Anonymous"))
    assert location.caller_number is None
    assert location.extras["device_number"] == "Anonymous"


@pytest.mark.parametrize(
    "field", ["location_latitude", "location_longitude", "location_accuracy", "location_time"]
)
@pytest.mark.parametrize("how", ["absent", "empty", "null"])
def test_parse_aml_https_names_missing_mandatory_field(field: str, how: str) -> None:
    data = https(**{field: None})
    if how != "absent":
        data[field] = "" if how == "empty" else None
    with pytest.raises(AmlError) as excinfo:
        parse_aml_https(data)
    assert str(excinfo.value) == f"AML message is missing: {field}"
    assert excinfo.value.fields == (field,)


def test_parse_aml_https_names_every_missing_field() -> None:
    with pytest.raises(AmlError) as excinfo:
        parse_aml_https({"v": "3"})
    assert str(excinfo.value) == (
        "AML message is missing: location_latitude, location_longitude, "
        "location_accuracy, location_time"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"location_latitude": "abc"}, "AML field location_latitude is not a number: 'abc'"),
        (
            {"location_longitude": "200"},
            "AML field location_longitude is out of range [-180, 180]: '200'",
        ),
        (
            {"location_latitude": "-90.1"},
            "AML field location_latitude is out of range [-90, 90]: '-90.1'",
        ),
        ({"location_accuracy": "-5"}, "AML field location_accuracy is out of range [0, inf]: '-5'"),
        (
            {"location_time": "2017-06-13T10:54:30Z"},
            "AML field location_time is not epoch milliseconds or a YYYYMMDDhhmmss UTC time: "
            "'2017-06-13T10:54:30Z'",
        ),
        (
            {"location_time": "-1497351270000"},
            "AML field location_time is not epoch milliseconds or a YYYYMMDDhhmmss UTC time: "
            "'-1497351270000'",
        ),
    ],
)
def test_parse_aml_https_rejects_malformed_field(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(AmlError) as excinfo:
        parse_aml_https(https(**overrides))
    assert str(excinfo.value) == message


# --- matching AML to a call ----------------------------------------------------------

CALL_START = datetime(2026, 11, 23, 10, 15, tzinfo=UTC)


def located_at(offset_seconds: float, number: str | None = MOBILE) -> AmlLocation:
    return dataclasses.replace(
        parse_aml_sms(NIAS),
        caller_number=number,
        position_time=CALL_START + timedelta(seconds=offset_seconds),
    )


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-61, False), (-60, True), (0, True), (20, True), (600, True), (601, False)],
)
def test_matches_call_window_edges(offset: int, expected: bool) -> None:
    location = located_at(offset)
    assert matches_call(location, caller_number=MOBILE, call_started_at=CALL_START) is expected


def test_matches_call_custom_window() -> None:
    kwargs = {"caller_number": MOBILE, "call_started_at": CALL_START, "window_seconds": 30}
    assert matches_call(located_at(30), **kwargs) is True
    assert matches_call(located_at(31), **kwargs) is False


def test_matches_call_compares_numbers_after_normalising() -> None:
    location = located_at(5)
    assert matches_call(location, caller_number="0812-3456-7890", call_started_at=CALL_START)
    assert not matches_call(location, caller_number="+6281234567891", call_started_at=CALL_START)
    assert not matches_call(location, caller_number="unknown", call_started_at=CALL_START)
    assert not matches_call(located_at(5, None), caller_number=MOBILE, call_started_at=CALL_START)


def test_matches_call_handles_other_timezones() -> None:
    wib = timezone(timedelta(hours=7))  # call records are often shown in WIB
    assert matches_call(
        located_at(0), caller_number=MOBILE, call_started_at=CALL_START.astimezone(wib)
    )


def test_matches_call_rejects_naive_start_and_negative_window() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        matches_call(
            located_at(0), caller_number=MOBILE, call_started_at=CALL_START.replace(tzinfo=None)
        )
    with pytest.raises(ValueError, match="must not be negative"):
        matches_call(
            located_at(0), caller_number=MOBILE, call_started_at=CALL_START, window_seconds=-1
        )
