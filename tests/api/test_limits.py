"""Protection from outside: query cost and operations per document are refused
before running, batches too, and an unexpected failure never shows its text
or a stack trace."""

from __future__ import annotations

import json

from tests.api.conftest import gql

DEEP_LISTS = """{ allIncidents(first: 100) { edges { node { reference
  dispatches { agencyCode } timeline { kind } } } }
  allDispatches(first: 100) { edges { node { agencyCode } } } }"""


def test_costly_query_is_refused_before_it_runs(tenant_a, host_client, make_token, settings):
    _t, raw = make_token(scope="tenant", schema_name=tenant_a.schema_name)
    client = host_client(tenant_a)
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_COST": 1000}
    refused = gql(client, DEEP_LISTS, token=raw)
    assert refused.status_code == 400
    message = refused.json()["errors"][0]["message"]
    assert "query cost is" in message and "at most 1000" in message
    assert "data" not in refused.json()
    small = gql(client, DEEP_LISTS.replace("first: 100", "first: 5"), token=raw)
    assert small.status_code == 200 and "errors" not in small.json()
    # The same limit through a variable.
    variables = gql(client, "query($n: Int) { allIncidents(first: $n) { edges { node { "
                    "timeline { kind } dispatches { status } } } } }", {"n": 100}, token=raw)
    assert variables.status_code == 400


def test_operations_per_document_are_capped(tenant_a, host_client):
    document = " ".join(f"query q{i} {{ __typename }}" for i in range(6))
    response = host_client(tenant_a).post(
        "/graphql/", data=json.dumps({"query": document, "operationName": "q0"}),
        content_type="application/json")
    assert response.status_code == 400
    assert "6 operations" in response.json()["errors"][0]["message"]


def test_batches_are_refused(tenant_a, host_client):
    response = host_client(tenant_a).post(
        "/graphql/", data=json.dumps([{"query": "{ __typename }"}] * 3),
        content_type="application/json")
    assert response.status_code == 400 and "batch" in response.json()["errors"][0]["message"]


def test_an_unexpected_failure_carries_no_trace(tenant_a, host_client, make_token, monkeypatch):
    from incidents import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("relation pemda_secret.table does not exist at /srv/app/x.py line 3")

    monkeypatch.setattr(selectors, "incident_search", broken)
    _t, raw = make_token(scope="tenant", schema_name=tenant_a.schema_name)
    response = gql(host_client(tenant_a), "{ allIncidents { edges { cursor } } }", token=raw)
    assert response.status_code == 200
    text = response.content.decode()
    assert "pemda_secret" not in text and "Traceback" not in text and ".py" not in text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "internal" and error["message"].startswith("Internal")
