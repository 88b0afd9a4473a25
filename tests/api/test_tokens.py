"""API tokens from outside: created by the right people only, shown once and
stored hashed, audited; on /graphql/ a token reads its own scope and nothing
else, and an unknown, revoked or expired one gets a 401 saying which."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from audit.models import AuditEntry
from integration.models import ApiToken
from integration.services import api_token_create, api_token_revoke
from tests.api.conftest import gql

LIST = "{ allIncidents(first: 5) { edges { node { reference caller } } } }"


def test_token_is_shown_once_stored_hashed_and_audited(tenant_a, tenant_user):
    admin = tenant_user(tenant_a, "admin")
    with schema_context(tenant_a.schema_name):
        made = api_token_create(actor=admin, name="Pusdalops provinsi", scope="tenant",
                                access="read", days=30, schema_name=tenant_a.schema_name)
        secret = made.raw.split("_", 2)[2]
        stored = ApiToken.objects.get(pk=made.token.pk)
        assert secret not in stored.secret_hash and made.raw not in str(stored.__dict__)
        assert stored.secret_hash == __import__("hashlib").sha256(made.raw.encode()).hexdigest()
        entry = AuditEntry.objects.get(action="api_token.created", target_id=str(stored.pk))
        assert entry.actor_username == "admin" and secret not in str(entry.after)
        api_token_revoke(token_id=stored.pk, actor=admin,
                         visible=ApiToken.objects.filter(schema_name=tenant_a.schema_name))
        assert AuditEntry.objects.filter(action="api_token.revoked",
                                         target_id=str(stored.pk)).count() == 1
        assert ApiToken.objects.get(pk=stored.pk).revoked_at is not None


@pytest.mark.parametrize("bad", [
    {"name": ""}, {"scope": "galaxy"}, {"access": "admin"}, {"days": 0}, {"days": 10_000},
])
def test_bad_token_input_names_the_field(tenant_a, bad):
    from core.errors import DomainError

    args = {"actor": None, "name": "x", "scope": "tenant", "access": "read", "days": 5,
            "schema_name": tenant_a.schema_name, **bad}
    before = ApiToken.objects.count()
    with pytest.raises(DomainError) as err:
        api_token_create(**args)
    assert err.value.error_field() == next(iter(bad))
    assert ApiToken.objects.count() == before


def test_tenant_token_reads_its_own_pemda_only(tenant_a, tenant_b, host_client, make_token):
    _t, raw = make_token(scope="tenant", schema_name=tenant_a.schema_name)
    own = gql(host_client(tenant_a), LIST, token=raw)  # CSRF enforced: a token needs none
    assert own.status_code == 200, own.content
    assert "errors" not in own.json()
    for edge in own.json()["data"]["allIncidents"]["edges"]:
        assert "*" in edge["node"]["caller"] or edge["node"]["caller"] == ""  # never the number
    other = gql(host_client(tenant_b), LIST, token=raw)
    assert other.status_code == 401
    assert "another Pemda" in other.json()["errors"][0]["message"]
    assert "data" not in other.json()
    public = gql(host_client(None), "{ provinces { name } }", token=raw)
    assert public.status_code == 401


@pytest.mark.parametrize(("kind", "message"), [
    ("expired", "expired"), ("revoked", "revoked"), ("unknown", "unknown"), ("garbled", "unknown"),
    ("scheme", "Bearer"),
])
def test_unusable_tokens_get_401_with_a_clear_message(tenant_a, host_client, make_token, kind,
                                                      message):
    if kind == "expired":
        _t, raw = make_token(scope="tenant", schema_name=tenant_a.schema_name,
                             expires_in=timedelta(seconds=-1))
    elif kind == "revoked":
        _t, raw = make_token(scope="tenant", schema_name=tenant_a.schema_name, revoked=True)
    elif kind == "unknown":
        _t, good = make_token(scope="tenant", schema_name=tenant_a.schema_name)
        raw = good[:-4] + "AAAA"
    else:
        raw = "s112_nothing"
    client = host_client(tenant_a)
    if kind == "scheme":
        response = client.post("/graphql/", data='{"query": "{ __typename }"}',
                               content_type="application/json", HTTP_AUTHORIZATION="Basic abc")
    else:
        response = gql(client, LIST, token=raw)
    assert response.status_code == 401
    body = response.json()
    assert message in body["errors"][0]["message"] and "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "invalid_token"


def test_province_token_on_a_tenant_host_is_refused(tenant_b, host_client, make_token):
    _t, raw = make_token(scope="province", province_code="35")
    response = gql(host_client(tenant_b), LIST, token=raw)
    assert response.status_code == 401 and "national host" in response.json()["errors"][0]["message"]


def test_last_use_is_recorded_at_most_once_a_minute(tenant_a, host_client, make_token):
    token, raw = make_token(scope="tenant", schema_name=tenant_a.schema_name)
    assert token.last_used_at is None
    client = host_client(tenant_a)
    gql(client, "{ __typename }", token=raw)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    gql(client, "{ __typename }", token=raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    gql(client, "{ __typename }", token=raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_each_token_has_its_own_rate_limit(tenant_a, host_client, make_token, settings):
    settings.THROTTLE = {**settings.THROTTLE, "GRAPHQL_REQUESTS_PER_TOKEN": (3, 60)}
    _a, raw_a = make_token(scope="tenant", schema_name=tenant_a.schema_name)
    _b, raw_b = make_token(scope="tenant", schema_name=tenant_a.schema_name)
    client = host_client(tenant_a)
    codes = [gql(client, "{ __typename }", token=raw_a).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert gql(client, "{ __typename }", token=raw_b).status_code == 200


def test_me_is_null_for_a_token(tenant_a, host_client, make_token):
    _t, raw = make_token(scope="tenant", schema_name=tenant_a.schema_name)
    assert gql(host_client(tenant_a), "{ me { username } }", token=raw).json() == {
        "data": {"me": None}}


def test_national_token_reads_onboarding_like_the_auditor(host_client, make_token):
    _t, raw = make_token(scope="national")
    response = gql(host_client(None), "{ provinces { name } }", token=raw)
    assert response.status_code == 200 and response.json()["data"]["provinces"]
    assert connection.schema_name == "public"


@pytest.mark.parametrize(("scope", "state", "host", "status"), [
    ("tenant", "active", "own", 200), ("tenant", "active", "other", 401),
    ("tenant", "active", "public", 401), ("tenant", "expired", "own", 401),
    ("tenant", "revoked", "own", 401),
    ("province", "active", "public", 200), ("province", "active", "own", 401),
    ("province", "expired", "public", 401), ("province", "revoked", "public", 401),
    ("national", "active", "public", 200), ("national", "active", "own", 401),
    ("national", "revoked", "public", 401),
])
def test_scope_matrix(tenant_a, tenant_b, host_client, make_token, scope, state, host, status):
    kwargs = {"scope": scope, "expires_in": timedelta(seconds=-1) if state == "expired"
              else timedelta(days=1), "revoked": state == "revoked"}
    if scope == "tenant":
        kwargs["schema_name"] = tenant_a.schema_name
    if scope == "province":
        kwargs["province_code"] = "12"
    _t, raw = make_token(**kwargs)
    tenant = {"own": tenant_a, "other": tenant_b, "public": None}[host]
    query = LIST if tenant is not None else "{ provinceIncidentEvents { hasMore } }"
    response = gql(host_client(tenant), query, token=raw)
    assert response.status_code == status, response.content
    if status == 200:
        assert "errors" not in response.json()
    else:
        assert "data" not in response.json()
