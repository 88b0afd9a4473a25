"""Mutations from outside: read-write tokens and the right console roles only,
typed errors naming the field, Idempotency-Key replays, and a denied or refused
request leaves the data as it was."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from incidents.models import Agency, Dispatch, Incident, TimelineEntry
from integration.models import IdempotencyRecord
from tests.api.conftest import gql

CREATE = """mutation($input: IncidentInput!) { createIncident(input: $input) {
  created incident { id reference category status caller }
  errors { field code message } duplicates { reference } } }"""
ADVANCE = """mutation($id: ID!, $status: String!, $version: Int) {
  updateDispatchStatus(dispatchId: $id, status: $status, version: $version) {
  dispatch { status } errors { field code message } } }"""
NOTE = """mutation($id: ID!, $text: String!) { addNote(incidentId: $id, text: $text) {
  incident { reference timeline { kind data } } errors { field code message } } }"""


def _input(**overrides):
    return {"input": {"category": "fire", "description": "Kebakaran gudang (sensor asap)",
                      "latitude": 2.74, "longitude": 98.31, "address": "Jl. Sidikalang",
                      "force": True, **overrides}}


def _count(tenant, model=Incident):
    with schema_context(tenant.schema_name):
        return model.objects.count()


@pytest.fixture
def writer(tenant_a, make_token):
    return make_token(scope="tenant", access="read_write", schema_name=tenant_a.schema_name)[1]


@pytest.fixture
def reader(tenant_a, make_token):
    return make_token(scope="tenant", access="read", schema_name=tenant_a.schema_name)[1]


def test_read_write_token_creates_through_the_service(tenant_a, host_client, writer):
    body = gql(host_client(tenant_a), CREATE, _input(caller="0812-3456-7890"), token=writer).json()
    result = body["data"]["createIncident"]
    assert result["errors"] == [] and result["created"] is True
    assert result["incident"]["reference"].startswith("INC-")
    assert result["incident"]["caller"] != "+6281234567890"  # a token never reads the number
    with schema_context(tenant_a.schema_name):
        incident = Incident.objects.get(pk=result["incident"]["id"])
        assert incident.caller == "+6281234567890" and incident.is_test  # Dairi is in trial
        assert [e.kind for e in incident.timeline.all()] == ["created"]


def test_denied_creates_change_nothing(tenant_a, host_client, session_client, tenant_user,
                                       reader, make_token, tenant_b):
    before = _count(tenant_a)
    denied = [
        gql(host_client(tenant_a), CREATE, _input()),  # anonymous
        gql(host_client(tenant_a), CREATE, _input(), token=reader),  # read-only token
        gql(session_client(tenant_a, tenant_user(tenant_a, "bupati")), CREATE, _input()),
        gql(session_client(tenant_a, tenant_user(tenant_a, "damkar")), CREATE, _input()),
    ]
    for response in denied:
        assert response.status_code == 200
        assert response.json()["data"]["createIncident"]["errors"][0]["code"] == "forbidden"
    other = make_token(scope="tenant", access="read_write", schema_name=tenant_b.schema_name)[1]
    assert gql(host_client(tenant_a), CREATE, _input(), token=other).status_code == 401
    assert _count(tenant_a) == before


def test_operator_session_may_create(tenant_a, session_client, tenant_user):
    client = session_client(tenant_a, tenant_user(tenant_a, "operator1"))
    result = gql(client, CREATE, _input()).json()["data"]["createIncident"]
    assert result["created"] is True and result["errors"] == []


@pytest.mark.parametrize(("overrides", "field"), [
    ({"latitude": 40.0}, "latitude"), ({"category": "no-such"}, "category"),
    ({"description": "  "}, "description"), ({"latitude": None, "longitude": None, "address": ""},
                                            "address"),
    ({"caller": "12"}, "caller"),
])
def test_bad_input_is_a_typed_error_and_saves_nothing(tenant_a, host_client, writer, overrides,
                                                      field):
    before = _count(tenant_a), _count(tenant_a, TimelineEntry)
    response = gql(host_client(tenant_a), CREATE, _input(**overrides), token=writer)
    assert response.status_code == 200
    result = response.json()["data"]["createIncident"]
    assert result["incident"] is None and result["errors"][0]["field"] == field
    assert result["errors"][0]["message"]
    assert (_count(tenant_a), _count(tenant_a, TimelineEntry)) == before


def test_wrong_types_are_graphql_errors_not_500(tenant_a, host_client, writer):
    response = gql(host_client(tenant_a), CREATE, _input(latitude="north"), token=writer)
    assert response.status_code in (200, 400)
    assert "Float" in response.json()["errors"][0]["message"]


def test_idempotency_key_replays_and_refuses_another_body(tenant_a, host_client, writer):
    client = host_client(tenant_a)
    before = _count(tenant_a)
    first = gql(client, CREATE, _input(), token=writer, Idempotency_Key="sensor-42-001")
    again = gql(client, CREATE, _input(), token=writer, Idempotency_Key="sensor-42-001")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert _count(tenant_a) == before + 1
    other = gql(client, CREATE, _input(description="another"), token=writer,
                Idempotency_Key="sensor-42-001")
    assert other.status_code == 422
    assert other.json()["errors"][0]["extensions"]["code"] == "idempotency_key_reused"
    assert _count(tenant_a) == before + 1
    assert IdempotencyRecord.objects.filter(key="sensor-42-001",
                                            schema_name=tenant_a.schema_name).count() == 1


def test_same_key_on_another_pemda_is_another_request(tenant_a, tenant_b, host_client, writer,
                                                      make_token):
    other = make_token(scope="tenant", access="read_write", schema_name=tenant_b.schema_name)[1]
    gql(host_client(tenant_a), CREATE, _input(), token=writer, Idempotency_Key="k-shared")
    body = {"input": {**_input()["input"], "latitude": -7.45, "longitude": 112.7,
                      "address": "Sidoarjo"}}
    response = gql(host_client(tenant_b), CREATE, body, token=other, Idempotency_Key="k-shared")
    assert response.status_code == 200
    assert response.json()["data"]["createIncident"]["created"] is True


def _pending_dispatch(tenant, agency="damkar"):
    from django.contrib.auth import get_user_model

    from incidents.services import dispatching
    from incidents.services import incidents as incident_services

    with schema_context(tenant.schema_name):
        op = get_user_model().objects.get(username="operator1")
        incident = incident_services.incident_create(
            data=incident_services.IncidentInput(category="fire", description="d", latitude=2.7,
                                                 longitude=98.3, address="a"),
            actor=op, is_test=True, force=True).incident
        (dispatch,) = dispatching.dispatch_create(
            incident_id=incident.pk, agency_ids=[Agency.objects.get(code=agency).pk], actor=op)
        return dispatch


def _status(tenant, dispatch):
    with schema_context(tenant.schema_name):
        return Dispatch.objects.get(pk=dispatch.pk).status


def test_update_dispatch_status(tenant_a, host_client, session_client, tenant_user, writer,
                                reader):
    dispatch = _pending_dispatch(tenant_a)
    client = host_client(tenant_a)
    refused = gql(client, ADVANCE, {"id": dispatch.pk, "status": "acknowledged"}, token=reader)
    assert refused.json()["data"]["updateDispatchStatus"]["errors"][0]["code"] == "forbidden"
    polres = session_client(tenant_a, tenant_user(tenant_a, "psc119"))
    hidden = gql(polres, ADVANCE, {"id": dispatch.pk, "status": "acknowledged"}).json()
    assert hidden["data"]["updateDispatchStatus"]["errors"][0]["code"] == "not_found"
    assert _status(tenant_a, dispatch) == "pending"
    skip = gql(client, ADVANCE, {"id": dispatch.pk, "status": "arrived"}, token=writer).json()
    error = skip["data"]["updateDispatchStatus"]["errors"][0]
    assert error["field"] == "status" and error["code"] == "conflict"
    assert _status(tenant_a, dispatch) == "pending"
    ok = gql(client, ADVANCE, {"id": dispatch.pk, "status": "acknowledged", "version": 1},
             token=writer).json()["data"]["updateDispatchStatus"]
    assert ok == {"dispatch": {"status": "acknowledged"}, "errors": []}
    stale = gql(client, ADVANCE, {"id": dispatch.pk, "status": "departed", "version": 1},
                token=writer).json()["data"]["updateDispatchStatus"]
    assert stale["errors"][0]["field"] == "version"
    damkar = session_client(tenant_a, tenant_user(tenant_a, "damkar"))
    moved = gql(damkar, ADVANCE, {"id": dispatch.pk, "status": "departed"}).json()
    assert moved["data"]["updateDispatchStatus"]["dispatch"]["status"] == "departed"
    missing = gql(client, ADVANCE, {"id": "x1", "status": "arrived"}, token=writer).json()
    assert missing["data"]["updateDispatchStatus"]["errors"][0]["code"] == "not_found"


def test_add_note(tenant_a, host_client, writer, reader):
    dispatch = _pending_dispatch(tenant_a)
    client = host_client(tenant_a)
    denied = gql(client, NOTE, {"id": dispatch.incident_id, "text": "x"}, token=reader).json()
    assert denied["data"]["addNote"]["errors"][0]["code"] == "forbidden"
    empty = gql(client, NOTE, {"id": dispatch.incident_id, "text": " "}, token=writer).json()
    assert empty["data"]["addNote"]["errors"][0]["field"] == "text"
    done = gql(client, NOTE, {"id": dispatch.incident_id, "text": "Pusdalops: 2 unit BPBD"},
               token=writer).json()["data"]["addNote"]
    assert done["errors"] == []
    assert done["incident"]["timeline"][-1] == {"kind": "note",
                                                "data": json.dumps({"text": "Pusdalops: 2 unit BPBD"})}
    with schema_context(tenant_a.schema_name):
        assert TimelineEntry.objects.filter(incident_id=dispatch.incident_id, kind="note").count() == 1
