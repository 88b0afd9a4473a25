"""Relay connections from outside: keyset pages that add up to the whole list,
a maximum page size, filters, and a query count that does not grow with rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from incidents.models import Agency, Incident
from incidents.services import dispatching
from incidents.services import incidents as incident_services
from tests.api.conftest import gql

PAGE = """query($first: Int, $after: String, $status: String, $category: String,
                $agency: String, $since: DateTime) {
  allIncidents(first: $first, after: $after, status: $status, category: $category,
               agency: $agency, createdAfter: $since) {
    edges { cursor node { reference category status dispatches { agencyCode } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

NESTED = """{ allIncidents(first: 50) { edges { node { reference category
  dispatches { agencyCode incidentReference status } timeline { kind actor } } } } }"""


def _add(tenant, start, n, *, category="fire", agency="damkar"):
    made = []
    with schema_context(tenant.schema_name):
        op = User.objects.get(username="operator1")
        agency_pk = Agency.objects.get(code=agency).pk
        for i in range(start, start + n):
            inc = incident_services.incident_create(
                data=incident_services.IncidentInput(
                    category=category, description=f"api {i}", latitude=2.5 + i / 1000,
                    longitude=98.5, address="x", idempotency_key=f"api-conn-{tenant.pk}-{i}"),
                actor=op, is_test=True, force=True).incident
            dispatching.dispatch_create(incident_id=inc.pk, agency_ids=[agency_pk], actor=op)
            made.append(inc.reference)
    return made


@pytest.fixture
def reader(tenant_a, make_token):
    return make_token(scope="tenant", schema_name=tenant_a.schema_name)[1]


def _all_pages(client, token, **variables):
    seen, after = [], None
    for _ in range(100):
        body = gql(client, PAGE, {**variables, "after": after}, token=token).json()
        assert "errors" not in body, body
        page = body["data"]["allIncidents"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pages never ended")


def test_pages_add_up_to_the_list_once_each(tenant_a, host_client, reader):
    started = timezone.now()
    made = _add(tenant_a, 0, 5) + _add(tenant_a, 5, 2, category="crime", agency="polres")
    client = host_client(tenant_a)
    nodes = _all_pages(client, reader, first=2)
    references = [n["reference"] for n in nodes]
    assert len(references) == len(set(references))
    with schema_context(tenant_a.schema_name):
        assert set(references) == set(Incident.objects.values_list("reference", flat=True))
    assert set(made) <= set(references)
    fire = {n["reference"] for n in _all_pages(client, reader, first=3, category="fire")}
    assert set(made[:5]) <= fire and not set(made[5:]) & fire
    polres = {n["reference"] for n in _all_pages(client, reader, first=100, agency="polres")}
    assert set(made[5:]) <= polres and not set(made[:5]) & polres
    dispatched = _all_pages(client, reader, first=100, status="dispatched")
    assert {n["status"] for n in dispatched} == {"dispatched"}
    recent = _all_pages(client, reader, first=100,
                        since=(started - timedelta(milliseconds=1)).isoformat())
    assert {n["reference"] for n in recent} == set(made)


@pytest.mark.parametrize(("variables", "field"), [
    ({"first": 101}, "first"), ({"first": 0}, "first"), ({"after": "bm9wZQ=="}, "after"),
])
def test_page_size_and_cursor_are_checked(tenant_a, host_client, reader, variables, field):
    body = gql(host_client(tenant_a), PAGE, variables, token=reader).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["field"] == field


def _count(client, token):
    with CaptureQueriesContext(connection) as ctx:
        body = gql(client, NESTED, token=token).json()
    assert "errors" not in body, body
    return (len(body["data"]["allIncidents"]["edges"]),
            sum(1 for q in ctx.captured_queries if not q["sql"].startswith("SET search_path")))


def test_list_query_count_does_not_grow_with_rows(tenant_a, host_client, reader):
    client = host_client(tenant_a)
    _add(tenant_a, 100, 2)
    gql(client, NESTED, token=reader)  # warm caches
    rows_few, few = _count(client, reader)
    _add(tenant_a, 102, 10, category="crime", agency="polres")
    rows_many, many = _count(client, reader)
    assert rows_many >= rows_few + 10
    assert many == few, (few, many)
    assert few <= 8, few  # tenant, token, last use, page, dispatches, timeline


def test_anonymous_and_wrong_role_read_nothing(tenant_a, host_client, session_client,
                                               tenant_user):
    _add(tenant_a, 200, 1)
    anonymous = gql(host_client(tenant_a), PAGE, {"first": 5}).json()
    assert anonymous["data"]["allIncidents"]["edges"] == []
    admin = gql(session_client(tenant_a, tenant_user(tenant_a, "admin")), PAGE, {"first": 5})
    assert admin.json()["data"]["allIncidents"]["edges"] == []
    damkar = gql(session_client(tenant_a, tenant_user(tenant_a, "damkar")), PAGE,
                 {"first": 100}).json()["data"]["allIncidents"]["edges"]
    assert damkar and {d["agencyCode"] for e in damkar for d in e["node"]["dispatches"]} == {
        "damkar"}


def test_dispatch_connection_filters_by_agency_and_status(tenant_a, host_client, reader):
    _add(tenant_a, 300, 2, category="crime", agency="polres")
    body = gql(host_client(tenant_a), """{ allDispatches(first: 100, agency: "polres",
        status: "pending") { edges { node { agencyCode status } } pageInfo { hasNextPage } } }""",
               token=reader).json()
    edges = body["data"]["allDispatches"]["edges"]
    assert len(edges) >= 2
    assert {(e["node"]["agencyCode"], e["node"]["status"]) for e in edges} == {("polres", "pending")}
