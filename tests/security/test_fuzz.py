"""Fuzzing with hypothesis: the AML parsers, phone-number normalisation, the PBX
event and AML endpoints (real requests with a valid key) and both GraphQL endpoints
(queries generated from the schema by hypothesis-graphql, signed in, with the CSRF
header). No 500 anywhere; a refusal is a 4xx whose body names the field.

Examples are bounded (max_examples, deadline=None) so the file runs in well under a
minute; hypothesis keeps what it found in .hypothesis/ only when run locally."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from core.errors import DomainError
from core.rules import InvalidPhoneNumber, mask_phone, normalize_phone
from incidents.aml import AML_SMS_PREFIX, AmlError, AmlLocation, parse_aml_https, parse_aml_sms

BOUNDED = hsettings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
REQUESTS = hsettings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    """Hundreds of requests in seconds from one address: the limits would answer 429
    (tested in tests/foundation/test_throttle.py), hiding what the fuzzing looks for."""
    settings.THROTTLE = {**settings.THROTTLE, "ENABLED": False}


# Values shaped like what the wire carries, plus the edges that broke parsers before
# (year 0001/9999 timestamps, 13/14-digit epochs, nan/inf, huge exponents, non-ASCII
# digits, empty strings).
EDGE_STRINGS = st.sampled_from([
    "", " ", "0", "-0", "nan", "inf", "-inf", "1e309", "1_000", "٣", "00010101000000",
    "99991231235959", "20250101000000", "9999999999999", "99999999999999",
    "-6.9", "112.7", "91", "-181", "+6281234567890", "081234567890", "0812-3456-7890",
    "'; DROP TABLE x; --", "<script>", "\x00", "A\"ML=1", "%2B62812",
])
WIRE_TEXT = st.one_of(EDGE_STRINGS, st.text(max_size=30),
                      st.text(alphabet=string.digits + ".-+eE", max_size=20))
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        WIRE_TEXT)
JSON_VALUE = st.recursive(JSON_SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)

SMS_KEYS = st.sampled_from(["lt", "lg", "rd", "top", "lc", "pm", "ei", "si", "ml", "x"])
HTTPS_KEYS = st.sampled_from([
    "v", "device_number", "device_imei", "device_imsi", "location_source",
    "location_latitude", "location_longitude", "location_accuracy", "location_time",
    "location_certainty", "extra"])


@st.composite
def aml_sms(draw: Any) -> str:
    pairs = draw(st.lists(st.tuples(SMS_KEYS, WIRE_TEXT), max_size=9))
    prefix = draw(st.sampled_from([AML_SMS_PREFIX, AML_SMS_PREFIX, "", "AML=", AML_SMS_PREFIX[:3]]))
    return prefix + draw(st.sampled_from(["1", "", "2.0"])) + ";" + ";".join(
        f"{k}={v}" for k, v in pairs)


def _check_location(location: AmlLocation) -> None:
    assert -90 <= location.latitude <= 90 and -180 <= location.longitude <= 180
    assert location.radius_m >= 0
    assert location.position_time.tzinfo is not None
    assert location.confidence_pct is None or 0 <= location.confidence_pct <= 100
    assert location.caller_number is None or location.caller_number.startswith("+")


@BOUNDED
@given(text=aml_sms(), caller=st.one_of(st.none(), WIRE_TEXT))
def test_aml_sms_parser_answers_a_location_or_an_error_naming_the_field(
    text: str, caller: str | None
) -> None:
    try:
        location = parse_aml_sms(text, caller_number=caller)
    except AmlError as exc:
        assert exc.error_status() == 400 and exc.fields, exc
        return
    _check_location(location)


@BOUNDED
@given(data=st.dictionaries(HTTPS_KEYS, JSON_SCALAR, max_size=11))
def test_aml_https_parser_answers_a_location_or_an_error_naming_the_field(
    data: dict[str, Any]
) -> None:
    try:
        location = parse_aml_https(data)
    except AmlError as exc:
        assert exc.error_status() == 400 and exc.fields, exc
        return
    _check_location(location)


@BOUNDED
@given(raw=st.one_of(WIRE_TEXT, st.text(alphabet=string.digits + " +-()./", max_size=24)))
def test_phone_normalisation_is_e164_and_stable_or_refused(raw: str) -> None:
    try:
        e164 = normalize_phone(raw)
    except InvalidPhoneNumber:
        return
    assert e164.startswith("+") and e164[1:].isdigit(), e164
    assert normalize_phone(e164) == e164
    masked = mask_phone(e164)
    assert masked[-3:] == e164[-3:] and "*" in masked


# --- the PBX endpoints, real requests with Sidoarjo's valid key -------------------------


def _pbx_client() -> tuple[Client, str]:
    from incidents.demo import demo_pbx_key

    return Client(HTTP_HOST="sidoarjo.localhost"), demo_pbx_key("sidoarjo")


def _assert_no_500_and_named(response: Any, sent: object) -> None:
    assert response.status_code < 500, (response.status_code, sent, response.content[:300])
    if 400 <= response.status_code < 500:
        body = json.loads(response.content)
        assert body.get("field"), (response.status_code, body, sent)
        # Echo at most a short prefix of what was sent.
        assert len(response.content) < 2000, response.content[:300]


PBX_EVENT = st.fixed_dictionaries({}, optional={
    "event": st.one_of(st.sampled_from(["ringing", "answered", "ended", "missed", "abandoned"]),
                       JSON_VALUE),
    "call_id": st.one_of(st.text(max_size=20), JSON_VALUE),
    "caller": st.one_of(EDGE_STRINGS, JSON_VALUE),
    "trunk": JSON_VALUE,
    "operator": JSON_VALUE,
    "at": st.one_of(st.datetimes().map(lambda d: d.isoformat() + "+07:00"), WIRE_TEXT,
                    JSON_VALUE),
})


@pytest.mark.django_db
@REQUESTS
@given(body=st.one_of(PBX_EVENT, JSON_VALUE))
def test_pbx_event_endpoint_never_answers_500(body: Any) -> None:
    client, key = _pbx_client()
    response = client.post("/api/pbx/events/", json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {key}")
    _assert_no_500_and_named(response, body)


@pytest.mark.django_db
@REQUESTS
@given(raw=st.binary(max_size=200), content_type=st.sampled_from([
    "application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data",
]))
def test_pbx_endpoints_take_any_bytes_without_500(raw: bytes, content_type: str) -> None:
    client, key = _pbx_client()
    for path in ("/api/pbx/events/", "/api/pbx/aml/"):
        response = client.post(path, raw, content_type=content_type,
                               HTTP_AUTHORIZATION=f"Bearer {key}")
        _assert_no_500_and_named(response, raw)


@pytest.mark.django_db
@REQUESTS
@given(body=st.one_of(
    st.dictionaries(HTTPS_KEYS, JSON_SCALAR, max_size=11),
    st.builds(lambda sms, sender: {"sms": sms, "from": sender}, aml_sms(),
              st.one_of(st.none(), WIRE_TEXT)),
))
def test_pbx_aml_endpoint_never_answers_500(body: dict[str, Any]) -> None:
    client, key = _pbx_client()
    response = client.post("/api/pbx/aml/", json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {key}")
    _assert_no_500_and_named(response, body)


# --- GraphQL, both endpoints, queries generated from the schema -------------------------

CSRF = "A" * 32  # a CSRF secret: the cookie and the header carry the same value


def _signed_in(schema: str, username: str, host: str) -> Client:
    from accounts.models import User

    client = Client(HTTP_HOST=host, enforce_csrf_checks=True)
    with schema_context(schema):
        client.force_login(User.objects.get(username=username),
                           backend="django.contrib.auth.backends.ModelBackend")
    client.cookies["csrftoken"] = CSRF
    return client


def _sdl(which: str) -> str:
    from siaga112.schema import public_schema, tenant_schema

    return str(tenant_schema if which == "tenant" else public_schema)


def _assert_graphql_sane(response: Any, query: str) -> None:
    assert response.status_code < 500, (response.status_code, query)
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert body.get("errors"), body
        return
    for error in body.get("errors") or []:
        # An error raised while resolving (it has a path) must be a refusal the domain
        # made (extensions.code), never an unexpected exception's text: that is a 500.
        if error.get("path"):
            assert (error.get("extensions") or {}).get("code"), (error, query)


def _graphql_fuzz(client: Client, sdl: str) -> None:
    import hypothesis_graphql

    @REQUESTS
    @given(query=hypothesis_graphql.queries(sdl))
    def run(query: str) -> None:
        response = client.post("/graphql/", json.dumps({"query": query}),
                               content_type="application/json", HTTP_X_CSRFTOKEN=CSRF)
        _assert_graphql_sane(response, query)

    run()


@pytest.mark.django_db
def test_tenant_graphql_never_answers_500(tenant_b) -> None:
    client = _signed_in(tenant_b.schema_name, "supervisor", "sidoarjo.localhost")
    _graphql_fuzz(client, _sdl("tenant"))


@pytest.mark.django_db
def test_public_graphql_never_answers_500() -> None:
    client = _signed_in("public", "nasional", "localhost")
    _graphql_fuzz(client, _sdl("public"))


def test_a_domain_error_is_what_the_graphql_check_accepts() -> None:
    """_assert_graphql_sane relies on refusals carrying extensions.code."""
    assert DomainError("x").extensions["code"] == "invalid"
