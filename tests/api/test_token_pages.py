"""The token pages from outside: a Pemda admin on their own host, the national
officer on the national host; everyone else 403 with nothing created."""

from __future__ import annotations

import re

from django_tenants.utils import schema_context

from accounts.models import User
from integration.models import ApiToken
from tests.api.conftest import gql


def _public_user(username: str) -> User:
    with schema_context("public"):
        return User.objects.get(username=username)


def _raw(response) -> str:
    match = re.search(r'id="raw-token">(s112_[^<]+)<', response.content.decode())
    assert match, response.content[:500]
    return match.group(1)


def test_pemda_admin_creates_shows_once_and_revokes(tenant_a, tenant_b, session_client,
                                                    tenant_user, host_client):
    admin = session_client(tenant_a, tenant_user(tenant_a, "admin"))
    response = admin.post("/manage/tokens/", {"name": "Aplikasi provinsi", "access": "read_write",
                                              "days": "30"})
    assert response.status_code == 200
    raw = _raw(response)
    token = ApiToken.objects.get(prefix=raw.split("_")[1])
    assert token.scope == "tenant" and token.schema_name == tenant_a.schema_name and token.writes
    listing = admin.get("/manage/tokens/").content.decode()
    assert token.prefix in listing and raw not in listing  # never shown again
    assert gql(host_client(tenant_a), "{ __typename }", token=raw).status_code == 200
    # Another Pemda's admin cannot revoke it (it is not in their list): 404, unchanged.
    other = session_client(tenant_b, tenant_user(tenant_b, "admin"))
    assert other.post("/manage/tokens/", {"revoke": token.pk}).status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert admin.post("/manage/tokens/", {"revoke": token.pk}).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    refused = gql(host_client(tenant_a), "{ __typename }", token=raw)
    assert refused.status_code == 401 and "revoked" in refused.json()["errors"][0]["message"]


def test_wrong_roles_cannot_make_tokens(tenant_a, session_client, tenant_user, client_for):
    with schema_context("public"):
        before = ApiToken.objects.count()
    for username in ("operator1", "supervisor", "bupati"):
        client = session_client(tenant_a, tenant_user(tenant_a, username))
        assert client.post("/manage/tokens/", {"name": "x"}).status_code == 403
    anonymous = client_for(tenant_a).post("/manage/tokens/", {"name": "x"})
    assert anonymous.status_code == 302
    for username in ("prov.jatim", "auditor", "koordinator.dairi"):
        client = session_client(None, _public_user(username))
        assert client.post("/integrasi/token/", {"name": "x", "scope": "national"}
                           ).status_code == 403
    with schema_context("public"):
        assert ApiToken.objects.count() == before


def test_national_officer_makes_province_tokens(session_client, public_client):
    officer = session_client(None, _public_user("nasional"))
    response = officer.post("/integrasi/token/", {"name": "Pusdalops Jatim", "scope": "province",
                                                  "province": "35", "access": "read",
                                                  "days": "90"})
    assert response.status_code == 200
    raw = _raw(response)
    token = ApiToken.objects.get(prefix=raw.split("_")[1])
    assert (token.scope, token.province_code, token.schema_name) == ("province", "35", "")
    feed = gql(public_client, "{ provinceIncidentEvents { hasMore } }", token=raw)
    assert feed.status_code == 200 and "errors" not in feed.json()
    bad = officer.post("/integrasi/token/", {"name": "x", "scope": "province", "province": "99"},
                       HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and bad.json()["field"] == "province"
    tenant = officer.post("/integrasi/token/", {"name": "x", "scope": "tenant"},
                          HTTP_ACCEPT="application/json")
    assert tenant.status_code == 400 and tenant.json()["field"] == "scope"
