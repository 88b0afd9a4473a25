"""One error family, one mapping: a DomainError no view handled becomes JSON for
API clients, a page in the site's layout for browsers and a typed GraphQL error,
never a 500, and the refused request leaves nothing behind."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import schema_context

from accounts.invitations import InvitationInvalid, invitation_create
from accounts.models import User
from core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unavailable
from incidents.aml import AmlError
from incidents.demo import demo_pbx_key
from incidents.errors import OperationError
from incidents.models import AmlReport, Call, PbxEvent
from onboarding.services import MissingEvidence, OnboardingError, StageError, VersionConflict
from outbox.services import OutboxError
from referrals.services import ReferralError, ReferralNotFound

PASSWORD = "Sirene-pagi-4471"


# --- the family ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind", "status", "code"),
    [
        (OnboardingError("x"), DomainError, 400, "onboarding"),
        (MissingEvidence("trial", ["a"]), Invalid, 400, "missing_evidence"),
        (VersionConflict(), Conflict, 409, "version_conflict"),
        (StageError("x"), Invalid, 400, "stage"),
        (ReferralError("x", code="note"), DomainError, 400, "note"),
        (ReferralNotFound("x", code="not_found"), NotFound, 404, "not_found"),
        (OutboxError("x", code="receiver"), DomainError, 400, "receiver"),
        (InvitationInvalid(), NotFound, 404, "invitation_invalid"),
        (OperationError("x"), DomainError, 400, "invalid"),
        (OperationError("x", status=404), DomainError, 404, "not_found"),
        (OperationError("x", status=409), DomainError, 409, "conflict"),
        (AmlError("x", ("lt",)), Invalid, 400, "aml_invalid"),
        (Forbidden(), Forbidden, 403, "forbidden"),
        (Unavailable(), Unavailable, 503, "unavailable"),
    ],
)
def test_every_family_is_a_domain_error_with_its_status_and_code(error, kind, status, code):
    assert isinstance(error, DomainError) and isinstance(error, kind)
    assert (error.error_status(), error.error_code()) == (status, code)
    assert error.error_message()


def test_validation_error_families_keep_behaving_as_validation_errors():
    error = ReferralError("Write a note for the other Pemda.", code="note")
    assert isinstance(error, ValidationError)
    assert error.messages == ["Write a note for the other Pemda."] and error.code == "note"
    assert error.as_json() == {"error": "Write a note for the other Pemda.", "code": "note",
                              "status": 400}
    # The list form ValidationError also takes still works (no stray `message`).
    several = OutboxError(["one", "two"])
    assert several.messages == ["one", "two"] and not hasattr(several, "message")
    assert several.error_message() == "one two"
    with pytest.raises(ValidationError):
        raise ReferralNotFound("Referral not found.", code="not_found")
    # AmlError is still the ValueError the parsers' callers catch.
    assert isinstance(AmlError("bad", ("lt", "lg")), ValueError)
    assert AmlError("bad", ("lt", "lg")).as_json() == {
        "error": "bad", "code": "aml_invalid", "status": 400, "field": "lt,lg"}


# --- JSON for API clients --------------------------------------------------------------


def _pbx(client: Client, path: str, body) -> object:
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {demo_pbx_key('dairi')}")


def _counts(tenant):
    with schema_context(tenant.schema_name):
        return Call.objects.count(), PbxEvent.objects.count(), AmlReport.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body", "status", "code", "field"),
    [
        ("/api/pbx/events/", {"event": "ringing", "call_id": "", "caller": "0812600010"},
         400, "invalid", "call_id"),
        ("/api/pbx/events/", {"event": "answered", "call_id": "never-rang-i7b"},
         404, "not_found", "call_id"),
        ("/api/pbx/aml/", {"lt": "north", "lg": "98.3"}, 400, "aml_invalid", None),
    ],
)
def test_api_clients_get_the_error_as_json_and_nothing_is_saved(
    tenant_a, client_for, path, body, status, code, field
):
    before = _counts(tenant_a)
    response = _pbx(client_for(tenant_a), path, body)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["code"] == code and isinstance(answer["error"], str) and answer["error"]
    if field is not None:
        assert answer["field"] == field
    assert _counts(tenant_a) == before


@pytest.mark.django_db
def test_a_json_client_on_a_page_gets_json_too(tenant_a):
    response = Client(HTTP_HOST="dairi.localhost").get(
        "/accounts/invite/not-a-token/", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json() == {
        "error": "Tautan undangan ini tidak sah, sudah dipakai, atau kedaluwarsa.",
        "code": "invitation_invalid",
        "status": 404,
    }


# --- a page for browsers ---------------------------------------------------------------


@pytest.mark.django_db
def test_browsers_get_a_page_in_the_layout_indonesian_first_and_nothing_is_saved(tenant_a):
    created = invitation_create(region=tenant_a.region, email="", actor=None)
    token = created.url.rstrip("/").rsplit("/", 1)[1]
    # The right link on another Pemda's host: refused, with the site's page.
    browser = Client(HTTP_HOST="sidoarjo.localhost")
    response = browser.post(f"/accounts/invite/{token}/",
                            {"username": "admin.i7b", "password1": PASSWORD, "password2": PASSWORD})
    page = response.content.decode()
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "Tautan undangan ini tidak sah" in page and "Tidak dilakukan" in page
    assert "navbar" in page  # base.html, not a bare error text
    for schema in ("pemda_35_15", "public", tenant_a.schema_name):
        with schema_context(schema):
            assert not User.objects.filter(username="admin.i7b").exists()
    # English when the person chose it.
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = browser.get(f"/accounts/invite/{token}/").content.decode()
    assert "This invitation link is invalid, already used or expired." in english
    assert "Nothing was saved." in english
    # The link itself still works on its own host: the refusals burnt nothing.
    ok = Client(HTTP_HOST="dairi.localhost").post(
        f"/accounts/invite/{token}/",
        {"username": "admin.i7b", "password1": PASSWORD, "password2": PASSWORD})
    assert ok.status_code == 302


@pytest.mark.django_db
def test_htmx_gets_the_message_as_text(tenant_a):
    response = Client(HTTP_HOST="dairi.localhost").get(
        "/accounts/invite/not-a-token/", HTTP_HX_REQUEST="true")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == (
        "Tautan undangan ini tidak sah, sudah dipakai, atau kedaluwarsa.")


# --- GraphQL ---------------------------------------------------------------------------


def _graphql(client: Client, query: str):
    return client.post("/graphql/", json.dumps({"query": query}), content_type="application/json")


@pytest.mark.django_db
def test_graphql_resolvers_raising_domain_errors_give_typed_errors(client_for, make_user):
    officer = make_user(None, "provincial_officer", region_id="12")
    client = client_for(None, officer)
    response = _graphql(client, '{ onboardingStatus(regionCode: "35.15") { regionCode } }')
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert response.json()["data"] == {"onboardingStatus": None}
    assert error["message"] == "No Pemda 35.15 in your scope."
    assert error["extensions"] == {"code": "NOT_FOUND", "field": None}
    assert error["path"] == ["onboardingStatus"]
    anonymous = _graphql(client_for(None), "{ onboardingStatuses { regionCode } }")
    assert anonymous.status_code == 200
    assert anonymous.json()["errors"][0]["extensions"] == {
        "code": "PERMISSION_DENIED", "field": None}


@pytest.mark.django_db
def test_graphql_maps_every_family_member_never_a_500(client_for, make_user, monkeypatch):
    """A ValidationError-based family member keeps its plain message (not "['…']")
    and its code; a field travels in the extensions."""
    from onboarding.graphql import queries

    national = make_user(None, "national_officer")
    client = client_for(None, national)
    query = '{ onboardingTimeline(regionCode: "12.11") { kind } }'
    for raised, expected in [
        (ReferralNotFound("Referral not found.", code="not_found"),
         {"message": "Referral not found.", "extensions": {"code": "not_found", "field": None}}),
        (Invalid("Choose a stage.", field="stage"),
         {"message": "Choose a stage.", "extensions": {"code": "invalid", "field": "stage"}}),
        (Unavailable(),
         {"message": "Layanan sedang tidak tersedia. Coba lagi nanti.",
          "extensions": {"code": "unavailable", "field": None}}),
    ]:
        def fail(*args, _raised=raised, **kwargs):
            raise _raised

        monkeypatch.setattr(queries.selectors, "onboarding_get", fail)
        response = _graphql(client, query)
        assert response.status_code == 200, response.content
        error = response.json()["errors"][0]
        assert {k: error[k] for k in ("message", "extensions")} == expected


@pytest.mark.django_db
def test_every_json_error_has_one_shape(tenant_a):
    """A client reads the same keys whether the router (no such path), the
    throttle, or a service (no such incident) refused it."""
    client = Client(HTTP_HOST="dairi.localhost")
    routed = client.get("/api/no-such-thing/")
    invite = client.get("/accounts/invite/not-a-token/", HTTP_ACCEPT="application/json")
    assert routed.status_code == invite.status_code == 404
    assert set(routed.json()) == set(invite.json()) == {"error", "code", "status"}
    assert (routed.json()["code"], invite.json()["code"]) == ("not_found", "invitation_invalid")
    assert routed.json()["status"] == invite.json()["status"] == 404
